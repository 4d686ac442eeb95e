/**
 * Roles (docs/roles.md) and the one authorisation table: operationId → roles allowed. Responsibilities
 * follow seed 002: the CS centre receives, assesses, hands over, calls back and reviews deferrals;
 * departments sign, reply, investigate and ask for closure or deferral; management approves closure;
 * admin manages keys and reference data; auditors read everything, including the audit log.
 */
export const ROLES = ['cs_agent', 'cs_manager', 'department', 'management', 'finance', 'auditor', 'integration', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** anyone, without a key */
export const PUBLIC = 'public' as const
/** no API key: the route checks a credential of its own (GET /metrics: METRICS_TOKEN, for Prometheus) */
export const OWN_CREDENTIAL = 'own credential' as const

const CS: Role[] = ['cs_agent', 'cs_manager']
const READ_COMPLAINTS: Role[] = ['cs_agent', 'cs_manager', 'department', 'management', 'auditor', 'integration']
const EVERY_ROLE: Role[] = [...ROLES]
const PENALTY_READERS: Role[] = ['cs_agent', 'cs_manager', 'department', 'management', 'finance', 'auditor']
const BULLETIN_READERS: Role[] = ['cs_agent', 'cs_manager', 'management', 'finance', 'auditor']
const REPORT_READERS: Role[] = ['cs_agent', 'cs_manager', 'management', 'auditor']

export const PERMISSIONS: Record<string, readonly Role[] | typeof PUBLIC | typeof OWN_CREDENTIAL> = {
  healthz: PUBLIC,
  readyz: PUBLIC,
  trackComplaint: PUBLIC,

  receiveComplaint: [...CS, 'integration'],
  listComplaints: READ_COMPLAINTS,
  getComplaint: READ_COMPLAINTS,
  getComplaintTimeline: READ_COMPLAINTS,
  listComplaintNotes: READ_COMPLAINTS,
  listComplaintReplies: READ_COMPLAINTS,

  acknowledgeComplaint: CS,
  assessComplaint: CS,
  handOverComplaint: CS,
  signComplaint: ['department'],
  addComplaintNote: [...CS, 'department'],
  recordInvestigation: ['department'],
  replyToComplaint: ['department'],
  requestClosure: ['department'],
  recordClosureCallback: CS,
  closeComplaint: ['management'],
  requestDeferral: ['department'],
  // seed 002 §7.4.2: 客服中心专员审核 — the CS centre's staff review deferral requests
  reviewDeferral: CS,
  withdrawComplaint: [...CS, 'integration'],
  reopenComplaint: CS,
  linkExternalIds: [...CS, 'integration'],
  pauseClocks: [...CS, 'department'],
  // 有效性评估: judged by the CS centre's management or by management, not by the department that acted
  reviewCapaMeasure: ['cs_manager', 'management'],
  resumeClocks: [...CS, 'department'],

  listDepartments: EVERY_ROLE,
  listCategories: EVERY_ROLE,
  listReceivers: EVERY_ROLE,
  createDepartment: ['admin'],
  updateDepartment: ['admin'],
  createCategory: ['admin'],
  updateCategory: ['admin'],
  createReceiver: ['admin'],
  updateReceiver: ['admin'],

  listSlaPolicies: ['admin', 'cs_manager', 'management', 'auditor'],
  createSlaPolicy: ['admin'],
  getCalendar: ['admin', 'cs_manager', 'management', 'auditor'],
  setCalendarOverride: ['admin'],
  deleteCalendarOverride: ['admin'],
  importCalendarOverrides: ['admin'],
  listJobs: ['admin', 'auditor'],
  runJob: ['admin'],
  metrics: OWN_CREDENTIAL,

  createWebhook: ['admin', 'integration'],
  listWebhooks: ['admin', 'integration'],
  getWebhook: ['admin', 'integration'],
  updateWebhook: ['admin', 'integration'],
  deleteWebhook: ['admin', 'integration'],
  rotateWebhookSecret: ['admin', 'integration'],
  listWebhookDeliveries: ['admin', 'integration'],
  getDelivery: ['admin', 'integration'],
  replayDelivery: ['admin', 'integration'],
  replayWebhookDeliveries: ['admin', 'integration'],

  // penalties (seed 002 §7.6–§7.9): the CS centre draws up, departments contest their own, CS managers
  // decide disputes, the general manager signs the bulletin, finance collects
  listPenaltyRules: ['admin', 'cs_manager', 'management', 'finance', 'auditor'],
  createPenaltyRules: ['admin'],
  listPenaltyNotices: PENALTY_READERS,
  getPenaltyNotice: PENALTY_READERS,
  contestPenaltyNotice: ['department'],
  waivePenaltyNotice: ['cs_manager'],
  upholdPenaltyNotice: ['cs_manager'],
  fulfilPenaltyNotice: ['finance'],
  getPenaltyLedger: PENALTY_READERS,
  // the bulletin names every department's fines: department keys read their own notices and ledger line instead
  listPenaltyBulletins: BULLETIN_READERS,
  getPenaltyBulletin: BULLETIN_READERS,
  drawUpPenaltyBulletin: CS,
  signPenaltyBulletin: ['management'],
  fulfilPenaltyBulletinLine: ['finance'],
  // reports: the CS centre, management and auditors read them (docs/reports.md); they hold no complainant PII
  getWeeklyReport: REPORT_READERS,
  getMonthlyReport: REPORT_READERS,
  listStoredReports: REPORT_READERS,
  getStoredReport: REPORT_READERS,
  listDenominators: [...REPORT_READERS, 'admin'],
  setDenominator: ['admin'],
  deleteDenominator: ['admin'],
  previewRetention: ['admin', 'auditor'],
  // the 悟空CRM connector: a CRM-side sender sends customers and complaints; operators read its status
  receiveWukongCustomers: ['integration'],
  receiveWukongComplaint: ['integration'],
  getWukongStatus: ['admin', 'integration'],

  listApiKeys: ['admin'],
  createApiKey: ['admin'],
  rotateApiKey: ['admin'],
  revokeApiKey: ['admin'],
  listAuditLog: ['auditor', 'admin'],
}

/** roles that see complainant PII unmasked (a department sees it on its own complaints) */
export const PII_ROLES: readonly Role[] = ['cs_agent', 'cs_manager', 'integration']
