/**
 * The one error type of the service. Everything a caller can get wrong ends up as a
 * ProblemError and is rendered once, as RFC 9457 problem+json, by plugins/problems.ts.
 */
export interface ProblemFieldError {
  /** JSON pointer into the request, e.g. `/body/complainant/phone` */
  field: string
  message: string
}

export interface ProblemInit {
  status: number
  title: string
  detail: string
  /** short slug appended to the problem type URI */
  code: string
  errors?: ProblemFieldError[]
  extensions?: Record<string, unknown>
}

export const PROBLEM_TYPE_BASE = 'https://complaints.example/problems/'

export class ProblemError extends Error {
  readonly status: number
  readonly title: string
  readonly detail: string
  readonly code: string
  readonly errors?: ProblemFieldError[]
  readonly extensions?: Record<string, unknown>

  constructor(init: ProblemInit) {
    super(init.detail)
    this.name = 'ProblemError'
    this.status = init.status
    this.title = init.title
    this.detail = init.detail
    this.code = init.code
    this.errors = init.errors
    this.extensions = init.extensions
  }

  toJSON(instance?: string): Record<string, unknown> {
    return {
      type: PROBLEM_TYPE_BASE + this.code,
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(instance ? { instance } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
      ...this.extensions,
    }
  }
}

export const notFound = (what: string, id: string) =>
  new ProblemError({ status: 404, code: 'not-found', title: 'Not Found', detail: `${what} ${id} does not exist` })

/** 422: the request is well-formed but breaks a business rule about one field. */
export const unprocessable = (field: string, message: string, code = 'unprocessable') =>
  new ProblemError({ status: 422, code, title: 'Unprocessable Content', detail: `${field}: ${message}`, errors: [{ field, message }] })

export const badRequest = (field: string, message: string) =>
  new ProblemError({ status: 400, code: 'bad-request', title: 'Bad Request', detail: `${field}: ${message}`, errors: [{ field, message }] })

export const preconditionFailed = (expected: string, current: number) =>
  new ProblemError({
    status: 412,
    code: 'stale-version',
    title: 'Precondition Failed',
    detail: `If-Match ${expected} does not match the current version "${current}"; reload and retry`,
    extensions: { currentVersion: current },
  })

export const conflict = (detail: string, extensions?: Record<string, unknown>) =>
  new ProblemError({ status: 409, code: 'conflict', title: 'Conflict', detail, extensions })
