/**
 * Writes under /api need `Authorization: Bearer <token>` matching the configured token (BENCH_TOKEN),
 * compared in constant time (sha256 of both, then timingSafeEqual, so neither length nor content leaks
 * through timing). With no token configured every write is refused, so a dashboard started without one
 * is read-only. Reads are open.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { AuthError } from './errors.ts'

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export const NO_TOKEN_MESSAGE =
  'writes are disabled: no token is configured. Start the dashboard with BENCH_TOKEN=<secret> in its environment and send "Authorization: Bearer <secret>"'

export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

export function requireTokenForWrites(token: string | undefined): MiddlewareHandler {
  const expected = token === '' ? undefined : token
  return async (c, next) => {
    if (READ_METHODS.has(c.req.method)) return next()
    if (expected === undefined) throw new AuthError(403, NO_TOKEN_MESSAGE)
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header)
    if (!match || !tokenMatches(match[1]!, expected))
      throw new AuthError(
        401,
        'this write needs "Authorization: Bearer <BENCH_TOKEN>" with the configured token',
      )
    return next()
  }
}
