/**
 * The event catalogue (README, Webhooks): every type the service emits, with what it means. The OpenAPI
 * document lists them under `webhooks`; a test checks that the code emits no type missing here.
 */
export const EVENT_TYPES = {
  'complaint.received': 'a complaint was received (受理)',
  'complaint.acknowledged': 'the complainant was told the complaint was received',
  'complaint.assessed': 'category, level, nature or department were set or changed',
  'complaint.external_reported': 'the customer went to the media, a consumer association or a government body: major, PR notified',
  'complaint.handed_over': 'the 《客户抱怨处理书》 was issued to the department (移交)',
  'complaint.signed': 'the department’s receiver signed for it (签收)',
  'complaint.replied': 'the department replied (the first reply stops the first-reply clock)',
  'complaint.closure_requested': 'the department asked to close (关闭申请)',
  'complaint.callback_recorded': 'the CS centre called the customer back (回访确认): satisfied or not',
  'complaint.closed': 'closure approved: first_time or second_time',
  'complaint.deferral_requested': 'the department asked for deferred closure (暂缓关闭)',
  'complaint.deferred': 'deferral approved: irrational, second stage, followed up',
  'complaint.withdrawn': 'the complainant withdrew',
  'complaint.reopened': 'a closed complaint was raised again within the reopen window',
  'complaint.external_ids_linked': 'the complainant was linked to a record in another system (e.g. a 悟空CRM customer id)',
  'complaint.paused': 'clocks paused (waiting for the customer)',
  'complaint.resumed': 'clocks resumed; deadlines moved by the pause',
  'complaint.level_upgraded': 'automatic upgrade: closure limit missed or closure rejected at callback',
  'complaint.management_flagged': 'a strong complaint failed again: flagged to management',
  'sla.due_soon': 'a clock passed the due-soon share (80%) of its limit',
  'sla.breached': 'a clock passed its deadline (once per complaint, clock and cycle)',
  'penalty.issued': 'a penalty notice (《客户抱怨闭环处理处罚通知单》) was issued against a department',
  'penalty.contested': 'the department disputed a penalty notice',
  'penalty.upheld': 'a CS manager rejected the dispute: the notice stands',
  'penalty.waived': 'a CS manager waived a penalty notice: nothing is collected',
  'penalty.fulfilled': 'finance recorded that a confirmed notice was collected',
  'bulletin.published': 'the general manager signed the weekly penalty bulletin (《执行部门抱怨闭环处理处罚通报》); its notices are confirmed',
  'report.weekly_ready': 'the weekly report of the previous week was published (Fridays)',
  'report.monthly_ready': 'the monthly analysis report of the previous month was published (the 1st)',
  'capa.review_due': 'a CAPA measure’s effectiveness review is overdue (once per measure)',
  'webhook.subscription_disabled': 'a subscription kept failing, or its receiver answered 410 Gone, and was disabled',
} as const

export type EventType = keyof typeof EVENT_TYPES
export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventType[]
