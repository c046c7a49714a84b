/**
 * Matrix routes (db/queue), mounted by routes/pages.ts (`/matrices`, `/matrices/:id`: progress) and
 * routes/api.ts (their JSON twins, and two writes behind the bearer token, dashboard/auth.ts): queueing a
 * scenario file of the dashboard's scenarios/ folder as a matrix — a web request never runs it, workers
 * do — and cancelling a matrix's jobs no worker holds. A launch answers 409 when the database has no queue
 * yet (no worker or `bench enqueue` ever installed it: the dashboard has no connection string to do it).
 * @module
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { z } from 'zod'
import type { Db } from '../../db/client.ts'
import { cancelMatrix } from '../../db/queue/cancel.ts'
import { enqueueMatrix, QueueMissingError } from '../../db/queue/enqueue.ts'
import { listMatrices, matrixStatus } from '../../db/queue/status.ts'
import { parseTags, TAG } from '../../db/queue/tags.ts'
import { loadScenario } from '../../harness/config/index.ts'
import { HarnessError, ScenarioError } from '../../harness/errors.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import { intParam, parseQuery, textParam } from '../params.ts'
import { matricesPage, matrixPage } from '../views/matrices.ts'
import { readJsonBody, smallBody } from './write-body.ts'

export const matrixId = intParam(1, 2 ** 31 - 1)
export const matricesQuery = z.object({ limit: intParam(1, 500).default(50) })

/** A scenario file's name in scenarios/ (never a path). */
const SCENARIO_FILE = /^[a-z0-9][a-z0-9_-]*\.(ts|json)$/

/** What a launch sends: a scenario file of the dashboard's scenarios/ folder and how to queue it. */
export const launchMatrixBody = z
  .object({
    scenario: z
      .string()
      .max(100, 'at most 100 characters')
      .regex(SCENARIO_FILE, 'a scenario file of scenarios/: <name>.ts or <name>.json')
      .meta({
        description: 'A scenario file in the dashboard’s scenarios/ folder.',
        examples: ['mock-sweep.ts'],
      }),
    label: textParam.meta({ description: 'Free text stored with every run of the matrix.' }).optional(),
    clients: z
      .number()
      .int()
      .min(1)
      .max(64)
      .meta({ description: 'Load generators per step (bench enqueue --clients). Default 1.' })
      .optional(),
    require: z
      .array(z.string().max(100).regex(TAG, 'key=value, e.g. gpu=h100'))
      .max(8)
      .meta({ description: 'Tags a worker must have, e.g. ["gpu=h100"].' })
      .optional(),
  })
  .strict()

/** Largest launch body accepted, bytes. */
const MAX_LAUNCH_BODY_BYTES = 4 * 1024

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

/** JSON twins and the writes; `json` is routes/api.ts's escaping response. */
export function matrixApiRoutes(db: Db, json: (value: unknown, status?: number) => Response): Hono {
  const app = new Hono()
  app.get('/matrices', async (c) =>
    json(await listMatrices(db, parseQuery(matricesQuery, c.req.query()).limit)),
  )
  app.get('/matrices/:id', async (c) => json(await loadMatrix(db, parseMatrixId(c.req.param('id')))))

  app.post('/matrices', smallBody(MAX_LAUNCH_BODY_BYTES), async (c) => {
    const parsed = launchMatrixBody.safeParse(
      await readJsonBody(c, { example: '{"scenario": "mock-sweep.ts"}' }),
    )
    if (!parsed.success) throw BadRequestError.fromZod(parsed.error)
    const dir = path.resolve('scenarios')
    const file = path.join(dir, parsed.data.scenario)
    if (!existsSync(file)) throw new NotFoundError(`no scenario file ${parsed.data.scenario} in ${dir}`)
    try {
      const requiredTags = parseTags(parsed.data.require ?? [], 'require')
      const { scenario } = await loadScenario(file)
      const queued = await enqueueMatrix(db, undefined, {
        scenario,
        file,
        requiredTags,
        clients: parsed.data.clients ?? 1,
        ...(parsed.data.label !== undefined ? { label: parsed.data.label } : {}),
      })
      return json({ matrix: { id: queued.matrixId, jobs: queued.jobs } }, 201)
    } catch (err) {
      if (err instanceof QueueMissingError) throw new HTTPException(409, { message: err.message })
      // The request is well formed; the file's content refuses it (invalid, or not splittable as asked).
      if (err instanceof ScenarioError || err instanceof HarnessError)
        throw new HTTPException(409, { message: err.message })
      throw err
    }
  })

  app.post('/matrices/:id/cancel', async (c) => {
    const id = parseMatrixId(c.req.param('id'))
    await loadMatrix(db, id)
    return json({ matrix: { id }, ...(await cancelMatrix(db, id)) })
  })
  return app
}
