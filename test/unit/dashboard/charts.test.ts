import { describe, expect, it } from 'vitest'
import { barChart } from '../../../dashboard/charts/bar.ts'
import { cdfChart, empiricalCdf } from '../../../dashboard/charts/cdf.ts'
import { lttb } from '../../../dashboard/charts/downsample.ts'
import { historyChart, timeAxis } from '../../../dashboard/charts/history.ts'
import { byteTickStep, paretoChart, paretoFront } from '../../../dashboard/charts/pareto.ts'
import {
  MAX_TOKEN_BARS,
  mergeBuckets,
  tokensOverTimeChart,
} from '../../../dashboard/charts/tokens-over-time.ts'
import type { ChartPoint } from '../../../dashboard/charts/types.ts'
import { formatBytes, formatCell, formatDeltaPct, formatValue } from '../../../dashboard/views/format.ts'
import { safeJson } from '../../../dashboard/views/html.ts'

describe('lttb', () => {
  const series = (n: number, f: (i: number) => number) =>
    Array.from({ length: n }, (_, i) => ({ x: i, y: f(i) }))

  it('returns every point when they fit the budget', () => {
    const points = series(5, (i) => i * i)
    expect(lttb(points, 5), 'n = budget').toEqual(points)
    expect(lttb(points, 100), 'n < budget').toEqual(points)
  })

  it('keeps the budget, the first and last points, x order, and a lone spike', () => {
    const points = series(1000, (i) => (i === 537 ? 100 : 1))
    const kept = lttb(points, 20)
    expect(kept, 'budget').toHaveLength(20)
    expect(kept[0], 'first').toBe(points[0])
    expect(kept.at(-1), 'last').toBe(points[999])
    expect(
      kept.map((p) => p.x),
      'increasing x',
    ).toEqual([...kept.map((p) => p.x)].sort((a, b) => a - b))
    expect(
      kept.some((p) => p.y === 100),
      'spike kept',
    ).toBe(true)
  })

  it('picks the largest triangle in each bucket (hand-computed)', () => {
    // n = 6, budget 4: bucket size (6 − 2) / 2 = 2 → buckets {1, 2} and {3, 4}.
    // Bucket 1 against a = (0, 0) and the average of bucket 2, (3.5, 1.5):
    //   area(1) ∝ |(0 − 3.5)(5 − 0) − (0 − 1)(1.5 − 0)| = |−17.5 + 1.5| = 16
    //   area(2) ∝ |(0 − 3.5)(0 − 0) − (0 − 2)(1.5 − 0)| = 3 → point 1.
    // Bucket 2 against a = (1, 5) and the last point (5, 0):
    //   area(3) ∝ |(1 − 5)(3 − 5) − (1 − 3)(0 − 5)| = |8 − 10| = 2
    //   area(4) ∝ |(1 − 5)(0 − 5) − (1 − 4)(0 − 5)| = |20 − 15| = 5 → point 4.
    const points = [
      { x: 0, y: 0 },
      { x: 1, y: 5 },
      { x: 2, y: 0 },
      { x: 3, y: 3 },
      { x: 4, y: 0 },
      { x: 5, y: 0 },
    ]
    expect(
      lttb(points, 4).map((p) => p.x),
      'chosen x',
    ).toEqual([0, 1, 4, 5])
  })

  it('also keeps points the caller marks, beyond the budget', () => {
    const points = series(100, () => 1)
    const kept = lttb(points, 10, (p) => p.x === 50 || p.x === 51)
    expect(kept.some((p) => p.x === 50) && kept.some((p) => p.x === 51), 'marked kept').toBe(true)
    expect(kept.length, 'budget + marked at most').toBeLessThanOrEqual(12)
  })
})

describe('paretoFront', () => {
  it('finds the non-dominated points for each direction pairing', () => {
    const pts = [
      { x: 100, y: 100 }, // 0
      { x: 200, y: 200 }, // 1
      { x: 150, y: 150 }, // 2
      { x: 120, y: 400 }, // 3: lower-better y: 1 is faster and smaller
      { x: 200, y: 250 }, // 4: lower-better y: 1 is as fast and smaller
    ]
    // Higher-better y: 4 beats 0, 1 and 2 on both; 3 has the highest y.
    expect(paretoFront(pts, 'higher', 'lower'), 'throughput ↑, memory ↓').toEqual([0, 2, 1])
    expect(paretoFront(pts, 'higher', 'higher'), 'throughput ↑, accuracy ↑').toEqual([3, 4])
  })

  it('keeps exact duplicates (neither dominates the other) and a single point', () => {
    expect(
      paretoFront(
        [
          { x: 1, y: 1 },
          { x: 1, y: 1 },
        ],
        'higher',
        'lower',
      ),
      'duplicates',
    ).toEqual([0, 1])
    expect(paretoFront([{ x: 5, y: 5 }], 'higher', 'lower'), 'one point').toEqual([0])
    expect(paretoFront([], 'higher', 'lower'), 'none').toEqual([])
  })

  it('builds a scatter with the front (line, diamonds, tags) and the other points in one series', () => {
    const points = [
      { x: 100, y: 300, label: 'a', href: '/runs/1' },
      { x: 200, y: 200, label: 'b', href: '/runs/2' },
      { x: 90, y: 400, label: 'c', href: '/runs/3' },
    ]
    const config = paretoChart({
      points,
      x: { title: 'outputTokensPerS (tokens/s)', better: 'higher' },
      y: { title: 'peakRssBytes (bytes)', better: 'lower', format: 'bytes' },
    })
    const [front, ...targets] = config.data.datasets
    expect(front?.label, 'front first').toBe('Pareto front')
    expect(
      (front!.data as ChartPoint[]).map((p) => p.label),
      'front: b alone dominates a and c',
    ).toEqual(['b'])
    expect(
      targets.map((d) => [d.label, (d.data as ChartPoint[]).map((p) => p.label)]),
      'no family: the other points in one series (the legend never lists targets)',
    ).toEqual([['targets', ['a', 'c']]])
    const tagged = front!.data as (ChartPoint & { benchTag?: string })[]
    expect(tagged[0]!.benchTag, 'the front labelled on the chart').toBe('b')
    expect(front!.pointStyle, 'front: diamonds').toBe('rectRot')
    expect((targets[0]!.data[0] as ChartPoint).href, 'points link to runs').toBe('/runs/1')
    expect(config.options.scales?.y?.benchFormat, 'bytes axis').toBe('bytes')
    expect(config.options.scales?.y?.ticks, 'round MiB ticks: 200 … 400 bytes is under 1 MiB').toEqual({
      stepSize: 1024 ** 2,
    })
    expect(config.options.scales?.x?.title?.text, 'direction in title, its own line').toEqual([
      'outputTokensPerS (tokens/s)',
      'higher is better',
    ])
  })
})

describe('byteTickStep', () => {
  it('steps on round MiB', () => {
    const mib = 1024 ** 2
    expect(byteTickStep(120 * mib, 320 * mib), '200 MiB span → 50 MiB').toBe(50 * mib)
    expect(byteTickStep(0, 5 * mib), '5 MiB span → 1 MiB').toBe(mib)
    expect(byteTickStep(0, 7000 * mib), '7000 MiB span → 2000 MiB').toBe(2000 * mib)
    expect(byteTickStep(5, 5), 'no span').toBeUndefined()
  })
})

describe('empiricalCdf', () => {
  it('rises from 0 at the smallest value to 1, one point per distinct value', () => {
    expect(empiricalCdf([3, 1, 2, 2]), 'ties at the highest rank').toEqual([
      { x: 1, y: 0 },
      { x: 1, y: 0.25 },
      { x: 2, y: 0.75 },
      { x: 3, y: 1 },
    ])
    expect(empiricalCdf([]), 'empty').toEqual([])
    expect(empiricalCdf([Number.NaN, 4]), 'non-finite dropped').toEqual([
      { x: 4, y: 0 },
      { x: 4, y: 1 },
    ])
  })

  it('thins long samples to evenly spaced ranks including both ends', () => {
    const values = Array.from({ length: 1001 }, (_, i) => i)
    const cdf = empiricalCdf(values, 11)
    // Ranks round(k · 1000 / 10) = 0, 100, …, 1000, after the leading (0, 0).
    expect(
      cdf.map((p) => p.x),
      'x',
    ).toEqual([0, 0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
    expect(cdf[2]?.y, 'fraction ≤ 100').toBeCloseTo(101 / 1001, 12)
    expect(cdf.at(-1)?.y, 'ends at 1').toBe(1)
  })

  it('overlays one stepped line per run with fixed colours', () => {
    const config = cdfChart({
      metric: 'ttftMs',
      unit: 'ms',
      series: [
        { label: 'A', points: [{ x: 1, y: 1 }], colour: 0 },
        { label: 'B', points: [{ x: 2, y: 1 }], colour: 1 },
      ],
    })
    expect(
      config.data.datasets.map((d) => d.borderColor),
      'palette by index',
    ).toEqual(['#4e79a7', '#f28e2b'])
    expect(config.data.datasets[0]?.stepped, 'stepped').toBe('before')
    expect(config.options.scales?.y?.max, 'fractions').toBe(1)
  })
})

describe('tokensOverTimeChart', () => {
  it('labels the partial bucket', () => {
    const config = tokensOverTimeChart([
      { startS: 0, tokens: 10, partial: false },
      { startS: 1, tokens: 3.333333, partial: true },
    ])
    expect(config.data.labels, 'labels').toEqual(['0', '1 (partial)'])
    expect(config.data.datasets[0]?.data, 'rounded').toEqual([10, 3.33])
  })
  it('merges a long run into at most MAX_TOKEN_BARS bars of the average per second', () => {
    // 3,601 seconds (an hour and a partial last second), 10 tokens each but 4 in the last.
    const seconds = Array.from({ length: 3601 }, (_, i) => ({
      startS: i,
      tokens: i === 3600 ? 4 : 10,
      partial: i === 3600,
    }))
    const bars = mergeBuckets(seconds)
    expect(bars.length, 'bars').toBeLessThanOrEqual(MAX_TOKEN_BARS)
    expect(bars[0], 'first: 7 seconds').toEqual({ startS: 0, tokens: 10, partial: false, widthS: 7 })
    expect(bars.at(-1), 'last: the partial second, alone').toEqual({
      startS: 3598,
      tokens: 8,
      partial: true,
      widthS: 3,
    })
    const total = bars.reduce((n, b) => n + b.tokens * (b.widthS ?? 1), 0)
    expect(total, 'no token lost').toBeCloseTo(36_004, 6)
    expect(tokensOverTimeChart(bars).data.labels?.[0], 'label').toBe('0–7 (average)')
    expect(mergeBuckets(seconds.slice(0, 600)), 'short runs as they are').toEqual(seconds.slice(0, 600))
  })
})

describe('barChart', () => {
  it('is horizontal with per-bar links and whole-number ticks for counts', () => {
    const config = barChart({
      title: 'requests (count)',
      integer: true,
      colours: 'per-row',
      rows: [
        { label: 'http', value: 3, href: '/runs/1' },
        { label: 'timeout', value: 1 },
      ],
    })
    expect(config.options.indexAxis, 'horizontal').toBe('y')
    expect(config.data.labels, 'labels').toEqual(['http', 'timeout'])
    expect(config.data.datasets[0]?.data, 'values').toEqual([3, 1])
    expect(config.data.datasets[0]?.benchLinks, 'links').toEqual(['/runs/1', null])
    expect(config.options.scales?.x?.ticks, 'integer ticks').toEqual({ precision: 0 })
    expect(config.data.datasets[0]?.backgroundColor, 'colours').toEqual(['#4e79a7', '#f28e2b'])
  })
})

describe('historyChart', () => {
  const points = [
    {
      runId: 1,
      startedAtMs: Date.parse('2026-11-10T00:00:00Z'),
      value: 10,
      gitCommit: 'aaaaaaaaaaaa',
      index: 0,
    },
    { runId: 2, startedAtMs: Date.parse('2026-11-11T00:00:00Z'), value: 12, gitCommit: null, index: 1 },
    { runId: 3, startedAtMs: Date.parse('2026-11-15T00:00:00Z'), value: 30, gitCommit: 'cccccccc', index: 5 },
  ]

  it('links points to runs and uses the series position on the commit axis', () => {
    const config = historyChart({ metric: 'ttftMsP95', unit: 'ms', points, xAxis: 'commit' })
    expect(config.data.datasets, 'one series').toHaveLength(1)
    const data = config.data.datasets[0]?.data as ChartPoint[]
    expect(
      data.map((p) => p.x),
      'x = index (downsampling keeps gaps)',
    ).toEqual([0, 1, 5])
    expect(
      data.map((p) => p.href),
      'links',
    ).toEqual(['/runs/1', '/runs/2', '/runs/3'])
    expect(data[0]?.label, 'tooltip title').toBe('run 1 @ aaaaaaaa')
    expect(config.options.scales?.x?.benchTickLabels, 'ticks name commits').toEqual({
      '0': 'aaaaaaa',
      '1': '#1',
      '5': 'ccccccc',
    })
  })

  it('draws a limit band and alert / change-point markers when given', () => {
    const config = historyChart({
      metric: 'ttftMsP95',
      unit: 'ms',
      points,
      xAxis: 'time',
      band: [
        { runId: 1, lower: 8, upper: 14 },
        { runId: 3, lower: 9, upper: null },
        { runId: 99, lower: 1, upper: 2 },
      ],
      markers: [
        { runId: 3, kind: 'alert', label: 'ttftMsP95 above the limit' },
        { runId: 2, kind: 'change-point', label: 'shift' },
      ],
    })
    const labels = config.data.datasets.map((d) => d.label)
    expect(labels, 'datasets').toEqual([
      'ttftMsP95 (ms)',
      'lower limit',
      'upper limit',
      'alerts',
      'change points',
    ])
    const [, lower, upper, alerts] = config.data.datasets
    expect(lower?.data, 'lower edge (unknown run dropped)').toEqual([
      { x: points[0]!.startedAtMs, y: 8 },
      { x: points[2]!.startedAtMs, y: 9 },
    ])
    expect(upper?.data, 'upper edge skips null').toEqual([{ x: points[0]!.startedAtMs, y: 14 }])
    expect(upper?.fill, 'shaded to the lower edge').toBe('-1')
    expect(alerts?.data, 'alert on its point').toEqual([
      { x: points[2]!.startedAtMs, y: 30, href: '/runs/3', label: 'ttftMsP95 above the limit' },
    ])
  })

  it('puts the time axis on round UTC days (5 days: 12-h steps would make 10 ticks, over the 8 allowed)', () => {
    const config = historyChart({ metric: 'x', unit: null, points, xAxis: 'time' })
    expect(config.options.scales?.x, 'axis').toMatchObject({
      benchFormat: 'day',
      min: Date.parse('2026-11-10T00:00:00Z'),
      max: Date.parse('2026-11-15T00:00:00Z'),
      ticks: { stepSize: 86_400_000 },
    })
  })
})

describe('timeAxis', () => {
  it('chooses the smallest round step that fits the tick budget', () => {
    const t0 = Date.parse('2026-11-10T10:07:00Z')
    expect(timeAxis(t0, t0 + 20 * 60_000), '20 min → 5-min steps').toEqual({
      min: Date.parse('2026-11-10T10:05:00Z'),
      max: Date.parse('2026-11-10T10:30:00Z'),
      stepSize: 300_000,
      format: 'date',
    })
    expect(timeAxis(t0, t0), 'one instant → one minute').toEqual({
      min: t0,
      max: t0 + 60_000,
      stepSize: 60_000,
      format: 'date',
    })
    expect(timeAxis(t0, t0 + 100 * 86_400_000).stepSize, '100 days → 14-day steps').toBe(14 * 86_400_000)
  })
})

describe('safeJson', () => {
  it('cannot close the script element and parses back to the same value', () => {
    const value = { label: '</script><script>alert(1)</script>', amp: 'a & b', sep: '\u2028\u2029' }
    const text = safeJson(value)
    expect(text, 'no tag').not.toMatch(/[<>&\u2028\u2029]/)
    expect(JSON.parse(text), 'round trip').toEqual(value)
  })
})

describe('format', () => {
  it('prints units the way the tables do', () => {
    expect(formatValue(1234.567, 'tokens/s'), 'throughput').toBe('1,235 tokens/s')
    expect(formatValue(12.3456, 'ms'), 'ms').toBe('12.35 ms')
    expect(formatValue(0.05, 'ratio'), 'ratio as %').toBe('5 %')
    expect(formatValue(null, 'ms'), 'missing').toBe('–')
    expect(formatBytes(120 * 1024 ** 2), 'MiB').toBe('120 MiB')
    expect(formatCell(48.351, 'ms'), 'unit in header').toBe('48.35')
    expect(formatCell(120 * 1024 ** 2, 'bytes'), 'bytes keep theirs').toBe('120 MiB')
    expect(formatDeltaPct(-12.5), 'negative').toBe('−12.5 %')
    expect(formatDeltaPct(0), 'zero').toBe('±0 %')
  })
})
