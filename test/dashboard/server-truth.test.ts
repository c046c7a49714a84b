/**
 * The run page says how much of TTFT and TPOT the server's own clock accounts for, and warns when TTFT
 * measured prompt-cache hits: runs recorded through the real sink with llama-server `timings`, rendered
 * by the real app, on each database backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import type { RequestOutcome } from '../../harness/results.ts'
import { okOutcome, recordRun } from '../db/fixtures/data.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'

describe.each(dbBackends())('run page: server timings on %s', (backend) => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase(backend)
  })
  afterAll(async () => {
    await t?.dispose()
  })

  const record = (outcomes: RequestOutcome[]) => recordRun(t.db, outcomes)

  const page = async (id: number) => {
    const response = await createApp({ db: t.db, auth: {} }).request(`/runs/${id}`)
    expect(response.status, 'page').toBe(200)
    return response.text()
  }

  // TTFT 30 ms of which the server's prompt 25 ms; TPOT (120 − 30) / 9 = 10 ms, server 72 / 9 = 8 ms.
  const timed = (seq: number, cacheN: number, promptN: number) =>
    okOutcome(seq, {
      startedAt: seq * 200,
      scheduledAt: seq * 200,
      ttftMs: 30,
      e2eMs: 120,
      outputTokens: 10,
      chunkGapsMs: Array.from({ length: 9 }, () => 10),
      serverTimings: { promptN, promptMs: 25, predictedN: 10, predictedMs: 72, cacheN },
    })

  it('splits TTFT and TPOT into the server’s time and the rest', async () => {
    const html = await page(await record([timed(0, 1, 39), timed(1, 1, 39), timed(2, 1, 39)]))
    expect(html, 'the section').toContain('Server timings (3 requests)')
    expect(html, 'server prompt p50').toContain('prompt evaluation p50 25')
    expect(html, 'outside the server: 30 − 25').toMatch(/and 5(\.0+)? ms p50 outside it/)
    expect(html, 'server TPOT 72 / 9').toMatch(/8(\.0+)? ms by the server's clock/)
    expect(html, 'no cache hit (a BOS alone is none)').toContain(
      'No request’s TTFT measured a prompt-cache hit'.replace('’', "'"),
    )
  })

  it('warns when TTFT measured prompt-cache hits', async () => {
    const html = await page(await record([timed(0, 36, 4), timed(1, 1, 39)]))
    expect(html, 'hits').toContain('1 of 2 requests took at least half their prompt')
  })

  it('says nothing when the server sent no timings', async () => {
    const html = await page(
      await record([
        okOutcome(0, { startedAt: 0, scheduledAt: 0, ttftMs: 30, e2eMs: 120, outputTokens: 10 }),
      ]),
    )
    expect(html, 'no section').not.toContain('Server timings')
  })
})
