/**
 * JSON API: every page's model as JSON, the per-request rows of a run, and writes (behind the bearer
 * token, dashboard/auth.ts). Responses escape `<`, `>` and `&` as \u sequences (still the same JSON), so
 * no echoed input can be read as markup whatever a client sniffs.
 * @module
 */
import { Hono } from 'hono'
import type { Db } from '../../db/client.ts'
import { listRunRequests } from '../../db/queries/index.ts'
import { runExists } from '../../db/queries/run-detail.ts'
import { setRunLabel } from '../../db/queries/run-label.ts'
import { type AlertAction, actOnAlert, loadAlerts } from '../data/alerts.ts'
import type { ReadCache } from '../data/cache.ts'
import { loadCompare } from '../data/compare.ts'
import { loadHistory } from '../data/history.ts'
import { loadLeaderboard } from '../data/leaderboard.ts'
import { cachedSeries } from '../data/pickers.ts'
import { loadRun } from '../data/run.ts'
import { loadRuns } from '../data/runs.ts'
import { loadVariants } from '../data/variants.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import {
  alertActionBody,
  alertsQuery,
  compareQuery,
  historyQuery,
  labelBody,
  leaderboardQuery,
  parseAlertId,
  parseQuery,
  parseRunId,
  requestsQuery,
  runsQuery,
  seriesQuery,
  variantsQuery,
} from '../params.ts'
import { safeJson } from '../views/html.ts'
import { matrixApiRoutes } from './matrices.ts'
import { OPENAPI_DOCUMENT } from './openapi.ts'
import { procurementApiRoutes } from './procurement.ts'
import { studyApiRoutes } from './studies.ts'
import { sweepApiRoutes } from './sweeps.ts'
import { readJsonBody, smallBody } from './write-body.ts'

/** Largest JSON body a write accepts, bytes. */
export const MAX_WRITE_BODY_BYTES = 16 * 1024

export function jsonResponse(value: unknown, status = 200): Response {
  return new Response(safeJson(value), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  })
}

export function apiRoutes(db: Db, cache?: ReadCache): Hono {
  const app = new Hono()

  app.get('/openapi.json', () => jsonResponse(OPENAPI_DOCUMENT))

  app.get('/leaderboard', async (c) =>
    jsonResponse(await loadLeaderboard(db, parseQuery(leaderboardQuery, c.req.query()), cache)),
  )

  app.get('/variants', async (c) =>
    jsonResponse(await loadVariants(db, parseQuery(variantsQuery, c.req.query()), cache)),
  )

  app.get('/history', async (c) =>
    jsonResponse(await loadHistory(db, parseQuery(historyQuery, c.req.query()))),
  )

  app.get('/series', async (c) =>
    jsonResponse({ series: await cachedSeries(db, parseQuery(seriesQuery, c.req.query()), cache) }),
  )

  app.get('/runs', async (c) => jsonResponse(await loadRuns(db, parseQuery(runsQuery, c.req.query()), cache)))

  app.get('/runs/:id', async (c) => jsonResponse(await loadRun(db, parseRunId(c.req.param('id')), cache)))

  app.get('/runs/:id/requests', async (c) => {
    const id = parseRunId(c.req.param('id'))
    const page = parseQuery(requestsQuery, c.req.query())
    const [exists, requests] = await Promise.all([
      runExists(db, id),
      listRunRequests(db, id, {
        limit: page.limit,
        offset: page.offset,
        chunkGaps: page.chunkGaps,
        ...(page.state !== undefined ? { state: page.state } : {}),
      }),
    ])
    if (!exists) throw new NotFoundError(`no run with id ${id}`)
    return jsonResponse({ runId: id, limit: page.limit, offset: page.offset, requests })
  })

  app.get('/compare', async (c) => {
    const { a, b } = parseQuery(compareQuery, c.req.query())
    return jsonResponse(await loadCompare(db, a, b))
  })

  app.post('/runs/:id/label', smallBody(MAX_WRITE_BODY_BYTES), async (c) => {
    const id = parseRunId(c.req.param('id'))
    const parsed = labelBody.safeParse(await readJsonBody(c))
    if (!parsed.success) throw BadRequestError.fromZod(parsed.error)
    if (!(await setRunLabel(db, id, parsed.data.label))) throw new NotFoundError(`no run with id ${id}`)
    // Labels show on the run and the runs list: the next read must not serve the cached page.
    cache?.invalidate()
    return jsonResponse({ runId: id, label: parsed.data.label })
  })

  app.get('/alerts', async (c) =>
    jsonResponse(await loadAlerts(db, parseQuery(alertsQuery, c.req.query()), cache)),
  )

  // The body is optional (`{ by?, note? }`); an empty one is `{}`.
  for (const action of ['acknowledge', 'dismiss'] as const satisfies readonly AlertAction[])
    app.post(`/alerts/:id/${action}`, smallBody(MAX_WRITE_BODY_BYTES), async (c) => {
      const id = parseAlertId(c.req.param('id'))
      const body = await readJsonBody(c, { example: '{"by": "ana", "note": "bisecting"}', empty: {} })
      const parsed = alertActionBody.safeParse(body)
      if (!parsed.success) throw BadRequestError.fromZod(parsed.error)
      return jsonResponse({ alert: await actOnAlert(db, id, action, parsed.data, cache) })
    })

  app.route('/', procurementApiRoutes(db, jsonResponse, cache))

  app.route('/', sweepApiRoutes(db, jsonResponse, cache))

  app.route('/', studyApiRoutes(db, jsonResponse))

  app.route('/', matrixApiRoutes(db, jsonResponse))

  return app
}
