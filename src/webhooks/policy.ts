import { isIP } from 'node:net'
import { unprocessable } from '../errors.js'

/**
 * Delivery rules that are not I/O: which URLs may be targets, which responses are retried, and
 * the retry schedule (exponential backoff with jitter, honouring Retry-After).
 */

/** IPv4 ranges that are not the public internet: loopback, private, link-local, CGNAT, benchmark, multicast, reserved */
const BLOCKED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24],
  ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
]
const v4ToInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0)
const inV4Block = (ip: string) => BLOCKED_V4.some(([base, bits]) => Math.floor(v4ToInt(ip) / 2 ** (32 - bits)) === Math.floor(v4ToInt(base) / 2 ** (32 - bits)))

/** true for any address a webhook must not reach in production mode */
export function isNonPublicAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase()
  if (isIP(a) === 4) return inV4Block(a)
  if (isIP(a) !== 6) return true
  // IPv4-mapped, -compatible and NAT64 forms carry an IPv4 address in their last 32 bits
  const embedded = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(a)?.[1]
  if (embedded) return inV4Block(embedded)
  const hex = /^(?:::ffff:|::|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a)
  if (hex) {
    const n = parseInt(hex[1]!, 16) * 65536 + parseInt(hex[2]!, 16)
    return inV4Block([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'))
  }
  const first = parseInt(a.split(':')[0] || '0', 16)
  // ::, ::1, unique local fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8, documentation 2001:db8::/32
  return a === '::' || a === '::1' || (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0 || (first & 0xff00) === 0xff00 || a.startsWith('2001:db8:')
}

const isNonPublicHost = (host: string) => {
  const h = host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h.endsWith('.internal')) return true
  return isIP(h) !== 0 && isNonPublicAddress(h)
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
  if (isNonPublicHost(url.hostname)) throw unprocessable('/body/url', 'must not point at a loopback, link-local, private or reserved address')
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
/**
 * Subscription patterns must each match some event the service emits — a type, a family
 * (`complaint.*`) or `*` — so that a typo such as `complaint.close` is a 422 naming it instead of
 * a subscription that silently receives nothing.
 */
export function validateEventTypes(patterns: readonly string[], known: readonly string[]): void {
  patterns.forEach((p, i) => {
    if (!known.some((type) => matchesEventType([p], type))) {
      throw unprocessable(`/body/eventTypes/${i}`, `${p} matches no event type; known: ${known.join(', ')} (or a family such as complaint.*, or *)`, 'unknown-event-type')
    }
  })
}

export function matchesEventType(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))))
}
