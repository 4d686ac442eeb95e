// npm run dashboard: writes ops/grafana/complaints.json from ops/dashboard.ts (a test fails when it drifts)
import { mkdir, writeFile } from 'node:fs/promises'
import { buildDashboard, serialiseDashboard } from '../ops/dashboard.js'

const target = new URL('../ops/grafana/complaints.json', import.meta.url)
await mkdir(new URL('.', target), { recursive: true })
await writeFile(target, serialiseDashboard(buildDashboard()))
console.log(`wrote ${target.pathname}`)
