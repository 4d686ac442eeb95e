import type { Principal } from './keys.js'
import { PII_ROLES } from './policy.js'

/** Masking of complainant PII (docs/roles.md) for roles that have no need to see it. */
export const maskPhone = (v: string) => (v.length <= 7 ? '*'.repeat(v.length) : `${v.slice(0, 3)}****${v.slice(-4)}`)
export const maskEmail = (v: string) => {
  const at = v.indexOf('@')
  return at <= 0 ? '***' : `${v[0]}***${v.slice(at)}`
}
export const maskIdNumber = (v: string) => (v.length <= 8 ? '*'.repeat(v.length) : `${v.slice(0, 4)}${'*'.repeat(v.length - 8)}${v.slice(-4)}`)
export const maskAddress = (v: string) => `${[...v].slice(0, 6).join('')}***`

const maskers: Record<string, (v: string) => string> = {
  phone: maskPhone,
  email: maskEmail,
  idNumber: maskIdNumber,
  address: maskAddress,
  complainantPhone: maskPhone,
  complainantEmail: maskEmail,
  complainantIdNumber: maskIdNumber,
  complainantAddress: maskAddress,
}

/** masks PII keys wherever they appear in a JSON value (complaints, audit before/after) */
export function maskPii<T>(value: T): T {
  if (Array.isArray(value)) return value.map(maskPii) as T
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const mask = maskers[k]
      out[k] = mask && typeof v === 'string' ? mask(v) : maskPii(v)
    }
    return out as T
  }
  return value
}

/** CS roles and integrations see PII; a department sees it on complaints assigned to it; others see it masked */
export function seesPii(p: Principal | null, c: { department_id: string | null }): boolean {
  if (!p) return false
  if (PII_ROLES.includes(p.role)) return true
  return p.role === 'department' && p.departmentId !== null && c.department_id === p.departmentId
}
