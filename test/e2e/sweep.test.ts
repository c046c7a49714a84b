import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb } from '../../db/client.ts'
import { runs, sweeps } from '../../db/schema.ts'
import { capacityKnee } from '../../harness/mock-server/knee.ts'
import type { MockServerHandle } from '../../harness/mock-server/server.ts'
import { startMockServerInWorker } from '../../harness/mock-server/worker.ts'
import { runSweep } from '../../harness/sweep/sweep.ts'
import { runCli } from '../helpers/cli.ts'
import { freshPgliteDir, removeTestDir } from '../helpers/db.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'

/**
 * The capacity mock of the knee test: 8 slots, TTFT 20 ms, 10 ms per token growing by 25 % per extra
 * request in the batch, 20 output tokens. With TPOT p95 ≤ 20 ms its knee is ~12.5 requests/s (the TPOT
 * bound: 5 in the batch); the queue starts at ~14.8/s.
 */
const MODEL = { slots: 8, itlGrowth: 0.25, ttftMs: 20, itlMs: 10, outputTokens: 20 }
const STEP_S = 1.2

let mock: MockServerHandle
beforeAll(async () => {
  mock = await startMockServerInWorker({
    ttft: { kind: 'fixed', ms: MODEL.ttftMs },
    itl: { kind: 'fixed', ms: MODEL.itlMs },
    capacity: { slots: MODEL.slots, itlGrowth: MODEL.itlGrowth },
  })
})
afterAll(async () => {
  await mock?.close()
})

interface SweepJson {
  sweepId: number | null
  end: string
  knee?: number
  firstFailing?: number
  steps: { index: number; ratePerS: number; pass: boolean; runId?: string; reason?: string }[]
}

describe('bench sweep', () => {
  it('finds the capacity mock knee within 10 % of the computed one; every step a run of one sweep', async () => {
    // TPOT binds (the TTFT bound only past the queue, ~23/s for 1.2 s steps): a loaded machine's TTFT spikes
    // cannot decide the knee.
    const expected = capacityKnee(MODEL, { ttftMsP95: 500, tpotMsP95: 20 }, STEP_S)!
    const dataDir = await freshPgliteDir()
    try {
      const started = performance.now()
      const r = await runCli(
        [
          'sweep',
          mock.url,
          '--slo',
          'ttftMsP95=500',
          '--slo',
          'tpotMsP95=20',
          '--min-rate',
          '8',
          '--max-rate',
          '64',
          '--duration',
          String(STEP_S),
          '--output-tokens',
          String(MODEL.outputTokens),
          '--prompt-tokens',
          '16',
          // One warm-up request per step: the CLI's first requests pay for its start (JIT, the database worker).
          '--warmup',
          '1',
          '--json',
          '--db',
          dataDir,
        ],
        { timeoutMs: 90_000 },
      )
      const elapsedS = (performance.now() - started) / 1000
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)
      const out = JSON.parse(r.stdout) as SweepJson
      expect(out.end).toBe('bracketed')
      expect(
        Math.abs(out.knee! - expected) / expected,
        `knee ${out.knee} vs computed ${expected}`,
      ).toBeLessThan(0.1)
      // The stated tolerance: the first failing rate is within 5 % of the knee.
      expect((out.firstFailing! - out.knee!) / out.knee!).toBeLessThanOrEqual(0.05)
      // Bounded: 8/s, 16/s, then bisection between them: 6 steps of ~1.5 s when the knee is near 12.5/s.
      expect(out.steps.length).toBeLessThanOrEqual(8)
      expect(elapsedS).toBeLessThan(60)

      const db = await createDb({ dataDir })
      try {
        const [sweep] = await db.select().from(sweeps).where(eq(sweeps.id, out.sweepId!))
        expect(sweep?.state).toBe('completed')
        expect(sweep?.end).toBe('bracketed')
        expect(sweep?.kneeRatePerS).toBe(out.knee)
        expect(sweep?.firstFailingRatePerS).toBe(out.firstFailing)
        expect(sweep?.model).toBe('mock-model')
        const stepRuns = await db
          .select({ id: runs.id, step: runs.sweepStep, load: runs.load, state: runs.state })
          .from(runs)
          .where(eq(runs.sweepId, out.sweepId!))
          .orderBy(asc(runs.sweepStep))
        expect(stepRuns.map((s) => s.step)).toEqual(out.steps.map((s) => s.index))
        expect(stepRuns.map((s) => String(s.id))).toEqual(out.steps.map((s) => s.runId))
        expect(stepRuns.map((s) => (s.load as { ratePerS: number }).ratePerS)).toEqual(
          out.steps.map((s) => s.ratePerS),
        )
      } finally {
        await db.close()
      }
    } finally {
      removeTestDir(dataDir)
    }
  }, 120_000)
})

describe('runSweep over-saturation stop', () => {
  it('ends a step whose queue grows early, stores it failed with the reason, measurements kept', async () => {
    // One slot, 20 ms + 19 × 10 ms = 210 ms a request (≤ 4.8/s): 20/s for 8 s would queue ~120 requests.
    const sink = createMemorySink()
    const started = performance.now()
    const result = await runSweep({
      baseUrl: mockOneSlot.url,
      model: 'mock-model',
      slos: [{ name: 'ttftMsP95', metric: 'ttftMs', percentile: 95, maxMs: 100 }],
      search: { minRatePerS: 20, maxRatePerS: 20, tolerance: 0.05, maxSteps: 1 },
      durationS: 8,
      arrivals: 'constant',
      promptTokens: 8,
      outputTokens: 20,
      warmupRequests: 0,
      requestTimeoutMs: 30_000,
      maxErrorRate: 0.01,
      name: 'sweep-saturation',
      target: 'mock',
      sink,
    })
    const elapsedS = (performance.now() - started) / 1000
    expect(result.end).toBe('lowest-fails')
    expect(result.steps[0]!.reason).toMatch(/^stopped early: over-saturated: TTFT rising/)
    // Stopped well before the 8 s of arrivals (and the ~25 s the queue would have needed to drain).
    expect(elapsedS).toBeLessThan(6)
    const run = sink.runs[0]!
    expect(run.state).toBe('failed')
    expect(run.error).toMatch(/^stopped early: over-saturated/)
    expect(run.metrics?.ok).toBeGreaterThanOrEqual(8)
    // The requests cut by the stop are aborted, in no figure.
    expect(run.metrics?.abortedRequests).toBeGreaterThan(0)
    expect(run.metrics?.errors).toBe(0)
  }, 30_000)
})

let mockOneSlot: MockServerHandle
beforeAll(async () => {
  mockOneSlot = await startMockServerInWorker({
    ttft: { kind: 'fixed', ms: 20 },
    itl: { kind: 'fixed', ms: 10 },
    capacity: { slots: 1 },
  })
})
afterAll(async () => {
  await mockOneSlot?.close()
})
