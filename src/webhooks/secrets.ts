import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Kysely } from 'kysely'
import type { Config } from '../config.js'
import type { Database } from '../db/types.js'
import { ProblemError } from '../errors.js'

/**
 * Webhook signing secrets at rest: AES-256-GCM (node:crypto) with a key from the environment
 * (SECRETS_KEY, 32 bytes as base64 or hex). A stored secret reads `enc:v1:<key id>:<iv>:<tag>:<ciphertext>`;
 * the key id (the start of the key's SHA-256) says which key sealed it, so a rotation can re-encrypt
 * with the new key while the previous one (SECRETS_KEY_PREVIOUS) still opens what it sealed.
 * The service must sign with the secrets, so they cannot be hashed like API keys.
 */
const PREFIX = 'enc:v1:'

export interface SecretBox {
  /** true when a key is configured */
  readonly available: boolean
  seal(plain: string): string
  open(stored: string): string
  /** sealed with the current key (nothing to re-encrypt) */
  current(stored: string): boolean
}

export function parseKey(text: string, name: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64')
  if (key.length !== 32) throw new Error(`${name}: must be 32 bytes, as 64 hex digits or base64 (e.g. \`openssl rand -base64 32\`)`)
  return key
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8)

export function secretBox(current: string | undefined, previous?: string): SecretBox {
  const keys = new Map<string, Buffer>()
  const now = current ? parseKey(current, 'SECRETS_KEY') : undefined
  if (now) keys.set(keyId(now), now)
  if (previous) { const old = parseKey(previous, 'SECRETS_KEY_PREVIOUS'); keys.set(keyId(old), old) }
  const missing = () => new ProblemError({
    status: 503, code: 'secrets-key-missing', title: 'Service Unavailable',
    detail: 'webhook signing secrets are stored encrypted, and this installation has no SECRETS_KEY: the operator must set one (see the README)',
  })
  return {
    available: now !== undefined,
    seal(plain) {
      if (!now) throw missing()
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', now, iv)
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return `${PREFIX}${keyId(now)}:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${data.toString('base64')}`
    },
    open(stored) {
      // a secret stored before encryption existed opens as itself until the key rotation command seals it
      if (!stored.startsWith(PREFIX)) return stored
      const [id, iv, tag, data] = stored.slice(PREFIX.length).split(':') as [string, string, string, string]
      const key = keys.get(id)
      if (!key) throw new Error(`a webhook secret was sealed with key ${id}, which is neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS`)
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'))
      decipher.setAuthTag(Buffer.from(tag, 'base64'))
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8')
    },
    current: (stored) => now !== undefined && stored.startsWith(`${PREFIX}${keyId(now)}:`),
  }
}

/**
 * At start: subscriptions whose secrets this process cannot open mean it must not start (it could not
 * sign their deliveries); secrets not sealed with the current key are sealed with it now — plain ones
 * from before encryption, or ones of the previous key after a rotation. Idempotent, safe on replicas
 * starting together (row locks). Returns how many were sealed again.
 */
export async function sealStoredSecrets(db: Kysely<Database>, box: SecretBox): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('webhook_subscriptions').select(['id', 'secret', 'previous_secret']).forUpdate().execute()
    if (rows.length === 0) return 0
    if (!box.available) throw new Error(`${rows.length} webhook subscription(s) exist and SECRETS_KEY is not set: their signing secrets cannot be read or stored. Set SECRETS_KEY (and SECRETS_KEY_PREVIOUS during a rotation).`)
    let sealed = 0
    for (const row of rows) {
      const secret = box.current(row.secret) ? row.secret : box.seal(box.open(row.secret))
      const previous = row.previous_secret === null || box.current(row.previous_secret) ? row.previous_secret : box.seal(box.open(row.previous_secret))
      if (secret === row.secret && previous === row.previous_secret) continue
      await trx.updateTable('webhook_subscriptions').set({ secret, previous_secret: previous }).where('id', '=', row.id).execute()
      sealed++
    }
    return sealed
  })
}

/**
 * The embedded database needs no setup, and neither does its key: with no DATABASE_URL and no
 * SECRETS_KEY, a key is generated once into DATA_DIR/secrets.key (mode 600) and used from then on.
 * It lies beside the data it protects, so on a server set SECRETS_KEY and keep the key elsewhere.
 * On Postgres nothing is generated: the operator's key must come from the environment.
 */
export async function withEmbeddedSecretsKey(config: Config, warn: (msg: string) => void = () => {}): Promise<Config> {
  if (config.SECRETS_KEY || config.DATABASE_URL) return config
  const file = path.join(config.DATA_DIR, 'secrets.key')
  try {
    return { ...config, SECRETS_KEY: (await readFile(file, 'utf8')).trim() }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const key = randomBytes(32).toString('base64')
  try {
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    // another process wrote it first: use theirs
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { ...config, SECRETS_KEY: (await readFile(file, 'utf8')).trim() }
    throw err
  }
  warn(`SECRETS_KEY is not set: generated one into ${file} to encrypt webhook secrets on the embedded database (set SECRETS_KEY to keep the key elsewhere)`)
  return { ...config, SECRETS_KEY: key }
}
