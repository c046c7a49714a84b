/**
 * The charts of one speculative-decoding study (issue 20, harness/speculative/README.md), each over the
 * study's K values as categories (one tick per K, legible at 8 and more):
 *
 * - speedup: measured speedup (tok/s with speculation ÷ the target alone, measured beside each K) and the
 *   Leviathan prediction S = E/(K·c + 1) from the study's α and that K's c (an endpoint study: from the
 *   server's α̂ at that K; a gap where it had none), as lines; their difference
 *   (measured − predicted) as bars on a second axis; a dashed line at 1 (no speedup).
 * - acceptance by draft position: rate_i = steps whose i-th drafted token was kept ÷ steps, one line per
 *   K, beside the model's α^i (a constant α at every position) for the α the prediction used.
 * - acceptance length: the share of verify steps that kept n drafted tokens (n = 0..K), bars per K.
 *
 * Plain JSON, as every builder (charts/types.ts).
 * @module
 */
import { seriesColour, withAlpha } from './palette.ts'
import { baseOptions, type ChartConfig, type ChartDataset } from './types.ts'

/**
 * One K of a study as the charts see it (db/studies/store.ts StudyKRow, or an endpoint study's EndpointKRow:
 * there a prediction is null when the server gave no τ or no c was known, and no accept-length counts).
 */
export interface StudyChartK {
  k: number
  measuredSpeedup: number
  predictedSpeedup: number | null
  /** measured − predicted. */
  error: number | null
  /** rate at drafted position 1..K (empty: not reported). */
  positionRates: number[]
  /** Steps that kept exactly n drafted tokens, n = 0..K. */
  acceptLengths: number[]
}

export interface StudyChartInput {
  perK: readonly StudyChartK[]
  /** The α the prediction used; null when the study stored none (an endpoint study: α̂ per K). */
  alphaUsed: number | null
}

const NEUTRAL = '#555555'

/** Two decimals, trailing zeros kept (a speedup of 1.00 reads as one). */
function two(v: number): string {
  return v.toFixed(2)
}

export function speedupChart(input: StudyChartInput): ChartConfig {
  const ks = input.perK
  const labels = ks.map((r) => `K = ${r.k}`)
  const measured = seriesColour(0)
  const predicted = seriesColour(1)
  const errorColour = seriesColour(2)
  const datasets: ChartDataset[] = [
    {
      label: 'measured speedup',
      type: 'line',
      data: ks.map((r) => r.measuredSpeedup),
      yAxisID: 'y',
      borderColor: measured,
      backgroundColor: measured,
      pointRadius: 4,
      borderWidth: 2,
      order: 0,
    },
    {
      label: `predicted S = E/(K·c + 1)${input.alphaUsed !== null ? `, α = ${two(input.alphaUsed)}` : ''}`,
      type: 'line',
      data: ks.map((r) => r.predictedSpeedup),
      yAxisID: 'y',
      borderColor: predicted,
      backgroundColor: predicted,
      pointStyle: 'triangle',
      pointRadius: 5,
      borderWidth: 2,
      borderDash: [6, 3],
      order: 1,
    },
    {
      label: 'no speedup (1×)',
      type: 'line',
      data: ks.map(() => 1),
      yAxisID: 'y',
      borderColor: withAlpha(NEUTRAL, 0.7),
      backgroundColor: withAlpha(NEUTRAL, 0.7),
      borderWidth: 1,
      borderDash: [2, 4],
      pointRadius: 0,
      pointHitRadius: 0,
      order: 2,
    },
    {
      label: 'error = measured − predicted',
      type: 'bar',
      data: ks.map((r) => r.error),
      yAxisID: 'y1',
      borderColor: errorColour,
      backgroundColor: withAlpha(errorColour, 0.45),
      borderWidth: 1,
      maxBarThickness: 28,
      order: 3,
    },
  ]
  const options = baseOptions()
  options.scales = {
    x: { type: 'category', title: { display: true, text: 'drafted tokens per verify step (K)' } },
    y: {
      type: 'linear',
      position: 'left',
      beginAtZero: true,
      title: { display: true, text: 'speedup (× the target alone)' },
      benchFormat: 'number',
    },
    y1: {
      type: 'linear',
      position: 'right',
      title: { display: true, text: 'error (measured − predicted)' },
      benchFormat: 'number',
      grid: { drawOnChartArea: false },
    },
  }
  options.benchTooltip = { y: 'number', yUnit: '×' }
  return { type: 'bar', data: { labels, datasets }, options }
}

export function positionChart(input: StudyChartInput): ChartConfig {
  const maxK = Math.max(1, ...input.perK.map((r) => r.k))
  const positions = Array.from({ length: maxK }, (_, i) => i + 1)
  const datasets: ChartDataset[] = input.perK.map((r, i) => {
    const colour = seriesColour(i)
    return {
      label: `K = ${r.k}`,
      type: 'line',
      data: positions.map((p) => r.positionRates[p - 1] ?? null),
      borderColor: colour,
      backgroundColor: colour,
      pointRadius: 3,
      borderWidth: 1.5,
    }
  })
  const alpha = input.alphaUsed
  if (alpha !== null)
    datasets.push({
      label: `model α^i, α = ${two(alpha)}`,
      type: 'line',
      data: positions.map((p) => alpha ** p),
      borderColor: NEUTRAL,
      backgroundColor: NEUTRAL,
      borderWidth: 2,
      borderDash: [6, 3],
      pointRadius: 0,
    })
  const options = baseOptions()
  options.scales = {
    x: { type: 'category', title: { display: true, text: 'drafted position i' } },
    y: {
      type: 'linear',
      min: 0,
      max: 1,
      title: { display: true, text: 'steps keeping the i-th drafted token' },
      benchFormat: 'percent',
    },
  }
  options.benchTooltip = { y: 'percent' }
  return { type: 'line', data: { labels: positions.map(String), datasets }, options }
}

export function acceptLengthChart(input: StudyChartInput): ChartConfig {
  const maxK = Math.max(1, ...input.perK.map((r) => r.k))
  const lengths = Array.from({ length: maxK + 1 }, (_, n) => n)
  const datasets: ChartDataset[] = input.perK.map((r, i) => {
    const steps = r.acceptLengths.reduce((a, b) => a + b, 0)
    const colour = seriesColour(i)
    return {
      label: `K = ${r.k}`,
      type: 'bar',
      data: lengths.map((n) => (n <= r.k && steps > 0 ? (r.acceptLengths[n] ?? 0) / steps : null)),
      borderColor: colour,
      backgroundColor: withAlpha(colour, 0.75),
      borderWidth: 1,
    }
  })
  const options = baseOptions()
  options.scales = {
    x: {
      type: 'category',
      title: { display: true, text: 'drafted tokens kept in a verify step (n; n + 1 emitted)' },
    },
    y: {
      type: 'linear',
      min: 0,
      max: 1,
      title: { display: true, text: 'share of verify steps' },
      benchFormat: 'percent',
    },
  }
  options.benchTooltip = { y: 'percent' }
  return { type: 'bar', data: { labels: lengths.map(String), datasets }, options }
}
