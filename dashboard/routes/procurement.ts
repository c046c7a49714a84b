/**
 * Procurement routes, mounted by routes/pages.ts (the page) and routes/api.ts (its JSON twin, the
 * environments with their prices, and the two price writes behind the bearer token, dashboard/auth.ts:
 * an environment's price, for native targets; an endpoint target's serving identity).
 * @module
 */
import { Hono } from 'hono'
import type { Db } from '../../db/client.ts'
import { listEnvironmentsWithPrices, setEnvironmentPrice, setServingIdentity } from '../../db/prices.ts'
import type { ReadCache } from '../data/cache.ts'
import { loadProcurement, machineText } from '../data/procurement.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import { parseEnvironmentId, parseProcurementQuery, priceBody, servingBody } from '../params.ts'
import { procurementPage } from '../views/procurement.ts'
import { readJsonBody, smallBody } from './write-body.ts'

/** Largest price body accepted, bytes (a number and two short texts). */
const MAX_PRICE_BODY_BYTES = 4 * 1024
/** Largest serving body accepted, bytes (six short texts and two numbers). */
const MAX_SERVING_BODY_BYTES = 8 * 1024

export function procurementPageRoutes(db: Db, cache?: ReadCache): Hono {
  const app = new Hono()
  app.get('/procurement', async (c) =>
    c.html(
      procurementPage(
        await loadProcurement(db, parseProcurementQuery(c.req.query(), c.req.queries('targets')), cache),
      ),
    ),
  )
  return app
}

/** JSON of the procurement model and the environments; `json` is routes/api.ts's escaping response. */
export function procurementApiRoutes(db: Db, json: (value: unknown) => Response, cache?: ReadCache): Hono {
  const app = new Hono()

  app.get('/procurement', async (c) =>
    json(await loadProcurement(db, parseProcurementQuery(c.req.query(), c.req.queries('targets')), cache)),
  )

  app.get('/environments', async () => {
    const environments = await listEnvironmentsWithPrices(db)
    return json({
      environments: environments.map((e) => ({ ...e, hardware: machineText(e) })),
    })
  })

  app.put('/environments/:id/price', smallBody(MAX_PRICE_BODY_BYTES), async (c) => {
    const id = parseEnvironmentId(c.req.param('id'))
    const parsed = priceBody.safeParse(await readJsonBody(c, { example: '{"usdPerHour": 2.5}' }))
    if (!parsed.success) throw BadRequestError.fromZod(parsed.error)
    const price = await setEnvironmentPrice(db, id, {
      usdPerHour: parsed.data.usdPerHour,
      note: parsed.data.note ?? null,
      updatedBy: parsed.data.by ?? null,
    })
    if (!price) throw new NotFoundError(`no environment with id ${id}`)
    // This process's next read sees the price at once; other processes notice through dataVersion.
    cache?.invalidate()
    return json({ price })
  })

  app.put('/serving', smallBody(MAX_SERVING_BODY_BYTES), async (c) => {
    const parsed = servingBody.safeParse(
      await readJsonBody(c, {
        example: '{"scenario": "chat", "target": "vllm", "hardware": "AWS g6.xlarge", "usdPerHour": 0.8}',
      }),
    )
    if (!parsed.success) throw BadRequestError.fromZod(parsed.error)
    const b = parsed.data
    const serving = await setServingIdentity(db, b.scenario, b.target, {
      hardware: b.hardware,
      gpu: b.gpu ?? null,
      gpuCount: b.gpuCount ?? null,
      usdPerHour: b.usdPerHour,
      note: b.note ?? null,
      updatedBy: b.by ?? null,
    })
    if ('refused' in serving) {
      if (serving.refused === 'no-run')
        throw new NotFoundError(`scenario "${b.scenario}" has no run of target "${b.target}"`)
      throw new BadRequestError([
        `target: "${b.target}" runs on ${serving.engineKind}, served by the machine that ran it: price its environment${serving.environmentId !== null ? ` (#${serving.environmentId})` : ''} with PUT /api/environments/:id/price instead`,
      ])
    }
    cache?.invalidate()
    return json({ serving })
  })

  return app
}
