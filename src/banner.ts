import path from 'node:path'
import type { Config } from './config.js'

/** which database the service uses, in words, never with a password */
export function describeDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>): string {
  if (!config.DATABASE_URL) return `embedded PGlite, data directory ${path.resolve(config.DATA_DIR)}`
  const url = new URL(config.DATABASE_URL)
  const user = url.username ? ` as ${decodeURIComponent(url.username)}` : ''
  const name = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(the user\'s default database)'
  return `PostgreSQL database ${name} on ${url.hostname || 'the local socket'}${url.port ? `:${url.port}` : ''}${user}`
}

export interface BannerFacts {
  /** where the service answers, as people reach it */
  base: string
  database: string
  metricsOn: boolean
  /** the first admin key, when this start created it */
  firstKey?: string
  backend: 'postgres' | 'pglite'
}

/** the plain lines printed at start-up (on stderr, beside the log stream): where to go, on what, with which key */
export function startupBanner(f: BannerFacts): string {
  const lines = [
    '',
    `  Complaint service ready at ${f.base}`,
    `    API docs:  ${f.base}/docs  (OpenAPI document: ${f.base}/openapi.json)`,
    `    Database:  ${f.database}`,
    `    Metrics:   ${f.metricsOn ? `${f.base}/metrics (Authorization: Bearer <METRICS_TOKEN>)` : 'off (set METRICS_TOKEN to turn on /metrics)'}`,
  ]
  if (f.firstKey) {
    lines.push(
      '',
      '  First admin API key (shown once, only its hash is stored):',
      `    ${f.firstKey}`,
      `  Open ${f.base}/docs, click Authorize and paste it; then create keys for each role with POST /v1/admin/api-keys.`,
      f.backend === 'pglite'
        ? '  Lost it? Stop the service and run `npm run create-admin-key` (the embedded database allows one process).'
        : '  Lost it? Run `npm run create-admin-key` with the same DATABASE_URL; the service can keep running.',
    )
  }
  return `${[...lines, ''].join('\n')}\n`
}
