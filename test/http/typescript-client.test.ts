import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import ts from 'typescript'
import { walkLifecycle } from '../../examples/typescript-client/journey.js'
import { testApp } from '../helper.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const example = path.join(root, 'examples/typescript-client')
const bin = (name: string) => path.join(root, 'node_modules/.bin', name)

t.test('the generated client types are the committed ones, and compile with --strict and no casts', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'client-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await run(bin('openapi-typescript'), ['openapi/openapi.json', '-o', path.join(dir, 'schema.d.ts'), '--default-non-nullable', 'false'], { cwd: root })
  t.equal(readFileSync(path.join(dir, 'schema.d.ts'), 'utf8'), readFileSync(path.join(example, 'schema.d.ts'), 'utf8'), 'run `npm run client:generate` after changing the document')
  const types = readFileSync(path.join(example, 'schema.d.ts'), 'utf8')
  t.match(types, /\n {8}Complaint: \{/, 'the generated types name Complaint')
  t.match(types, /\n {8}Problem: \{/, 'and Problem')
  const compiled = await run(bin('tsc'), ['-p', path.join(example, 'tsconfig.json')], { cwd: root }).then(() => 'ok', (err: { stdout: string }) => err.stdout)
  t.equal(compiled, 'ok', 'tsc --strict accepts the example')
  // casts found by the compiler's own parser: `x as T`, `<T>x`, `x!` (an `as const` is not a cast)
  const file = ts.createSourceFile('journey.ts', readFileSync(path.join(example, 'journey.ts'), 'utf8'), ts.ScriptTarget.ES2022, true)
  const casts: string[] = []
  const visit = (node: ts.Node): void => {
    const asConst = ts.isAsExpression(node) && ts.isTypeReferenceNode(node.type) && node.type.typeName.getText(file) === 'const'
    if ((ts.isAsExpression(node) && !asConst) || ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node)) casts.push(node.getText(file))
    ts.forEachChild(node, visit)
  }
  visit(file)
  t.same(casts, [], 'no type assertions or non-null assertions')
})

t.test('the generated client walks a complaint from receipt to first-time closure against the service', async (t) => {
  const api = await testApp(t)
  await api.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = api.app.server.address() as { port: number }
  const keys = { cs: await api.keyFor('cs_agent'), department: await api.keyFor('department:service-station'), management: await api.keyFor('management') }
  const closed = await walkLifecycle(`http://127.0.0.1:${port}`, keys)
  t.equal(closed.status, 'closed')
  t.equal(closed.closureType, 'first_time')
  t.match(closed.reference, /^CP-\d{4}-\d{6}$/)
  const timeline = (await api.call('GET', `/v1/complaints/${closed.id}/timeline`)).json.items.map((e: { action: string }) => e.action)
  t.same(timeline, ['receive', 'acknowledge', 'assess', 'handover', 'sign', 'reply', 'record_investigation', 'request_closure', 'record_callback', 'close'])
})
