import { describe, expect, it } from 'vitest'
import { METRIC_CATALOGUE, metricInfo } from '../../../harness/metrics/catalogue.ts'
import { flattenMetrics } from '../../../harness/metrics/flatten.ts'
import { summarizeRun } from '../../../harness/metrics/run.ts'
import type { MetricRow } from '../../../harness/metrics/types.ts'
import type { OkOutcome, RequestOutcome } from '../../../harness/results.ts'

function ok(startedAt: number, ttftMs: number, e2eMs: number, outputTokens: number): OkOutcome {
  const gap = (e2eMs - ttftMs) / (outputTokens - 1)
  return {
    state: 'ok',
    seq: 0,
    promptIndex: 0,
    scheduledAt: startedAt,
    startedAt,
    ttftMs,
    e2eMs,
    chunks: outputTokens,
    chunkGapsMs: Array.from({ length: outputTokens - 1 }, () => gap),
    promptTokens: 20,
    outputTokens,
    tokensSource: 'server',
    serverOutputTokens: outputTokens,
    tokenizerOutputTokens: outputTokens,
  }
}

// Window 0 → 1000 ms: 2 ok requests (5 tokens each), one http error.
const outcomes: RequestOutcome[] = [
  ok(0, 100, 500, 5),
  ok(0, 200, 1000, 5),
  {
    state: 'error',
    seq: 2,
    promptIndex: 0,
    scheduledAt: 0,
    startedAt: 0,
    error: { kind: 'http', status: 500, message: 'x' },
  },
]
const metrics = summarizeRun(outcomes, { slo: { ttftMs: 150 }, eventLoopDelayP99Ms: 3 })
const rows = flattenMetrics(metrics)
const byName = new Map(rows.map((r) => [r.name, r]))

describe('flattenMetrics', () => {
  it('writes scalars under their names with unit, direction and n', () => {
    expect(byName.get('outputTokensPerS'), 'throughput').toEqual({
      name: 'outputTokensPerS',
      value: 10,
      unit: 'tokens/s',
      direction: 'higher',
      n: 2,
    } satisfies MetricRow)
    expect(byName.get('errorRate'), 'error rate').toEqual({
      name: 'errorRate',
      value: 1 / 3,
      unit: 'ratio',
      direction: 'lower',
      n: 3,
    } satisfies MetricRow)
    expect(byName.get('goodFraction')?.value, 'good fraction 1 of 3').toBe(1 / 3)
    expect(byName.get('attempted')?.direction, 'counts are descriptive').toBe('none')
    expect(byName.get('tokenCountDiscrepancyPct'), 'discrepancy: both counts on 2 requests').toMatchObject({
      value: 0,
      unit: '%',
      n: 2,
    })
    expect(byName.get('tokensPerChunk'), 'tokens per chunk').toMatchObject({ value: 1, n: 2 })
    expect(byName.get('eventLoopDelayP99Ms')?.value, 'event-loop delay').toBe(3)
  })

  it('writes booleans as 1/0', () => {
    expect(byName.get('clientSaturated'), 'not saturated').toMatchObject({ value: 0, unit: 'bool' })
  })

  it('writes one row per error kind that occurred', () => {
    expect(byName.get('errorsHttp'), 'http errors').toMatchObject({ value: 1, unit: 'count', n: 3 })
    expect(byName.has('errorsTimeout'), 'no timeouts, no row').toBe(false)
  })

  it('writes every statistic of each distribution', () => {
    expect(byName.get('ttftMsP95'), 'ttft p95: rank 0.95 → 195').toEqual({
      name: 'ttftMsP95',
      value: 195,
      unit: 'ms',
      direction: 'lower',
      n: 2,
    } satisfies MetricRow)
    // Gaps: four of 100 ms and four of 200 ms.
    expect(byName.get('chunkGapsMsP99'), 'gap p99').toMatchObject({ value: 200, n: 8 })
    expect(byName.get('chunkGapsMsMean')?.value, 'gap mean').toBe(150)
    expect(byName.get('decodeTokensPerSMin'), 'slowest decode 1000 / 200').toMatchObject({
      value: 5,
      unit: 'tokens/s',
      direction: 'higher',
    })
    expect(byName.get('ttftMsSd')?.direction, 'latency spread: lower is better').toBe('lower')
    expect(byName.get('decodeTokensPerSSd')?.direction, 'throughput spread: descriptive').toBe('none')
    const stats = rows.filter((r) => r.name.startsWith('ttftSchedMs')).map((r) => r.name.slice(11))
    expect(stats, 'stat suffixes in order').toEqual([
      'Mean',
      'Sd',
      'Min',
      'Max',
      'P50',
      'P90',
      'P95',
      'P99',
      'P999',
    ])
  })

  it('agrees with the catalogue on every row and repeats no name', () => {
    expect(new Set(rows.map((r) => r.name)).size, 'unique names').toBe(rows.length)
    for (const row of rows) {
      const info = metricInfo(row.name)
      expect(info, `${row.name} catalogued`).toBeDefined()
      expect([info?.unit, info?.direction], `${row.name} unit and direction`).toEqual([
        row.unit,
        row.direction,
      ])
      expect(Number.isFinite(row.value), `${row.name} finite`).toBe(true)
    }
  })

  it('writes only scalars for an empty run', () => {
    const empty = flattenMetrics(summarizeRun([]))
    expect(
      empty.map((r) => r.name),
      'scalars of an empty run',
    ).toEqual([
      'windowMs',
      'attempted',
      'ok',
      'errors',
      'requestsPerS',
      'outputTokensPerS',
      'totalTokensPerS',
      'peakOutputTokensPerS',
      'effectiveConcurrency',
      'errorRate',
      'droppedRequests',
      'abortedRequests',
      'connectionRetries',
      'clientSaturated',
    ])
    for (const row of empty) expect(row.n, `${row.name} has no samples`).toBe(0)
  })
})

describe('metric catalogue', () => {
  it('names the other tools’ equivalents', () => {
    expect(METRIC_CATALOGUE.tpotMs.description, 'tpot = vLLM TPOT').toContain('TPOT')
    expect(METRIC_CATALOGUE.tpotMs.description, 'tpot = AIPerf ITL').toContain('AIPerf/guidellm "ITL"')
    expect(METRIC_CATALOGUE.chunkGapsMs.description, 'chunk gaps = vLLM ITL').toContain('vLLM "ITL"')
  })

  it('resolves flattened names to their base', () => {
    expect(metricInfo('ttftMsP999'), 'stat row').toMatchObject({ base: 'ttftMs', stat: 'P999', unit: 'ms' })
    expect(metricInfo('ttftMsP999')?.description, 'stat description').toMatch(/^99\.9th percentile/)
    expect(metricInfo('errorsAborted'), 'error kind row').toMatchObject({
      base: 'errorsAborted',
      unit: 'count',
    })
    expect(metricInfo('outputTokensPerS')?.stat, 'scalar has no stat').toBeUndefined()
    expect(metricInfo('windowMsP99'), 'a scalar has no stat rows').toBeUndefined()
    expect(metricInfo('toString'), 'no prototype keys').toBeUndefined()
  })
})
