// Part of `npm run build`, after tsc: the service's entry point and the code it imports, written as one
// module, dist/server.js, which `npm start` and the Docker image run. Start-up on these machines was
// mostly Node resolving, reading and compiling modules one by one: ~110 of our own and ~700 of TypeBox
// (spawn to ready, alternating on one database: medians of 1.55–1.84 s → 1.17–1.21 s). Only our code and
// TypeBox (which nothing else loads at run time) go in; every other package stays an ordinary import
// from node_modules, so each has one copy — the migrations, loaded from dist/migrations/ at start-up,
// import the same kysely the service does. The source map chains through tsc's, back to src/*.ts.
import path from 'node:path'
import { build, type Plugin } from 'esbuild'
import { BUILD_DIR } from '../src/layout.js'

/** packages bundled in; every other bare import is left to node_modules */
const BUNDLED_PACKAGES = new Set(['typebox'])

const packagesStayExternal: Plugin = {
  name: 'packages-stay-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]!
      return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true }
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
  plugins: [packagesStayExternal],
  logLevel: 'warning',
  metafile: true,
})
const inputs = Object.keys(result.metafile.inputs).length
console.log(`service bundle: ${path.relative(process.cwd(), outfile)} from ${inputs} modules, ${Math.round(performance.now() - started)} ms`)
