import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { Webhook } from 'standardwebhooks'
import type { Agent } from 'undici'
import { unprocessable } from '../errors.js'
import type { Services } from '../context.js'
import type { WebhookDelivery, WebhookSubscription } from '../db/types.js'
import type { DeliveryOutcome, DeliveryTarget } from './targets.js'
import type { SecretBox } from './secrets.js'
import { isNonPublicAddress, isRetryable, parseRetryAfter, validateTargetUrl } from './policy.js'

/** the `webhook-signature` header: during a rotation overlap both secrets sign (stored sealed: opened here, only to sign) */
export function signatures(box: SecretBox, sub: Pick<WebhookSubscription, 'secret' | 'previous_secret' | 'previous_secret_until'>, msgId: string, at: Date, body: string, now: Date): string {
  const secrets = [sub.secret, ...(sub.previous_secret && sub.previous_secret_until && sub.previous_secret_until > now ? [sub.previous_secret] : [])]
  return secrets.map((secret) => new Webhook(box.open(secret)).sign(msgId, at, body)).join(' ')
}

/** production mode: every address a target name resolves to is checked when connecting (DNS rebinding) */
export function publicOnlyLookup(hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, [])
    const list = addresses as LookupAddress[]
    const blocked = list.find((a) => isNonPublicAddress(a.address))
    if (blocked) return callback(Object.assign(new Error(`${hostname} resolves to a non-public address ${blocked.address}`), { code: 'EBLOCKED' }), [])
    if ((options as { all?: boolean }).all) return callback(null, list)
    callback(null, list[0]!.address, list[0]!.family)
  })
}

/** undici (an HTTP client with its own connection pools, 17 MB) is loaded with the first delivery, not at start */
const importUndici = () => import('undici')
let undici: ReturnType<typeof importUndici> | undefined
export const loadUndici = () => (undici ??= importUndici())

const agents = new Map<boolean, Agent>()
const agentFor = async (allowInsecure: boolean) => {
  let agent = agents.get(allowInsecure)
  if (!agent) {
    const { Agent } = await loadUndici()
    // deliveries that started together all waited for the import: the first to get here makes the agent
    agent = agents.get(allowInsecure) ?? new Agent(allowInsecure ? {} : { connect: { lookup: publicOnlyLookup as never } })
    agents.set(allowInsecure, agent)
  }
  return agent
}

/** POSTs the event, signed per Standard Webhooks, to the subscription's URL */
async function send(s: Services, sub: WebhookSubscription, d: WebhookDelivery, body: string, now: Date): Promise<DeliveryOutcome> {
  const { fetch } = await loadUndici()
  const dispatcher = await agentFor(s.config.WEBHOOK_ALLOW_INSECURE_URLS)
  // receivers check the signature's timestamp against their own clock: it is the wall-clock time of sending
  const sentAt = new Date()
  const started = performance.now()
  try {
    const res = await fetch(sub.url!, {
      method: 'POST',
      redirect: 'manual',
      dispatcher,
      signal: AbortSignal.timeout(s.config.WEBHOOK_TIMEOUT_MS),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'complaint-service-webhooks/1',
        'webhook-id': d.event_id,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': signatures(s.secrets, sub, d.event_id, sentAt, body, now),
      },
      body,
    })
    await res.arrayBuffer().catch(() => undefined)
    const latencyMs = Math.round(performance.now() - started)
    const ok = res.status >= 200 && res.status < 300
    const error = ok ? null : res.status >= 300 && res.status < 400 ? `redirect ${res.status} not followed` : `HTTP ${res.status}`
    return {
      ok, retryable: !ok && isRetryable(res.status), gone: res.status === 410, statusCode: res.status, error, latencyMs,
      retryAfter: parseRetryAfter(res.headers.get('retry-after'), now),
    }
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } }
    const error = e.name === 'TimeoutError' ? `timeout after ${s.config.WEBHOOK_TIMEOUT_MS} ms` : `${e.cause?.code ?? e.name}: ${e.cause?.message ?? e.message}`
    return { ok: false, retryable: true, statusCode: null, error, latencyMs: Math.round(performance.now() - started), retryAfter: null }
  }
}

/** the target every subscription had before built-in targets: a signed POST to a URL */
export const httpTarget: DeliveryTarget = {
  validate(s, sub, existing) {
    if (sub.url !== undefined) return validateTargetUrl(sub.url, s.config.WEBHOOK_ALLOW_INSECURE_URLS)
    if (existing) return existing.url
    throw unprocessable('/body/url', 'is required for an http target')
  },
  host: (_s, sub) => new URL(sub.url!).host,
  deliver: send,
}
