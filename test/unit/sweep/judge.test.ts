import { describe, expect, it } from 'vitest'
import type { RunMetrics } from '../../../harness/metrics/types.ts'
import type { LoadRunResult } from '../../../harness/runner.ts'
import { parseSloSpecs } from '../../../harness/sweep/slo.ts'
import { judgeStep, type SweepOptions, stepScenario } from '../../../harness/sweep/sweep.ts'
import { createMemorySink } from '../../helpers/memory-sink.ts'

const slos = parseSloSpecs(['ttftMsP95=500', 'tpotMsP95=50'])
const dist = (p95: number) => ({
  n: 10,
  mean: p95,
  sd: 0,
  min: p95,
  max: p95,
  p50: p95,
  p90: p95,
  p95,
  p99: p95,
  p999: p95,
})
const metrics = (over: Partial<RunMetrics> = {}): RunMetrics =>
  ({
    windowMs: 1000,
    attempted: 10,
    ok: 10,
    errors: 0,
    errorsByKind: {},
    requestsPerS: 10,
    outputTokensPerS: 100,
    totalTokensPerS: 200,
    peakOutputTokensPerS: 100,
    effectiveConcurrency: 1,
    errorRate: 0,
    droppedRequests: 0,
    clientSaturated: false,
    ttftMs: dist(100),
    tpotMs: dist(20),
    ...over,
  }) as RunMetrics
const run = (over: Partial<LoadRunResult> = {}): LoadRunResult => ({
  target: 't',
  load: { kind: 'constant-rate', ratePerS: 10, maxInFlight: 1000, durationS: 1 },
  loadIndex: 0,
  runId: '1',
  state: 'completed',
  metrics: metrics(),
  ...over,
})

describe('judgeStep', () => {
  it('passes when every percentile is within its bound, with the values by name', () => {
    expect(judgeStep(run(), slos, undefined)).toEqual({
      pass: true,
      values: { ttftMsP95: 100, tpotMsP95: 20 },
    })
  })

  it('fails on the first bound missed, a failed run, dropped arrivals, no samples, an early stop', () => {
    expect(judgeStep(run({ metrics: metrics({ tpotMs: dist(50.04) }) }), slos, undefined).reason).toBe(
      'tpotMsP95 50.0 ms > 50 ms',
    )
    expect(judgeStep(run({ state: 'failed', error: 'error rate 20 %' }), slos, undefined).reason).toBe(
      'error rate 20 %',
    )
    expect(judgeStep(run({ metrics: metrics({ droppedRequests: 3 }) }), slos, undefined).reason).toMatch(
      /^3 arrivals dropped/,
    )
    const noTtft = metrics()
    delete noTtft.ttftMs
    expect(judgeStep(run({ metrics: noTtft }), slos, undefined).reason).toBe(
      'ttftMsP95: no successful request',
    )
    const stopped = judgeStep(run(), slos, 'stopped early: over-saturated')
    expect(stopped).toMatchObject({ pass: false, reason: 'stopped early: over-saturated' })
    expect(judgeStep(undefined, slos, undefined).pass).toBe(false)
  })
})

describe('stepScenario', () => {
  const options: SweepOptions = {
    baseUrl: 'http://127.0.0.1:9/v1',
    model: 'm',
    apiKeyEnv: 'KEY_VAR',
    slos,
    search: { minRatePerS: 1, maxRatePerS: 8, tolerance: 0.05, maxSteps: 10 },
    durationS: 3,
    arrivals: 'poisson',
    promptTokens: 32,
    outputTokens: 16,
    warmupRequests: 1,
    requestTimeoutMs: 10_000,
    maxErrorRate: 0.02,
    name: 'my-sweep',
    target: 'ep',
    sink: createMemorySink(),
  }

  it('is one streaming load at the rate, fixed lengths, the SLO as goodput bounds', () => {
    const s = stepScenario(options, 6.5)
    expect(s.name).toBe('my-sweep')
    expect(s.loads).toEqual([
      { kind: 'poisson', ratePerS: 6.5, durationS: 3, burstiness: 1, maxInFlight: 1000 },
    ])
    expect(s.targets[0]!.engine).toMatchObject({
      kind: 'openai',
      baseUrl: options.baseUrl,
      model: 'm',
      apiKeyEnv: 'KEY_VAR',
    })
    expect(s.prompts).toEqual({ kind: 'synthetic', promptTokens: 32, outputTokens: 16 })
    expect(s.fixedOutputLength).toBe(true)
    expect(s.slo).toEqual({ ttftMs: 500, tpotMs: 50 })
    expect(s.maxErrorRate).toBe(0.02)
    expect(stepScenario({ ...options, arrivals: 'constant' }, 2).loads[0]).toMatchObject({
      kind: 'constant-rate',
      ratePerS: 2,
    })
  })

  it('a bad name is a scenario error naming the field', () => {
    expect(() => stepScenario({ ...options, name: 'Bad Name' }, 1)).toThrow(/name/)
  })
})
