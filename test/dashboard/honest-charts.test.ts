/**
 * The chart builders behind issue 17's honest defaults, with hand-computed values: history draws one
 * dataset per branch line (legend entries), a flagged Pareto point is never on the front, and a partial
 * last token bucket is a rate over the time it covers, also once merged.
 */

import { describe, expect, it } from 'vitest'
import { historyChart } from '../../dashboard/charts/history.ts'
import { paretoChart } from '../../dashboard/charts/pareto.ts'
import { mergeBuckets, ratePerS, tokensOverTimeChart } from '../../dashboard/charts/tokens-over-time.ts'
import type { ChartPoint } from '../../dashboard/charts/types.ts'

describe('historyChart lines', () => {
  it('draws one dataset per line in the given order, points on their own line', () => {
    const point = (runId: number, line: string, value: number) => ({
      runId,
      startedAtMs: runId * 60_000,
      value,
      gitCommit: null,
      index: runId,
      line,
    })
    const config = historyChart({
      metric: 'outputTokensPerS',
      unit: 'tokens/s',
      xAxis: 'time',
      lines: ['main', 'pr-1'],
      points: [point(1, 'main', 100), point(2, 'pr-1', 70), point(3, 'main', 101)],
    })
    expect(
      config.data.datasets.map((d) => [d.label, d.data.map((p) => (p as { y: number }).y)]),
      'a line per branch, main first',
    ).toEqual([
      ['main', [100, 101]],
      ['pr-1', [70]],
    ])
    expect(config.data.datasets[0]?.borderColor, 'distinct colours').not.toBe(
      config.data.datasets[1]?.borderColor,
    )
  })
})

describe('paretoChart flagged points', () => {
  it('keeps a flagged point off the front and says why in its label', () => {
    const config = paretoChart({
      x: { title: 'tok/s', better: 'higher' },
      y: { title: 'ttft', better: 'lower' },
      points: [
        { x: 100, y: 10, label: 'clean' },
        { x: 500, y: 5, label: 'sat', flagged: 'client-saturated' },
      ],
    })
    const points = config.data.datasets.map((d) => [d.label, (d.data as ChartPoint[]).map((p) => p.label)])
    expect(points, 'the clean point is the front; the flagged one is marked').toEqual([
      ['Pareto front', ['clean']],
      ['flagged (not a best)', ['sat (client-saturated)']],
    ])
    expect(config.data.datasets[1]?.pointStyle, 'flagged: a cross').toBe('crossRot')
  })
})

describe('partial token buckets', () => {
  it('divides the last bucket by the seconds it covers, also when merged', () => {
    const last = { startS: 1, tokens: 192, partial: true, coveredS: 0.2 }
    expect(ratePerS(last), '192 tokens in 0.2 s').toBeCloseTo(960, 9)
    const chart = tokensOverTimeChart([{ startS: 0, tokens: 951, partial: false }, last])
    expect(chart.data.datasets[0]?.data, 'bars are rates').toEqual([951, 960])
    expect(chart.data.labels, 'coverage in the label').toEqual(['0', '1 (partial: 0.20 s)'])
    // 1,201 seconds of 10 tokens, then 2 tokens in the last 0.25 s: merged 3 at a time (⌈1202 / 600⌉ = 3).
    const seconds = [
      ...Array.from({ length: 1201 }, (_, i) => ({ startS: i, tokens: 10, partial: false })),
      { startS: 1201, tokens: 2, partial: true, coveredS: 0.25 },
    ]
    const bars = mergeBuckets(seconds)
    const end = bars.at(-1)!
    expect([end.startS, end.widthS, end.coveredS], 'last bar: 1200–1202, 1.25 s covered').toEqual([
      1200, 2, 1.25,
    ])
    expect(ratePerS(end), '(10 + 2) tokens / 1.25 s').toBeCloseTo(9.6, 9)
    expect(ratePerS(bars[0]!), 'a full bar: 10 tokens/s').toBeCloseTo(10, 9)
  })
})
