import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { ADMIN_KEY, call, root, startServer } from '../faults/support.js'

/**
 * Webhook signing secrets at rest, as an operator meets them (docs/operations.md): the embedded
 * database generates its key; a key that cannot open the stored secrets stops the start; the
 * rotation command re-seals them with the new key; the service then starts on the new key alone.
 * The server runs on the embedded database, like `npm start` on a fresh clone.
 */
const run = promisify(execFile)
const keyA = Buffer.alloc(32, 1).toString('base64')
const keyB = Buffer.alloc(32, 2).toString('hex')

t.test('secrets key: generated on the embedded database, refused when wrong, rotated by re-encryption', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const embedded = (env: Record<string, string>) => ({ DATA_DIR: dir, DATABASE_URL: '', SECRETS_KEY: '', ...env })

  // no SECRETS_KEY on the embedded database: one is generated into the data directory
  const first = await startServer(t, '', embedded({}))
  const created = await call(first.base, ADMIN_KEY, 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hooks', eventTypes: ['complaint.received'] })
  t.equal(created.status, 201)
  t.match(first.out.text, /generated one into .*secrets\.key/)
  t.equal(statSync(path.join(dir, 'secrets.key')).mode & 0o777, 0o600, 'readable by the service’s user only')
  first.signal('SIGTERM')
  t.equal((await first.exited).code, 0)

  // another key, without the one that sealed them: the start is refused, with the reason
  await t.rejects(startServer(t, '', embedded({ SECRETS_KEY: keyB })), /neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS/)

  // the rotation: new key, old key as previous; the command re-seals and says so
  const generated = (await import('node:fs')).readFileSync(path.join(dir, 'secrets.key'), 'utf8').trim()
  const rotate = (env: Record<string, string>) => run(process.execPath, ['dist/scripts/rotate-secrets.js'], { cwd: root, env: { PATH: process.env.PATH, ...embedded(env) } })
  t.match((await rotate({ SECRETS_KEY: keyB, SECRETS_KEY_PREVIOUS: generated })).stdout, /sealed 1 subscription/)
  t.match((await rotate({ SECRETS_KEY: keyB })).stdout, /already sealed/, 'a second run has nothing to do')

  const second = await startServer(t, '', embedded({ SECRETS_KEY: keyB }))
  const rotated = await call(second.base, ADMIN_KEY, 'POST', `/v1/webhooks/${created.json.id}/rotate-secret`, {})
  t.equal(rotated.status, 200, 'the service runs on the new key alone')
  second.signal('SIGTERM')
  await second.exited

  // a bad key never gets that far: the configuration check names it
  await t.rejects(startServer(t, '', embedded({ SECRETS_KEY: keyA.slice(0, 40) })), /SECRETS_KEY: must be 32 bytes/)
})
