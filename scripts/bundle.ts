// Part of `npm run build`, after tsc: the service's entry point and the code it imports, written as one
// module, dist/server.js, which `npm start` and the Docker image run. Start-up on these machines was
// mostly Node resolving, reading and compiling modules one by one: ~110 of our own and ~700 of TypeBox
// (spawn to ready, alternating on one database: medians of 1.55–1.84 s → 1.17–1.21 s), then Kysely's
// 280 (its import alone took 0.2 s). Our code, TypeBox and Kysely (with the PGlite dialect, which
// imports it) go in; every other package stays an ordinary import from node_modules. The migrations are
// bundled too, as a list made here from dist/migrations/ (src/db/migration-provider.ts is replaced), so
// they use the bundle's Kysely rather than a second copy from node_modules. The source map chains
// through tsc's, back to src/*.ts.
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { build, type Plugin } from 'esbuild'
import { BUILD_DIR } from '../src/layout.js'
import { replaceFile } from './replace-file.js'

/** packages bundled in; every other bare import is left to node_modules */
const BUNDLED_PACKAGES = new Set(['typebox', 'kysely', 'kysely-pglite-dialect'])

const packagesStayExternal: Plugin = {
  name: 'packages-stay-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]!
      return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true }
    })
  },
}

/**
 * src/db/migration-provider.ts, as bundled: every compiled migration imported statically, by file name
 * as Kysely's FileMigrationProvider names them (the file name without its extension)
 */
const migrationsBundled: Plugin = {
  name: 'migrations-bundled',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]db[\\/]migration-provider\.js$/ }, () => {
      const dir = path.join(BUILD_DIR, 'migrations')
      const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort()
      if (files.length === 0) throw new Error(`no compiled migrations in ${dir}: run tsc first`)
      const imports = files.map((f, i) => `import * as m${i} from ${JSON.stringify(path.join(dir, f))}`)
      const entries = files.map((f, i) => `${JSON.stringify(f.slice(0, -'.js'.length))}: m${i}`)
      return {
        contents: `${imports.join('\n')}\nconst migrations = { ${entries.join(', ')} }\nexport const migrationProvider = () => ({ getMigrations: async () => migrations })\n`,
        resolveDir: dir,
        loader: 'js',
      }
    })
  },
}

const started = performance.now()
const outfile = path.join(BUILD_DIR, 'server.js')
const result = await build({
  entryPoints: [path.join(BUILD_DIR, 'src', 'server.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // the map names src/*.ts and their lines, without their text: Node keeps a loaded map in memory for the
  // life of the process, and the sources' text in it was 16 MB of idle RSS (119–127 → 103–105 MB)
  sourcesContent: false,
  plugins: [packagesStayExternal, migrationsBundled],
  logLevel: 'warning',
  metafile: true,
  // written here, whole (replaceFile), and only when changed: tests run the bundle while another builds
  write: false,
})
const written = result.outputFiles.filter((f) => replaceFile(f.path, f.contents)).length
const inputs = Object.keys(result.metafile.inputs).length
console.log(`service bundle: ${path.relative(process.cwd(), outfile)} from ${inputs} modules, ${Math.round(performance.now() - started)} ms${written === 0 ? ' (unchanged)' : ''}`)
