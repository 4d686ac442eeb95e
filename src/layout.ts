import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Where the running code's files are, whichever way it runs: from the TypeScript sources (tsx:
 * `src/…`), compiled (`dist/src/…`, `dist/scripts/…`) or as the service's bundle (`dist/server.js`,
 * scripts/bundle.ts). The root is the nearest directory above this module holding `migrations/`: the
 * repository when running from the sources, `dist/` otherwise (the compiled migrations are there).
 */
export const LAYOUT_ROOT = (() => {
  const start = path.dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'migrations'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`no migrations/ directory above ${start}`)
  }
})()

/** what `npm run build` makes: `dist/` (when running from the sources, the repository's `dist/`) */
export const BUILD_DIR = import.meta.url.endsWith('.ts') ? path.join(LAYOUT_ROOT, 'dist') : LAYOUT_ROOT
