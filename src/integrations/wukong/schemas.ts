import { Type, type Static } from 'typebox'
import { DateTime, named, NO_NUL, Nullable, Text, Uuid } from '../../http/common-schemas.js'
import { CHANNELS } from '../../domain/vocabulary.js'

/**
 * The inbound endpoints speak 悟空CRM's field names and formats (a CRM-side sender or adapter sends
 * what the CRM holds): times are `yyyy-MM-dd HH:mm:ss` in GMT+8, and the list API's `""` for an empty
 * field is accepted. Errors name these fields (`/body/updateTime`, `/body/3/mobile`).
 */
const strict = { additionalProperties: false } as const

export const CRM_TIME_PATTERN = '^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$'
const CrmTime = (description: string) => Type.String({ pattern: CRM_TIME_PATTERN, description: `${description}; yyyy-MM-dd HH:mm:ss in GMT+8, as 悟空CRM writes it (1900–2999)` })
/** the CRM's text: may be empty (`""`) or null where the CRM has nothing */
const CrmText = (maxLength: number, description: string) => Type.Optional(Nullable(Type.String({ maxLength, pattern: NO_NUL, description })))
const CustomerId = Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'customerId: the customer’s id in 悟空CRM' })
const Status = Type.Enum(['normal', 'locked', 'deleted'], { description: 'the customer’s status in 悟空CRM (1 正常, 2 锁定, 3 删除)' })

export const WukongCustomer = named('WukongCustomer', Type.Object({
  customerId: CustomerId,
  customerName: Type.String({ maxLength: 255, pattern: NO_NUL, description: 'the complainant’s name (empty: 悟空客户 <customerId>)' }),
  mobile: CrmText(255, 'the complainant’s phone, if it is a phone number'),
  telephone: CrmText(255, 'the complainant’s phone when mobile is none'),
  email: CrmText(255, 'the complainant’s email, if it is an address'),
  address: CrmText(255, '省,市,区 (e.g. 上海市,上海城区,浦东新区)'),
  detailAddress: CrmText(255, 'street address, after the 省市区'),
  status: Type.Optional(Type.Integer({ minimum: 1, maximum: 3, description: '1 正常, 2 锁定, 3 删除 (default: as stored, or 1)' })),
  updateTime: CrmTime('when the customer was last changed in 悟空CRM: an update older than the stored one is ignored'),
}, { ...strict, description: 'a 悟空CRM customer (wk_crm_customer), in its own field names' }))
export type WukongCustomerBody = Static<typeof WukongCustomer>

const customerExample = {
  customerId: 1024, customerName: '张伟', mobile: '13800138000', telephone: '', email: 'zhang.wei@example.com',
  address: '上海市,上海城区,浦东新区', detailAddress: '张江路 88 号', status: 1, updateTime: '2026-11-26 10:05:00',
}

export const WukongCustomersRequest = named('WukongCustomersRequest', Type.Union([
  WukongCustomer,
  Type.Array(WukongCustomer, { minItems: 1, maxItems: 500 }),
], {
  description: 'one customer, or a batch of up to 500 (applied in order)',
  examples: [customerExample, [customerExample, { ...customerExample, customerId: 1025, customerName: '李娜', mobile: '13900139000', email: '', status: 2, updateTime: '2026-11-26 10:06:12' }]],
}))

export const WukongCustomersResult = named('WukongCustomersResult', Type.Object({
  items: Type.Array(Type.Object({
    customerId: CustomerId,
    outcome: Type.Enum(['created', 'updated', 'unchanged', 'stale'], {
      description: 'stale: the stored customer has a newer updateTime, so this one was ignored; unchanged: the same again (nothing written)',
    }),
    status: Status,
    updateTime: Type.String({ description: 'the updateTime now stored (GMT+8)' }),
  })),
}, {
  description: 'what became of each customer, in the order sent',
  examples: [{ items: [{ customerId: 1024, outcome: 'created', status: 'normal', updateTime: '2026-11-26 10:05:00' }, { customerId: 1025, outcome: 'stale', status: 'locked', updateTime: '2026-11-26 11:00:00' }] }],
}))

export const WukongComplaintRequest = named('WukongComplaintRequest', Type.Object({
  customerId: CustomerId,
  content: Text(10_000, 'what the customer complained about (the follow-up record’s content): the complaint’s description'),
  createTime: CrmTime('when 悟空CRM recorded it: the complaint’s receivedAt (not in the future, at most BACKDATE_WINDOW_DAYS back)'),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: NO_NUL, description: 'the CRM’s follow-up category (跟进类型), kept with the import' })),
  activityId: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'the CRM follow-up record’s id: the record becomes one complaint, however often it is sent. Without it, the same customerId, createTime and content are the same record.' })),
}, {
  ...strict,
  description: 'a complaint recorded in 悟空CRM; the complainant comes from the customer (mirror, or the CRM when configured)',
  examples: [{ customerId: 1024, content: '11月20日在服务站更换刹车片后，两天后刹车异响再次出现，客户要求重新检修并说明原因。', createTime: '2026-11-26 09:41:07', category: '打电话', activityId: 88231 }],
}))
export type WukongComplaintBody = Static<typeof WukongComplaintRequest>

export const WukongComplaintImport = named('WukongComplaintImport', Type.Object({
  outcome: Type.Enum(['created', 'unchanged'], { description: 'unchanged: this CRM record was imported before; nothing changed' }),
  complaintId: Uuid(),
  reference: Type.String(),
  customerId: CustomerId,
  trackingToken: Nullable(Type.String({ description: 'the complainant’s tracking token: shown when the complaint is created, null afterwards' })),
}, {
  description: 'the complaint a CRM record became',
  examples: [{ outcome: 'created', complaintId: '0195f7a4-5b1c-7c3e-9a10-2f4d6e8b1a01', reference: 'CP-2026-000123', customerId: 1024, trackingToken: 'q3V9mTt1cJ0x4yZbW8rA2sDf' }],
}))

export const WukongStatus = named('WukongStatus', Type.Object({
  configured: Type.Boolean({ description: 'WUKONG_BASE_URL, WUKONG_USERNAME and WUKONG_PASSWORD are set' }),
  baseUrl: Nullable(Type.String()),
  account: Nullable(Type.String({ description: 'WUKONG_USERNAME' })),
  crm: Nullable(Type.Object({
    reachable: Type.Boolean({ description: 'the account logged in and the CRM answered' }),
    error: Nullable(Type.String()),
    followUpCategories: Type.Array(Type.String(), { description: 'the follow-up categories (跟进类型) configured in the CRM' }),
    missingCategories: Type.Array(Type.String(), { description: 'categories the mapping uses that the CRM does not offer (the CRM stores them anyway, but its users cannot pick them)' }),
    returnVisitFields: Type.Array(Type.Object({
      setting: Type.String({ description: 'the setting holding the fieldId' }),
      fieldId: Type.Integer(),
      found: Type.Boolean({ description: 'the CRM’s return visit form has a field with this id and name' }),
      missingOptions: Type.Array(Type.String(), { description: 'values the mapping sends that are not options of the field' }),
    })),
  }, { description: 'what the CRM says, checked now; null when not configured' })),
  mapping: Type.Array(Type.Object({ channel: Type.Enum([...CHANNELS]), category: Type.String(), returnVisitType: Type.String() }), { description: 'per channel: follow-up category and return visit type, settings applied' }),
  satisficing: Type.Array(Type.String(), { description: 'satisfaction 1 to 5 as the return visit’s satisficing' }),
  pull: Type.Object({
    scheduled: Nullable(Type.String({ description: 'cron expression; null: not scheduled' })),
    cursor: Nullable(Type.String({ description: 'the newest updateTime imported (GMT+8)' })),
    cursorPage: Type.Integer({ minimum: 1 }),
    lastRunAt: Nullable(DateTime()),
    lastResult: Nullable(Type.Record(Type.String(), Type.Unknown(), { description: 'what the last run did' })),
  }),
  customers: Type.Integer({ minimum: 0, description: 'customers in the mirror' }),
  subscription: Nullable(Type.Object({ id: Uuid(), status: Type.Enum(['active', 'paused', 'disabled']), eventTypes: Type.Array(Type.String()) }, { description: 'the wukong delivery target’s subscription' })),
}, {
  description: 'the 悟空CRM connector’s configuration, checked against the CRM',
  examples: [{
    configured: true, baseUrl: 'https://crm.example.com', account: '18688888888',
    crm: {
      reachable: true, error: null, followUpCategories: ['打电话', '发邮件', '发短信', '见面拜访', '活动'], missingCategories: [],
      returnVisitFields: [
        { setting: 'WUKONG_RETURN_VISIT_TYPE_FIELD_ID', fieldId: 1101898, found: true, missingOptions: [] },
        { setting: 'WUKONG_SATISFICING_FIELD_ID', fieldId: 1101902, found: true, missingOptions: [] },
      ],
    },
    mapping: [{ channel: 'hotline_400', category: '打电话', returnVisitType: '电话' }],
    satisficing: ['很不满意', '不满意', '一般', '满意', '很满意'],
    pull: { scheduled: '*/5 * * * *', cursor: '2026-11-26 10:05:00', cursorPage: 1, lastRunAt: '2026-11-26T02:10:00.000Z', lastResult: { pages: 1, created: 3, updated: 0, unchanged: 1, stale: 0, invalid: 0, error: null } },
    customers: 1250,
    subscription: { id: '0195f7a4-3333-7000-8000-000000000002', status: 'active', eventTypes: ['complaint.received', 'complaint.closed', 'complaint.callback_recorded'] },
  }],
}))
