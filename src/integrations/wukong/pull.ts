import type { Services } from '../../context.js'
import { clientFor, clientSettings, WukongError, type CustomerPage } from './client.js'
import { customerToComplainant, fromCrmTime, toCrmTime } from './mapping.js'
import { connectorAudit, lockCursor, readCursor, recordRun, saveCursor, upsertCustomers, type CustomerUpdate, type PullCursor, type UpsertOutcome } from './repository.js'

/**
 * The scheduled pull (job `wukong-pull`): customers changed in 悟空CRM since the stored cursor, oldest
 * first, into the mirror. The CRM pages through Elasticsearch (`queryPageList`, at most 100 a page,
 * filter `updateTime` ≥ cursor, one-second resolution), so the cursor is the newest `updateTime` seen
 * plus the page within that second:
 * - a page whose newest time is later than the cursor moves the cursor there, page 1 — the customers
 *   of that very second come again and change nothing (the mirror's upsert is idempotent);
 * - a full page entirely within the cursor's second (a bulk import) moves to the next page of that
 *   second; a short one leaves the cursor where it is.
 * Each page commits with its cursor in one transaction: a run stopped anywhere resumes after the last
 * committed page, and nothing is imported twice.
 */
export interface PullOptions {
  /** customers per page: the CRM caps it at 100 */
  pageSize?: number
  /** pages per run; the rest follow on the next run (and each query window stays far below 10 000 hits) */
  maxPages?: number
}

export const PULL_PAGE_SIZE = 100
export const PULL_MAX_PAGES = 50

type Counts = Record<UpsertOutcome | 'invalid', number>

/** the page's customers as mirror updates; customers without an id or a readable updateTime are counted, not imported */
function updatesOf(page: CustomerPage): { updates: CustomerUpdate[]; invalid: number } {
  const updates: CustomerUpdate[] = []
  let invalid = 0
  for (const item of page.list) {
    const updateTime = typeof item.updateTime === 'string' ? fromCrmTime(item.updateTime) : null
    const customerId = Number(item.customerId)
    if (!updateTime || !Number.isSafeInteger(customerId) || customerId < 1) invalid++
    else updates.push({ customerId, fields: customerToComplainant({ ...item, customerId }), updateTime })
  }
  return { updates, invalid }
}

/** the CRM only sorts by `updateTime` when it is one of the account's list columns: check that it did */
function checkOrder(page: CustomerPage): void {
  if (page.list.some((item) => !('updateTime' in item))) {
    throw new WukongError('/crmCustomer/queryPageList', null, 'the list has no updateTime: make 更新时间 a visible list column for the integration account', 200, false)
  }
  const times = page.list.map((item) => String(item.updateTime))
  if (times.some((t, i) => i > 0 && t < times[i - 1]!)) {
    throw new WukongError('/crmCustomer/queryPageList', null, 'the CRM did not sort by updateTime ascending (is 更新时间 a list column of the integration account?)', 200, false)
  }
}

/** a page's customers and the cursor after it, in one transaction */
async function commitPage(s: Services, updates: CustomerUpdate[], started: PullCursor, next: PullCursor, now: Date) {
  const results = await s.db.transaction().execute(async (trx) => {
    const held = await lockCursor(trx, now)
    // the job's lease keeps runs apart; should two meet anyway, the later one stops here
    if (held.time?.getTime() !== started.time?.getTime() || held.page !== started.page) {
      throw new WukongError('/crmCustomer/queryPageList', null, 'another pull moved the cursor meanwhile; stopped', null, true)
    }
    const r = await upsertCustomers(trx, updates, connectorAudit('wukongPull'), now)
    await saveCursor(trx, next, now)
    return r
  })
  return results
}

export async function pullCustomers(s: Services, now: Date, opts: PullOptions = {}) {
  const settings = clientSettings(s.config)
  if (!settings) return { configured: false as const }
  const client = clientFor(settings, () => s.clock.now())
  const pageSize = opts.pageSize ?? PULL_PAGE_SIZE
  const counts: Counts = { created: 0, updated: 0, unchanged: 0, stale: 0, invalid: 0 }
  let cursor = await readCursor(s.db)
  let pages = 0
  let error: string | null = null
  try {
    while (pages < (opts.maxPages ?? PULL_MAX_PAGES)) {
      const page = await client.customersChangedSince(cursor.time ? toCrmTime(cursor.time) : null, cursor.page, pageSize)
      if (page.list.length === 0) {
        if (cursor.page === 1) break
        // the cursor's second holds fewer customers than its page skips now (some changed since): read it from its start
        const restart = { time: cursor.time, page: 1 }
        await commitPage(s, [], cursor, restart, now)
        cursor = restart
        continue
      }
      checkOrder(page)
      const { updates, invalid } = updatesOf(page)
      const newest = updates.reduce<Date | null>((max, u) => (max === null || u.updateTime > max ? u.updateTime : max), null)
      // later than the cursor: move there; a full page within the cursor's second: the next page of that
      // second; a short one: nothing more there yet, so stay (the next run reads it again, unchanged)
      const next: PullCursor = newest !== null && (cursor.time === null || newest > cursor.time) ? { time: newest, page: 1 }
        : page.list.length < pageSize ? cursor : { time: cursor.time, page: cursor.page + 1 }
      for (const r of await commitPage(s, updates, cursor, next, now)) counts[r.outcome]++
      counts.invalid += invalid
      cursor = next
      pages++
      if (page.list.length < pageSize) break
    }
  } catch (err) {
    if (!(err instanceof WukongError)) throw err
    // the CRM failed or refused: what committed stays, the next run resumes from the cursor
    error = err.message
    s.log.warn({ job: 'wukong-pull', err: err.message }, '悟空CRM pull stopped')
  }
  const result = { configured: true as const, pages, ...counts, cursor: cursor.time ? toCrmTime(cursor.time) : null, cursorPage: cursor.page, error }
  await recordRun(s.db, result, now)
  return result
}
