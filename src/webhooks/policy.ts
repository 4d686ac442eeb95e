import { isIP } from 'node:net'
import { unprocessable } from '../errors.js'

/**
 * Delivery rules that are not I/O: which URLs may be targets, which responses are retried, and
 * the retry schedule (exponential backoff with jitter, honouring Retry-After).
 */

const PRIVATE_V4 = [/^10\./, /^127\./, /^169\.254\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^0\./, /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./]
const isPrivateHost = (host: string) => {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h.endsWith('.internal')) return true
  if (isIP(h) === 4) return PRIVATE_V4.some((r) => r.test(h))
  if (isIP(h) === 6) return h === '::1' || h === '::' || h.startsWith('fc') || h.startsWith('fd') || h.startsWith('fe80') || h.startsWith('::ffff:')
  return false
}

/** https to a public host; with `allowInsecure` (development, tests) also http and loopback/private hosts */
export function validateTargetUrl(raw: string, allowInsecure: boolean): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw unprocessable('/body/url', 'is not a URL')
  }
  if (url.username || url.password) throw unprocessable('/body/url', 'must not carry credentials')
  if (allowInsecure) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw unprocessable('/body/url', 'must be http or https')
    return url.toString()
  }
  if (url.protocol !== 'https:') throw unprocessable('/body/url', 'must be https (WEBHOOK_ALLOW_INSECURE_URLS=true allows http for development)')
  if (isPrivateHost(url.hostname)) throw unprocessable('/body/url', 'must not point at a loopback, link-local or private address')
  return url.toString()
}

/** network errors, timeouts, 408, 429 and 5xx are retried; other answers will not change by retrying */
export const isRetryable = (status: number | null) => status === null || status === 408 || status === 429 || status >= 500

export interface RetrySettings {
  baseSeconds: number
  maxSeconds: number
  maxAttempts: number
}

/**
 * Delay before the next attempt after `attempts` failed ones: base × 2^(attempts−1), capped, ±20%
 * jitter so that receivers recovering from an outage are not hit in waves; never shorter than the
 * receiver's Retry-After. With the defaults (60 s, 6 h cap, 12 attempts) the last attempt comes about
 * a day after the first.
 */
export function retryDelayMs(attempts: number, s: RetrySettings, retryAfterSeconds: number | null, random = Math.random): number {
  const exponential = Math.min(s.maxSeconds, s.baseSeconds * 2 ** Math.max(0, attempts - 1))
  const jittered = exponential * (0.8 + 0.4 * random())
  return Math.round(Math.max(jittered, retryAfterSeconds ?? 0) * 1000)
}

/** Retry-After as seconds: a number of seconds or an HTTP date */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (!value) return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Math.max(0, Math.round((at - now.getTime()) / 1000))
}

/** subscription patterns: an exact type, `complaint.*` (a family) or `*` (everything) */
export function matchesEventType(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))))
}
