/**
 * The dashboard as a Hono app, without a port: `createApp({ db, auth }).request('/runs/1')` in tests,
 * dashboard/server.ts to serve it. Pages are server-rendered HTML (hono/html escapes every interpolated
 * value); charts are Chart.js configs in JSON blocks drawn by /public/charts.js, so the CSP allows no
 * inline script. Errors go through one handler: 400 with the problems, 404 for unknown ids, HTML for
 * pages and JSON under /api.
 * @module
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { secureHeaders } from 'hono/secure-headers'
import type { Db } from '../db/client.ts'
import { dataVersion } from '../db/queries/data-version.ts'
import { assetRoutes } from './assets.ts'
import { requireTokenForWrites } from './auth.ts'
import { ReadCache } from './data/cache.ts'
import { AuthError, BadRequestError, NotFoundError, ServiceUnavailableError } from './errors.ts'
import { apiRoutes, jsonResponse } from './routes/api.ts'
import { ingestRoutes } from './routes/ingest.ts'
import { pageRoutes } from './routes/pages.ts'
import { errorPage } from './views/error.ts'

export interface DashboardAuth {
  /** Bearer token writes must present (BENCH_TOKEN). Without one, every write is refused with 403. */
  token?: string
}

export interface CreateAppOptions {
  db: Db
  auth: DashboardAuth
  /** Where unexpected errors (500s) are reported. @default console.error */
  logError?: (error: unknown) => void
  /** Reuse heavy reads until the data changes (dashboard/data/cache.ts). @default true */
  cache?: boolean
  /** Largest run document `POST /api/runs` takes, bytes; 413 beyond. @default 256 MiB */
  maxIngestBytes?: number
  /**
   * A page or API read (GET/HEAD) still waiting on the database after this long is answered 503, ms.
   * PGlite ignores statement_timeout (measured: a 23 s query ran to its end under `SET statement_timeout
   * = 200`), so the deadline is kept here, in JavaScript; it can fire only while this thread is free,
   * which is why `bench dashboard` keeps an embedded database in a worker thread. The query itself runs on
   * (PostgreSQL: until it ends; its connection is busy meanwhile). @default 15000
   */
  queryTimeoutMs?: number
}

export const DEFAULT_QUERY_TIMEOUT_MS = 15_000

export function createApp({
  db,
  auth,
  logError = console.error,
  cache = true,
  maxIngestBytes,
  queryTimeoutMs = DEFAULT_QUERY_TIMEOUT_MS,
}: CreateAppOptions): Hono {
  const app = new Hono()
  const reads = cache ? new ReadCache({ version: () => dataVersion(db) }) : undefined
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      xFrameOptions: 'DENY',
      referrerPolicy: 'no-referrer',
    }),
  )
  app.route('/', assetRoutes())
  app.use('*', readDeadline(queryTimeoutMs))
  app.use('/api/*', requireTokenForWrites(auth.token))
  app.route('/api', apiRoutes(db, reads))
  app.route('/api', ingestRoutes(db, { maxBytes: maxIngestBytes, cache: reads }))
  app.route('/', pageRoutes(db, reads))

  const isApi = (path: string) => path === '/api' || path.startsWith('/api/')
  const respond = (path: string, status: number, title: string, problems: string[]) => {
    const response = isApi(path)
      ? jsonResponse({ error: title, problems }, status)
      : new Response(errorPage(status, title, problems).toString(), {
          status,
          headers: { 'content-type': 'text/html; charset=utf-8' },
        })
    return response
  }

  app.notFound((c) => respond(c.req.path, 404, 'Not found', [`nothing at ${c.req.path}`]))

  app.onError((err, c) => {
    const path = c.req.path
    let response: Response
    if (err instanceof BadRequestError) response = respond(path, 400, 'Bad request', err.problems)
    else if (err instanceof NotFoundError) response = respond(path, 404, 'Not found', [err.message])
    else if (err instanceof ServiceUnavailableError) {
      response = respond(path, 503, 'Service unavailable', [err.message])
      response.headers.set('retry-after', String(err.retryAfterS))
    } else if (err instanceof AuthError) {
      response = respond(path, err.status, err.status === 401 ? 'Unauthorized' : 'Forbidden', [err.message])
      if (err.status === 401) response.headers.set('www-authenticate', 'Bearer realm="bench"')
    } else if (err instanceof HTTPException && err.status < 500)
      response = respond(path, err.status, 'Bad request', [err.message || 'invalid request'])
    else {
      logError(err)
      response = respond(path, 500, 'Internal error', ['the dashboard failed to answer; see its log'])
    }
    // secureHeaders runs after next() returns; an error response still gets its headers.
    return response
  })
  return app
}

/**
 * Answers a read 503 once it has waited `timeoutMs` (the handler goes on in the background; what it
 * returns or throws then is dropped). Writes are not cut short: an ingest may take seconds by design.
 */
function readDeadline(timeoutMs: number): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return next()
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ServiceUnavailableError(
              `the database did not answer within ${timeoutMs / 1000} s; the page was given up (the server is still serving others). Try again shortly; if it keeps happening, narrow the page's filters or see the dashboard's log`,
              Math.max(1, Math.ceil(timeoutMs / 1000)),
            ),
          ),
        timeoutMs,
      )
    })
    const handled = next()
    // An error after the deadline has nobody to go to.
    handled.catch(() => {})
    try {
      await Promise.race([handled, expired])
    } finally {
      clearTimeout(timer)
    }
  }
}
