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
  /** Output tokens that arrived in [startS, startS + 1). */
  tokens: number
  /** The last bucket, cut short by the end of the run: tokens, not a full second's rate. */
  partial: boolean
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
      labels: buckets.map((b) => (b.partial ? `${b.startS} (partial)` : String(b.startS))),
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
