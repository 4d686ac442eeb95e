// npm run test:faults [-- name …]: the fault tests (test/faults/), against the machine's Postgres
// (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test), then their summary table — the
// table of docs/reliability.md. `-- kill fuzz` runs those two; `--write` also puts the table into
// docs/reliability.md. Exits non-zero when a test fails or leaves no result.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dir = path.join(root, 'test/faults')
const reports = process.env.FAULTS_REPORT_DIR ?? path.join(root, '.faults')
const all = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).map((f) => f.replace(/\.test\.ts$/, ''))
const args = process.argv.slice(2)
const write = args.includes('--write')
const names = args.filter((a) => !a.startsWith('--'))
const unknown = names.filter((n) => !all.includes(n))
if (unknown.length > 0) {
  console.error(`unknown fault test ${unknown.join(', ')}; there are: ${all.join(', ')}`)
  process.exit(2)
}
// the table's order: the order of faults, anything new at the end
const ORDER = ['fuzz', 'invariants', 'kill', 'database-away', 'job-crash', 'replicas', 'receiver-outage', 'overload', 'shutdown', 'concurrency']
const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length)
const chosen = (names.length > 0 ? names : all).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
if (write && names.length > 0) {
  console.error('--write writes the table of every fault test: run it without names')
  process.exit(2)
}

rmSync(reports, { recursive: true, force: true })
const started = performance.now()
/**
 * the two longest tests (about two minutes each in CI, the others under one): tap runs its files in
 * alphabetical order, which started them third and eighth; they now run from the start in a tap of
 * their own beside the others' (four files at a time in all, as before). Each tap's output is printed
 * when it ends, so the two do not interleave.
 */
const LONGEST = ['fuzz', 'receiver-outage']
const groups = [chosen.filter((n) => LONGEST.includes(n)), chosen.filter((n) => !LONGEST.includes(n))].filter((g) => g.length > 0)
const runTap = (names: string[], jobs: number) => new Promise<number>((resolve) => {
  const child = spawn('npx', ['tap', '--disable-coverage', '--timeout=600', `--jobs=${jobs}`, ...names.map((n) => `test/faults/${n}.test.ts`)], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', FAULTS_REPORT_DIR: reports },
  })
  const output: Buffer[] = []
  child.stdout.on('data', (d: Buffer) => output.push(d))
  child.stderr.on('data', (d: Buffer) => output.push(d))
  child.on('close', (c, signal) => {
    process.stdout.write(Buffer.concat(output))
    resolve(c ?? (signal ? 1 : 0))
  })
})
const codes = await Promise.all(groups.map((g) => runTap(g, groups.length > 1 ? 2 : 4)))
const code = codes.find((c) => c !== 0) ?? 0
const minutes = ((performance.now() - started) / 60_000).toFixed(1)

interface Row { name: string; fault: string; tried: string; cases: string; result: string; seconds: number }
const rows = chosen.map((name): Row => {
  const file = path.join(reports, `${name}.json`)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Row
    : { name, fault: name, tried: '', cases: '', result: 'FAIL (no result: the test did not finish)', seconds: 0 }
})
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
const table = [
  '| Fault | What is done | Cases | Result | Time | Reproduce |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${cell(r.fault)} | ${cell(r.tried)} | ${cell(r.cases)} | ${r.result} | ${r.seconds} s | \`npm run test:faults -- ${r.name}\` |`),
].join('\n')
const failed = rows.filter((r) => r.result !== 'pass')
console.log(`\n## Fault tests: ${rows.length - failed.length} of ${rows.length} pass (${minutes} min)\n\n${table}\n`)

if (write) {
  const doc = path.join(root, 'docs/reliability.md')
  const text = readFileSync(doc, 'utf8')
  const begin = '<!-- faults:begin -->'
  const end = '<!-- faults:end -->'
  if (!text.includes(begin) || !text.includes(end)) throw new Error(`${doc} has no ${begin} … ${end} block`)
  writeFileSync(doc, text.replace(new RegExp(`${begin}[\\s\\S]*${end}`), `${begin}\n${table}\n${end}`))
  console.log(`wrote the table into ${path.relative(root, doc)}`)
}
process.exit(code !== 0 || failed.length > 0 ? 1 : 0)
