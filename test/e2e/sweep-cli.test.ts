/**
 * `bench sweep` from the command line and runSweep's interrupt, without latency assertions (the knee and
 * the over-saturation stop, which need a quiet machine, are in sweep.test.ts, run alone as `timed`): flag
 * errors, the API key, Ctrl-C, a lowest rate that fails, a step interrupted in its warm-up.
 */
import { spawn } from 'node:child_process'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runs, sweeps } from '../../db/schema.ts'
import type { MockServerHandle } from '../../harness/mock-server/server.ts'
import { startMockServerInWorker } from '../../harness/mock-server/worker.ts'
import { runSweep } from '../../harness/sweep/sweep.ts'
import { BENCH_BIN, runCli } from '../helpers/cli.ts'
import { createTestDatabase, dbBackends } from '../helpers/db.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'

let mock: MockServerHandle
beforeAll(async () => {
  mock = await startMockServerInWorker({ ttft: { kind: 'fixed', ms: 20 }, itl: { kind: 'fixed', ms: 10 } })
})
afterAll(async () => {
  await mock?.close()
})

describe('bench sweep', () => {
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
        own.url,
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
