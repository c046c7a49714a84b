/**
 * What a request can get wrong, as errors the one onError handler turns into responses: 400 with every
 * problem listed, 404 naming what was not found. Pages answer in HTML, /api in JSON.
 * @module
 */
import type { z } from 'zod'

export class BadRequestError extends Error {
  readonly status = 400
  constructor(readonly problems: string[]) {
    super(`bad request: ${problems.join('; ')}`)
    this.name = 'BadRequestError'
  }

  static fromZod(error: z.ZodError): BadRequestError {
    return new BadRequestError(
      error.issues.map((issue) => {
        const where = issue.path.map(String).join('.')
        return where ? `${where}: ${issue.message}` : issue.message
      }),
    )
  }
}

export class NotFoundError extends Error {
  readonly status = 404
  constructor(message: string) {
    super(message)
    this.name = 'NotFoundError'
  }
}

/** A write without the configured bearer token (401), or with no token configured at all (403). */
export class AuthError extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message)
    this.name = 'AuthError'
  }
}

/** The database did not answer a page in time (dashboard/app.ts `queryTimeoutMs`): 503, never a hang. */
export class ServiceUnavailableError extends Error {
  readonly status = 503
  constructor(
    message: string,
    /** Seconds a client should wait before asking again (Retry-After). */
    readonly retryAfterS: number,
  ) {
    super(message)
    this.name = 'ServiceUnavailableError'
  }
}
