/**
 * Matrix pages (db/queue), mounted by routes/pages.ts (`/matrices`, `/matrices/:id`): the progress of
 * queued matrices. Read-only; their JSON is `bench matrix status <id> --json` (an /api twin would need its
 * OpenAPI entry first), and enqueueing from the dashboard (issue 19 item 3) is not here yet.
 * @module
 */
import { Hono } from 'hono'
import { z } from 'zod'
import type { Db } from '../../db/client.ts'
import { listMatrices, matrixStatus } from '../../db/queue/status.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import { intParam, parseQuery } from '../params.ts'
import { matricesPage, matrixPage } from '../views/matrices.ts'

const matrixId = intParam(1, 2 ** 31 - 1)
export const matricesQuery = z.object({ limit: intParam(1, 500).default(50) })

function parseMatrixId(raw: string | undefined): number {
  const result = matrixId.safeParse(raw ?? '')
  if (!result.success)
    throw new BadRequestError([`matrix id: ${result.error.issues[0]?.message ?? 'invalid'}`])
  return result.data
}

async function loadMatrix(db: Db, id: number) {
  const status = await matrixStatus(db, id)
  if (!status) throw new NotFoundError(`matrix ${id} does not exist`)
  return status
}

export function matrixPageRoutes(db: Db): Hono {
  const app = new Hono()
  app.get('/matrices', async (c) =>
    c.html(matricesPage(await listMatrices(db, parseQuery(matricesQuery, c.req.query()).limit))),
  )
  app.get('/matrices/:id', async (c) =>
    c.html(matrixPage(await loadMatrix(db, parseMatrixId(c.req.param('id'))))),
  )
  return app
}
