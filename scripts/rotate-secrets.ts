// npm run secrets:rotate: seals every stored webhook signing secret with SECRETS_KEY.
// Rotating the key: set SECRETS_KEY to a new key and SECRETS_KEY_PREVIOUS to the old one, run this
// (or start the service: it does the same at start), then drop SECRETS_KEY_PREVIOUS.
// It also seals secrets stored in plain text by versions before encryption. Safe to run twice, and
// while replicas run (row locks); on the embedded database stop the service first (one process per data directory).
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/open.js'
import { sealStoredSecrets, secretBox, withEmbeddedSecretsKey } from '../src/webhooks/secrets.js'

const config = await withEmbeddedSecretsKey(loadConfig(), (msg) => console.error(msg))
const handle = await openDatabase(config)
try {
  const sealed = await sealStoredSecrets(handle.db, secretBox(config.SECRETS_KEY, config.SECRETS_KEY_PREVIOUS))
  console.log(sealed === 0 ? 'every webhook secret is already sealed with SECRETS_KEY' : `sealed ${sealed} subscription(s)' secrets with SECRETS_KEY; SECRETS_KEY_PREVIOUS can now be removed`)
} catch (err) {
  console.error((err as Error).message)
  process.exitCode = 1
} finally {
  await handle.close()
}
