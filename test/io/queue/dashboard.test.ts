/**
 * Matrices launched from the dashboard (issue 19 item 3): POST /api/matrices queues a scenario file of
 * scenarios/ behind the bearer token (a web request never runs it), 409 while the database has no queue,
 * 400 naming the field for a split that cannot be made; GET /api/matrices/:id shows progress; POST
 * …/cancel stops what no worker holds.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../../dashboard/app.ts'
import { installQueue, queueConnection } from '../../../db/queue/connection.ts'
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts'

const TOKEN = 't'.repeat(32)

describe('matrices from the dashboard (PGlite)', () => {
  let t: TestDatabase
  let app: ReturnType<typeof createApp>
  const post = (path: string, body?: unknown, token: string | null = TOKEN) =>
    app.request(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })

  beforeAll(async () => {
    t = await createTestDatabase('pglite')
    app = createApp({ db: t.db, auth: { token: TOKEN }, cache: false })
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it('queues behind the token, refuses what it cannot queue, shows progress and cancels', async () => {
    expect((await post('/api/matrices', { scenario: 'mock-sweep.ts' }, null)).status).toBe(401)
    const missing = await post('/api/matrices', { scenario: 'mock-sweep.ts' })
    expect(missing.status).toBe(409)
    expect(await missing.text()).toMatch(/job queue is not installed.*bench worker/)

    await installQueue(queueConnection(t.db, t.options))
    expect((await post('/api/matrices', { scenario: 'no-such.ts' })).status).toBe(404)
    expect((await post('/api/matrices', { scenario: '../package.json' })).status).toBe(400)
    // mock-sweep.ts starts with a sequential step: it cannot be split between clients.
    const split = await post('/api/matrices', { scenario: 'mock-sweep.ts', clients: 2 })
    expect(split.status).toBe(409)
    expect(await split.text()).toMatch(/--clients 2: step 0 \(sequential\) cannot be split/)

    const launched = await post('/api/matrices', { scenario: 'mock-sweep.ts', label: 'from the dashboard' })
    expect(launched.status).toBe(201)
    const { matrix } = (await launched.json()) as { matrix: { id: number; jobs: number } }
    expect(matrix.jobs).toBe(5)
    const status = (await (await app.request(`/api/matrices/${matrix.id}`)).json()) as {
      label: string
      counts: { queued: number }
    }
    expect(status).toMatchObject({ label: 'from the dashboard', counts: { queued: 5 } })

    expect((await post(`/api/matrices/${matrix.id}/cancel`, undefined, null)).status).toBe(401)
    const cancelled = await post(`/api/matrices/${matrix.id}/cancel`)
    expect(await cancelled.json()).toEqual({ matrix: { id: matrix.id }, cancelled: 5, running: 0 })
    const after = (await (await app.request(`/api/matrices/${matrix.id}`)).json()) as {
      counts: { dead: number }
    }
    expect(after.counts.dead).toBe(5)
    expect((await post('/api/matrices/999999/cancel')).status).toBe(404)
  }, 90_000)
})
