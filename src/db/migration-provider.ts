import { promises as fs } from 'node:fs'
import path from 'node:path'
import { FileMigrationProvider, type MigrationProvider } from 'kysely'
import { LAYOUT_ROOT } from '../layout.js'

/**
 * `migrations/` beside `src/`: the TypeScript sources when running from them (tests, tsx), the
 * compiled `dist/migrations/*.js` when running the build (`dist/src/…`).
 */
export const MIGRATIONS_DIR = path.join(LAYOUT_ROOT, 'migrations')

/**
 * Where the migrations come from: every file of MIGRATIONS_DIR, imported when first asked. The
 * service's bundle (`dist/server.js`, scripts/bundle.ts) replaces this module with one that imports
 * the same compiled files at build time, so they share the bundle's Kysely instead of loading
 * a second copy of it from node_modules at every start.
 */
export const migrationProvider = (): MigrationProvider => new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_DIR })
