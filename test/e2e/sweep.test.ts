import { spawn } from 'node:child_process'
import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb } from '../../db/client.ts'
import { runs, sweeps } from '../../db/schema.ts'
import { capacityKnee } from '../../harness/mock-server/knee.ts'
import type { MockServerHandle } from '../../harness/mock-server/server.ts'
import { startMockServerInWorker } from '../../harness/mock-server/worker.ts'
import { runSweep } from '../../harness/sweep/sweep.ts'
import { BENCH_BIN, runCli } from '../helpers/cli.ts'
import { createTestDatabase, dbBackends, freshPgliteDir, removeTestDir } from '../helpers/db.ts'
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

  it('a bad --slo is one line naming the flag and the fix; nothing starts', async () => {
    const r = await runCli(['sweep', mock.url, '--slo', 'ttftMsP95', '--no-db'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'bench: --slo "ttftMsP95": missing "="; use NAME=MS with NAME one of ttftMsP95, tpotMsP95, e2eMsP95, chunkGapsMsP95 (or P50, P90, P99), e.g. --slo ttftMsP95=500\n',
    )
    expect(r.stdout).toBe('')
    const none = await runCli(['sweep', mock.url, '--no-db'])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/^bench: --slo: give at least one bound; use NAME=MS/)
  })

  it('sends the key of --api-key-env (the model found through GET /models), and never prints it', async () => {
    const key = 'sk-sweep-test-0123456789'
    const secured = await startMockServerInWorker({
      apiKey: key,
      model: 'secured-model',
      ttft: { kind: 'fixed', ms: 5 },
      itl: { kind: 'fixed', ms: 2 },
    })
    try {
      const args = ['sweep', secured.url, '--slo', 'ttftMsP95=500', '--min-rate', '2', '--max-rate', '2']
      const common = ['--duration', '0.5', '--output-tokens', '4', '--warmup', '0', '--no-db']
      const r = await runCli([...args, ...common, '--api-key-env', 'SWEEP_KEY'], { env: { SWEEP_KEY: key } })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/knee: at least 2 requests\/s \(--max-rate passed/)
      expect(r.stdout + r.stderr).not.toContain(key)
      // Without the variable: one line before anything starts.
      const missing = await runCli([...args, ...common, '--api-key-env', 'SWEEP_KEY_UNSET'])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toBe(
        'bench: --api-key-env: the environment variable SWEEP_KEY_UNSET is not set or empty; export it first\n',
      )
    } finally {
      await secured.close()
    }
  })

  it('Ctrl-C ends the current step and the sweep: exit 1, the steps so far printed', async () => {
    // Its own mock: the count of served requests below must start at 0.
    const own = await startMockServerInWorker({
      ttft: { kind: 'fixed', ms: 20 },
      itl: { kind: 'fixed', ms: 10 },
    })
    const child = spawn(
      process.execPath,
      [
        BENCH_BIN,
        'sweep',
        mock.url,
        '--slo',
        'tpotMsP95=20',
        '--min-rate',
        '4',
        '--duration',
        '20',
        '--no-db',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      // Interrupt once the first step is sending (the mock has answered a generation request).
      const served = async () =>
        /mock_requests_total\{route="\/v1\/chat\/completions",status="200"\} [1-9]/.test(
          await (await fetch(own.url.replace('/v1', '/metrics'))).text(),
        )
      for (let i = 0; i < 300 && !(await served()); i++) await new Promise((r) => setTimeout(r, 50))
      const sentAt = performance.now()
      child.kill('SIGINT')
      const code = await exited
      expect(code, stderr).toBe(1)
      // In-flight requests are aborted: the sweep ends long before the 20 s step would.
      expect(performance.now() - sentAt).toBeLessThan(10_000)
      expect(stderr).toMatch(/interrupting: ending the current step/)
      expect(stdout).toMatch(/\n1\s+coarse\s+4\s/)
      expect(stdout).toMatch(/\ninterrupted\n?$/)
    } finally {
      child.kill('SIGKILL')
      await own.close()
    }
  }, 60_000)

  const lowestFails = (db: string[]) => [
    'sweep',
    mock.url,
    '--slo',
    'ttftMsP95=5', // the mock's TTFT alone is 20 ms
    '--min-rate',
    '2',
    '--duration',
    '0.5',
    '--output-tokens',
    '4',
    '--warmup',
    '0',
    ...db,
  ]

  it('exit 1 when even the lowest rate fails, saying so', async () => {
    const r = await runCli(lowestFails(['--no-db']))
    expect(r.code, r.stderr).toBe(1)
    expect(r.stdout).toMatch(
      /^step\s+phase\s+rate\/s\s+achieved rps\s+TTFT p95 ms\s+TPOT p95 ms\s+goodput rps\s+result\n/,
    )
    expect(r.stdout).toMatch(
      /\n1\s+coarse\s+2\s.*FAIL: ttftMsP95 \d+\.\d ms > 5 ms( \(client saturated\))?\n/,
    )
    expect(r.stdout).toMatch(
      /no knee: even the lowest rate, 2\/s, fails ttftMsP95 ≤ 5 ms .*lower --min-rate or loosen --slo/,
    )
  })

  // PGlite is covered by the knee test above (the same writes); PostgreSQL here when DATABASE_URL is set.
  it.runIf(dbBackends().includes('postgres'))(
    'stores a sweep whose lowest rate fails as failed (postgres)',
    async () => {
      const test = await createTestDatabase('postgres')
      try {
        const r = await runCli(lowestFails(['--db', test.options.url!]))
        expect(r.code, r.stderr).toBe(1)
        const rows = await test.db.select().from(sweeps)
        expect(rows).toHaveLength(1)
        expect(rows[0]).toMatchObject({ state: 'failed', end: 'lowest-fails', kneeRatePerS: null })
        const stepRuns = await test.db
          .select({ step: runs.sweepStep, state: runs.state })
          .from(runs)
          .where(eq(runs.sweepId, rows[0]!.id))
        expect(stepRuns).toEqual([{ step: 0, state: 'completed' }])
      } finally {
        await test.dispose()
      }
    },
    60_000,
  )
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

describe('runSweep interrupted', () => {
  it('ties a step interrupted in its warm-up to the sweep too (its run has no load-start)', async () => {
    const slow = await startMockServerInWorker({ ttft: { kind: 'fixed', ms: 3000 } })
    try {
      const sink = createMemorySink()
      const controller = new AbortController()
      const tied: [string, number, number][] = []
      const sweep = runSweep({
        baseUrl: slow.url,
        model: 'mock-model',
        slos: [{ name: 'ttftMsP95', metric: 'ttftMs', percentile: 95, maxMs: 5000 }],
        search: { minRatePerS: 1, maxRatePerS: 4, tolerance: 0.05, maxSteps: 5 },
        durationS: 5,
        arrivals: 'constant',
        promptTokens: 8,
        outputTokens: 4,
        warmupRequests: 1,
        requestTimeoutMs: 30_000,
        maxErrorRate: 0.01,
        name: 'sweep-interrupt',
        target: 'mock',
        sink,
        signal: controller.signal,
        onStepStart: (runId, index, rate) => {
          tied.push([runId, index, rate])
        },
      })
      // Interrupt while the warm-up request waits for its first token.
      const inFlight = async () =>
        /mock_streams_in_flight 1/.test(await (await fetch(slow.url.replace('/v1', '/metrics'))).text())
      for (let i = 0; i < 200 && !(await inFlight()); i++) await new Promise((r) => setTimeout(r, 25))
      controller.abort(new Error('test interrupt'))
      const result = await sweep
      expect(result.end).toBe('aborted')
      expect(sink.runs.map((r) => r.state)).toEqual(['interrupted'])
      expect(tied).toEqual([['1', 0, 1]])
    } finally {
      await slow.close()
    }
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
