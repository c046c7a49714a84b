/**
 * Output tokens per second over a run, in 1-s buckets from the first request's send (the buckets come
 * from dashboard/data/run-series.ts): whether throughput was steady, ramped, or collapsed part-way.
 * Every bar is a rate: the last bucket, which the run's end cuts short, is divided by the time it covers
 * (192 tokens in its 0.2 s are 960 tokens/s, not a bar of 192 beside bars of 950) and drawn lighter with
 * its coverage in the label, so the end of a run never looks like a collapse. The first bucket starts at
 * the first send, as outputTokensPerS's window does: its time before the first token is part of the run.
 * @module
 */
import { seriesColour, withAlpha } from './palette.ts'
import { baseOptions, type ChartConfig } from './types.ts'

export interface TokenBucket {
  /** Seconds from the first send to the bucket's start. */
  startS: number
  /**
   * Output tokens that arrived in [startS, startS + 1); for a merged bar (widthS > 1), the average per
   * second over [startS, startS + widthS).
   */
  tokens: number
  /** The last bucket, cut short by the end of the run (see coveredS). */
  partial: boolean
  /** Seconds this bar stands for (mergeBuckets). @default 1 */
  widthS?: number
  /**
   * Seconds of the run the bar covers: widthS, less when the run ended inside it (the last bucket ends at
   * the run's last token). The bar's rate is its tokens over this. @default widthS
   */
  coveredS?: number
}

/** Output tokens per second a bar stands for: its tokens over the seconds of the run it covers. */
export function ratePerS(b: TokenBucket): number {
  const width = b.widthS ?? 1
  if (b.coveredS === undefined || !(b.coveredS > 0)) return b.tokens
  return (b.tokens * width) / b.coveredS
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
    const sum = group.reduce((n, b) => n + b.tokens * (b.widthS ?? 1), 0)
    const covered = group.some((b) => b.coveredS !== undefined)
      ? group.reduce((n, b) => n + (b.coveredS ?? b.widthS ?? 1), 0)
      : undefined
    merged.push({
      startS: group[0]?.startS ?? i,
      tokens: sum / group.length,
      partial: group.some((b) => b.partial),
      widthS: group.length,
      ...(covered !== undefined ? { coveredS: covered } : {}),
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
  options.benchTooltip = { yUnit: 'tokens/s' }
  const full = seriesColour(0)
  return {
    type: 'bar',
    data: {
      labels: buckets.map((b) => {
        const width = b.widthS ?? 1
        const label = width === 1 ? String(b.startS) : `${b.startS}–${b.startS + width} (average)`
        if (!b.partial) return label
        return b.coveredS === undefined
          ? `${label} (partial)`
          : `${label} (partial: ${b.coveredS.toFixed(2)} s)`
      }),
      datasets: [
        {
          label: 'output tokens per second',
          data: buckets.map((b) => Math.round(ratePerS(b) * 100) / 100),
          // A partial bar is lighter: a rate over less than its width, so noisier than its neighbours.
          backgroundColor: buckets.map((b) => (b.partial ? withAlpha(full, 0.45) : full)),
          barPercentage: 1,
          categoryPercentage: 0.95,
        },
      ],
    },
    options,
  }
}
