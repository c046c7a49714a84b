/**
 * Output tokens per second over a run, in 1-s buckets from the first request's send (the buckets come
 * from dashboard/data/run-series.ts): whether throughput was steady, ramped, or collapsed part-way.
 * @module
 */
import { seriesColour } from './palette.ts'
import { baseOptions, type ChartConfig } from './types.ts'

export interface TokenBucket {
  /** Seconds from the first send to the bucket's start. */
  startS: number
  /**
   * Output tokens that arrived in [startS, startS + 1); for a merged bar (widthS > 1), the average per
   * second over [startS, startS + widthS).
   */
  tokens: number
  /** The last bucket, cut short by the end of the run: tokens, not a full second's rate. */
  partial: boolean
  /** Seconds this bar stands for (mergeBuckets). @default 1 */
  widthS?: number
}

/** Most bars the chart gets: a long run's seconds are merged past this (never 100 k points to a browser). */
export const MAX_TOKEN_BARS = 600

/**
 * At most `maxBars` bars: runs of k = ⌈n / maxBars⌉ consecutive seconds merged into one bar of their
 * average tokens per second (an average, not a sample: bars add up to the run's tokens over k seconds).
 */
export function mergeBuckets(buckets: readonly TokenBucket[], maxBars = MAX_TOKEN_BARS): TokenBucket[] {
  if (buckets.length <= maxBars) return [...buckets]
  const k = Math.ceil(buckets.length / maxBars)
  const merged: TokenBucket[] = []
  for (let i = 0; i < buckets.length; i += k) {
    const group = buckets.slice(i, i + k)
    const sum = group.reduce((n, b) => n + b.tokens, 0)
    merged.push({
      startS: group[0]?.startS ?? i,
      tokens: sum / group.length,
      partial: group.some((b) => b.partial),
      widthS: group.length,
    })
  }
  return merged
}

export function tokensOverTimeChart(buckets: readonly TokenBucket[]): ChartConfig {
  const options = baseOptions()
  options.plugins = { legend: { display: false } }
  options.scales = {
    x: { type: 'category', title: { display: true, text: 'second of the run' } },
    y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'output tokens / s' } },
  }
  options.benchTooltip = { yUnit: 'tokens' }
  return {
    type: 'bar',
    data: {
      labels: buckets.map((b) => {
        const width = b.widthS ?? 1
        const label = width === 1 ? String(b.startS) : `${b.startS}–${b.startS + width} (average)`
        return b.partial ? `${label} (partial)` : label
      }),
      datasets: [
        {
          label: 'output tokens in the second',
          data: buckets.map((b) => Math.round(b.tokens * 100) / 100),
          backgroundColor: seriesColour(0),
          barPercentage: 1,
          categoryPercentage: 0.95,
        },
      ],
    },
    options,
  }
}
