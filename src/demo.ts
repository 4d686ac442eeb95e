import { insertKey } from './access/keys.js'
import { ROLES, type Role } from './access/policy.js'
import { writeAudit } from './audit/audit.js'
import { receiveComplaint } from './complaints/commands.js'
import type { Services } from './context.js'

/**
 * The sandbox of `npm run demo`: one API key per role (the department key for 服务站) and a sample
 * complaint, so a newcomer can walk the whole lifecycle from the docs page, each step with the role
 * the rules give it. Only ever run against the demo's own embedded data directory (scripts/demo.ts):
 * it mints keys for every role, which a production installation must never do in one go.
 */
export interface DemoSeed {
  keys: Array<{ role: Role; departmentId: string | null; secret: string }>
  complaint: { id: string; reference: string; trackingToken: string }
}

const DEMO = { type: 'system' as const, id: null, role: null, name: 'npm run demo' }

export async function seedDemo(s: Services): Promise<DemoSeed> {
  const now = s.clock.now()
  return s.db.transaction().execute(async (trx) => {
    const keys: DemoSeed['keys'] = []
    for (const role of ROLES) {
      const departmentId = role === 'department' ? 'service-station' : null
      const { row, secret } = await insertKey(trx, { name: `demo ${role}`, role, departmentId }, now, null)
      await writeAudit(trx, { actor: DEMO, operation: 'createApiKey', requestId: null }, { entityType: 'api_key', entityId: row.id, before: null, after: { id: row.id, name: row.name, role } }, now)
      keys.push({ role, departmentId, secret })
    }
    const { complaint, trackingToken } = await receiveComplaint(s, trx, {
      channel: 'hotline_400',
      complainant: { name: '张伟', phone: '13800138000', email: 'zhang.wei@example.com', externalIds: [{ system: 'wukong', customerId: '1024' }] },
      subject: { product: '帕萨特 2024款 330TSI', vin: 'LSVAU2180N2183294', plate: '沪A12345' },
      description: '11月20日在服务站更换刹车片后，两天后刹车异响再次出现，客户要求重新检修并说明原因。',
      desiredOutcomes: ['resolution', 'explanation'],
    }, { actor: DEMO, operation: 'receiveComplaint', requestId: null })
    return { keys, complaint: { id: complaint.id, reference: complaint.reference, trackingToken } }
  })
}
