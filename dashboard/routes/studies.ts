/**
 * Studies routes (issue 20 item 5), mounted by routes/pages.ts (`/studies`, `/studies/:id`) and
 * routes/api.ts (their JSON twins, and two writes behind the bearer token, dashboard/auth.ts): launching a
 * study of the catalogue (data/studies.ts) as a `spec-study` queue job (db/studies/queue.ts), and cancelling
 * one still queued. A launch answers 409 when the database has no queue yet (no worker ever started on it).
 * @module
 */
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { z } from 'zod'
import type { Db } from '../../db/client.ts'
import { cancelStudy, enqueueStudy, QueueNotInstalledError } from '../../db/studies/queue.ts'
import { readStudy } from '../../db/studies/store.ts'
import { HarnessError } from '../../harness/errors.ts'
import {
  loadStudies,
  loadStudyModel,
  STUDY_FILE_PATTERN,
  studiesDir,
  studyCatalogue,
} from '../data/studies.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import { intParam, parseQuery, textParam } from '../params.ts'
import { studiesPage, studyPage } from '../views/studies.ts'
import { readJsonBody, smallBody } from './write-body.ts'

export const studyId = intParam(1, 2 ** 31 - 1)
export const studiesQuery = z.object({ limit: intParam(1, 500).default(50) })

/** What a launch sends: a study file of the catalogue (never a path) and an optional label. */
export const launchStudyBody = z
  .object({
    study: z
      .string()
      .max(100, 'at most 100 characters')
      .regex(STUDY_FILE_PATTERN, 'a study file of scenarios/: spec-<name>.ts or spec-<name>.json')
      .meta({
        description: 'A study file in the dashboard’s scenarios/ folder.',
        examples: ['spec-fixture-study.ts'],
      }),
    label: textParam.meta({ description: 'Free text stored with the study.' }).optional(),
  })
  .strict()

/** Largest launch body accepted, bytes (a file name and a label). */
const MAX_LAUNCH_BODY_BYTES = 4 * 1024

function parseStudyId(raw: string | undefined): number {
  const result = studyId.safeParse(raw ?? '')
  if (!result.success)
    throw new BadRequestError([`study id: ${result.error.issues[0]?.message ?? 'invalid'}`])
  return result.data
}

export function studyPageRoutes(db: Db): Hono {
  const app = new Hono()
  app.get('/studies', async (c) =>
    c.html(studiesPage(await loadStudies(db, parseQuery(studiesQuery, c.req.query()).limit))),
  )
  app.get('/studies/:id', async (c) =>
    c.html(studyPage(await loadStudyModel(db, parseStudyId(c.req.param('id'))))),
  )
  return app
}

/** JSON twins and the writes; `json` is routes/api.ts's escaping response. */
export function studyApiRoutes(db: Db, json: (value: unknown, status?: number) => Response): Hono {
  const app = new Hono()

  app.get('/studies', async (c) => json(await loadStudies(db, parseQuery(studiesQuery, c.req.query()).limit)))

  app.get('/studies/:id', async (c) => {
    const id = parseStudyId(c.req.param('id'))
    const stored = await readStudy(db, id)
    if (!stored) throw new NotFoundError(`study ${id} does not exist`)
    return json(stored)
  })

  app.post('/studies', smallBody(MAX_LAUNCH_BODY_BYTES), async (c) => {
    const parsed = launchStudyBody.safeParse(
      await readJsonBody(c, { example: '{"study": "spec-fixture-study.ts"}' }),
    )
    if (!parsed.success) throw BadRequestError.fromZod(parsed.error)
    const catalogue = await studyCatalogue()
    const entry = catalogue.find((e) => e.file === parsed.data.study)
    if (!entry)
      throw new NotFoundError(
        `no study file ${parsed.data.study} in ${studiesDir()} (launchable: ${catalogue.map((e) => e.file).join(', ') || 'none'})`,
      )
    if (!entry.study) throw new HTTPException(409, { message: `${entry.file} cannot run: ${entry.problem}` })
    try {
      const queued = await enqueueStudy(db, {
        ...(entry.kind === 'endpoint'
          ? { kind: 'endpoint' as const, study: entry.study }
          : { kind: 'native' as const, study: entry.study }),
        source: `scenarios/${entry.file}`,
        // The study's model paths are relative to the directory the dashboard runs in (as `bench spec`'s).
        baseDir: process.cwd(),
        ...(parsed.data.label !== undefined ? { label: parsed.data.label } : {}),
      })
      return json({ study: { id: queued.studyId, matrixId: queued.matrixId, state: 'queued' } }, 201)
    } catch (err) {
      if (err instanceof QueueNotInstalledError || err instanceof HarnessError)
        throw new HTTPException(409, { message: err.message })
      throw err
    }
  })

  app.post('/studies/:id/cancel', async (c) => {
    const id = parseStudyId(c.req.param('id'))
    const stored = await readStudy(db, id)
    if (!stored) throw new NotFoundError(`study ${id} does not exist`)
    if (!(await cancelStudy(db, id)))
      throw new HTTPException(409, {
        message: `study ${id} is ${stored.study.state === 'queued' ? 'already claimed by a worker' : stored.study.state}: only a study still waiting in the queue can be cancelled`,
      })
    return json({ study: { id, state: 'cancelled' } })
  })
  return app
}
