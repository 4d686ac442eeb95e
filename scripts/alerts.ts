// npm run alerts: writes ops/prometheus/alerts.yml from ops/alerts.ts (a test fails when it drifts).
// RUNBOOK_BASE_URL points the runbook links at a published copy of docs/operations.md (default: the
// path in the repository); the committed file uses the default.
import { mkdir, writeFile } from 'node:fs/promises'
import { alertRules, serialiseAlertRules } from '../ops/alerts.js'

const target = new URL('../ops/prometheus/alerts.yml', import.meta.url)
await mkdir(new URL('.', target), { recursive: true })
await writeFile(target, serialiseAlertRules(alertRules(process.env.RUNBOOK_BASE_URL || undefined)))
console.log(`wrote ${target.pathname}`)
