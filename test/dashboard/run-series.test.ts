/**
 * The run page's series computed in SQL, on each backend, against hand-computed values: CDFs from
 * percentile_disc and output tokens per 1-s bucket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ratePerS, tokensOverTimeChart } from '../../dashboard/charts/tokens-over-time.ts'
import { runSeries } from '../../dashboard/data/run-series.ts'
import type { RequestOutcome } from '../../harness/results.ts'
import { errorOutcome, okOutcome, recordRun } from '../db/fixtures/data.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'

describe.each(dbBackends())('run series on %s', (backend) => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase(backend)
  })
  afterAll(async () => {
    await t?.dispose()
  })

  const record = (outcomes: RequestOutcome[]) => recordRun(t.db, outcomes)

  it('buckets tokens: the first at t1, the rest spread evenly to tLast (hand-computed)', async () => {
    const id = await record([
      // Sent at 0: t1 = 200, tLast = 1200; 6 tokens → 1 at 200, 5 over 1000 ms: 4 in [200, 1000), 1 in [1000, 1200).
      okOutcome(0, {
        startedAt: 0,
        scheduledAt: 0,
        ttftMs: 200,
        e2eMs: 1200,
        outputTokens: 6,
        chunkGapsMs: [500, 500],
      }),
      // Sent at 1000: t1 = 1500, tLast = 2500; 3 tokens → 1 at 1500, 2 over 1000 ms: 1 in [1500, 2000), 1 in [2000, 2500).
      okOutcome(1, {
        startedAt: 1000,
        scheduledAt: 1000,
        ttftMs: 500,
        e2eMs: 1500,
        outputTokens: 3,
        chunkGapsMs: [1000],
      }),
      // One token, so nothing to spread: 1 at 2100.
      okOutcome(2, {
        startedAt: 2000,
        scheduledAt: 2000,
        ttftMs: 100,
        e2eMs: 100,
        outputTokens: 1,
        chunkGapsMs: [],
      }),
      errorOutcome(3),
    ])
    const s = await runSeries(t.db, id)
    expect(
      s.outputTokensPerSecond.map((b) => [b.startS, Number(b.tokens.toFixed(9)), b.partial]),
      'buckets',
    ).toEqual([
      [0, 5, false],
      [1, 3, false],
      [2, 2, true],
    ])
    // The run ends at 2500 ms (request 1's last token): the last bucket covers 0.5 s, so its 2 tokens
    // are 4 tokens/s, not a bar of 2 that reads as a collapse.
    const last = s.outputTokensPerSecond.at(-1)!
    expect(last.coveredS, 'last bucket: seconds covered').toBeCloseTo(0.5, 9)
    expect(ratePerS(last), 'last bucket: tokens per covered second').toBeCloseTo(4, 9)
    expect(
      tokensOverTimeChart(s.outputTokensPerSecond).data.datasets[0]?.data,
      'chart: every bar a rate',
    ).toEqual([5, 3, 4])
  })

  it('gives the exact empirical CDFs of TTFT and TPOT for a small run', async () => {
    const id = await record([
      okOutcome(0, { ttftMs: 30, e2eMs: 100, outputTokens: 8 }), // tpot 10
      okOutcome(1, { ttftMs: 10, e2eMs: 80, outputTokens: 15 }), // tpot 5
      okOutcome(2, { ttftMs: 20, e2eMs: 20, outputTokens: 1 }), // no tpot
      okOutcome(3, { ttftMs: 20, e2eMs: 90, outputTokens: 8 }), // tpot 10
      errorOutcome(4),
    ])
    const s = await runSeries(t.db, id)
    expect(s.ttftCdf, 'ttft').toEqual([
      { x: 10, y: 0 },
      { x: 10, y: 0.25 },
      { x: 20, y: 0.75 },
      { x: 30, y: 1 },
    ])
    expect(s.tpotCdf, 'tpot: requests with ≥ 2 tokens').toEqual([
      { x: 5, y: 0 },
      { x: 5, y: 1 / 3 },
      { x: 10, y: 1 },
    ])
  })

  it('is empty for a run without ok requests', async () => {
    const id = await record([errorOutcome(0), errorOutcome(1)])
    expect(await runSeries(t.db, id), 'nothing to chart').toEqual({
      ttftCdf: [],
      tpotCdf: [],
      outputTokensPerSecond: [],
    })
  })
})
