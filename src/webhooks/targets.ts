import type { Services } from '../context.js'
import type { WebhookDelivery, WebhookSubscription } from '../db/types.js'
import { wukongTarget } from '../integrations/wukong/push.js'
import { httpTarget } from './http-target.js'

/**
 * Where a subscription's deliveries go. The dispatcher — claims, retries with backoff, dead letters,
 * the delivery log and replay — is the same for every target; a target only says how one delivery is
 * made and how its outcome reads. `http` POSTs the signed event to the subscription's URL; a built-in
 * target (such as `wukong`, the 悟空CRM connector) writes it into another system through its API.
 */
export interface DeliveryOutcome {
  /** delivered, or nothing to deliver (`error` may then say why not) */
  ok: boolean
  /** failed, and another attempt may succeed: retried with backoff until WEBHOOK_MAX_ATTEMPTS */
  retryable: boolean
  /** the receiver asks for no more deliveries (410 Gone): the subscription is disabled at once */
  gone?: boolean
  /** HTTP status of the (last) answer; null without one */
  statusCode: number | null
  /** what went wrong, as the delivery log shows it (`last_error`) */
  error: string | null
  latencyMs: number
  /** the receiver's Retry-After, in seconds */
  retryAfter: number | null
}

export interface SubscriptionInput { url?: string; eventTypes: string[] }

export interface DeliveryTarget {
  /**
   * checks a new subscription, or a change of `existing` (`url` absent: unchanged); returns the URL to
   * store (null for targets without one); throws 422 naming the field
   */
  validate(s: Services, sub: SubscriptionInput, existing?: WebhookSubscription): string | null
  /** where deliveries go, for logs and `webhook.subscription_disabled` (a host, never a URL, which may carry a token) */
  host(s: Services, sub: WebhookSubscription): string
  deliver(s: Services, sub: WebhookSubscription, d: WebhookDelivery, body: string, now: Date): Promise<DeliveryOutcome>
}

export const TARGETS = { http: httpTarget, wukong: wukongTarget } satisfies Record<string, DeliveryTarget>
export type TargetKind = keyof typeof TARGETS
export const TARGET_KINDS = Object.keys(TARGETS) as TargetKind[]

export const targetOf = (sub: Pick<WebhookSubscription, 'target'>): DeliveryTarget => TARGETS[sub.target as TargetKind]
