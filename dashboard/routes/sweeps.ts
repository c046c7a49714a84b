/**
 * Sweep routes, mounted by routes/pages.ts (`/sweeps`, `/sweeps/:id`) and routes/api.ts (their JSON
 * twins), with the zod schemas they validate with (routes/openapi.ts documents them from these).
 * @module
 */
import { Hono } from 'hono'
import { z } from 'zod'
import type { Db } from '../../db/client.ts'
import type { ReadCache } from '../data/cache.ts'
import { loadSweep, loadSweeps } from '../data/sweeps.ts'
import { BadRequestError } from '../errors.ts'
import { intParam, parseQuery } from '../params.ts'
import { sweepPage } from '../views/sweep.ts'
import { sweepsPage } from '../views/sweeps.ts'

/** Sweep ids are PostgreSQL integers. */
export const sweepId = intParam(1, 2 ** 31 - 1)

/** Most sweeps one page lists. */
export const MAX_SWEEPS_LIMIT = 500

export const sweepsQuery = z.object({
  limit: intParam(1, MAX_SWEEPS_LIMIT).default(50),
  offset: intParam(0, 1_000_000).default(0),
})

export function parseSweepId(raw: string | undefined): number {
  const result = sweepId.safeParse(raw ?? '')
  if (!result.success)
    throw new BadRequestError([`sweep id: ${result.error.issues[0]?.message ?? 'invalid'}`])
  return result.data
}

export function sweepPageRoutes(db: Db, cache?: ReadCache): Hono {
  const app = new Hono()
  app.get('/sweeps', async (c) =>
    c.html(sweepsPage(await loadSweeps(db, parseQuery(sweepsQuery, c.req.query()), cache))),
  )
  app.get('/sweeps/:id', async (c) =>
    c.html(sweepPage(await loadSweep(db, parseSweepId(c.req.param('id')), cache))),
  )
  return app
}

/** JSON of the same models; `json` is routes/api.ts's escaping response. */
export function sweepApiRoutes(db: Db, json: (value: unknown) => Response, cache?: ReadCache): Hono {
  const app = new Hono()
  app.get('/sweeps', async (c) => json(await loadSweeps(db, parseQuery(sweepsQuery, c.req.query()), cache)))
  app.get('/sweeps/:id', async (c) => json(await loadSweep(db, parseSweepId(c.req.param('id')), cache)))
  return app
}
