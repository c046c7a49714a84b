/**
 * Empirical CDFs of per-request latencies (TTFT, TPOT), one line per run so two runs overlay: where the
 * lines separate, and at which fraction of requests, says more than any single percentile.
 * @module
 */
import { seriesColour } from './palette.ts'
import { baseOptions, type ChartConfig, type ChartPoint } from './types.ts'

/**
 * Points (value, fraction of samples ≤ value) of the empirical CDF, starting with (smallest, 0) so the
 * line rises from the axis, then at most `maxPoints` more: every distinct sample when they fit, else
 * evenly spaced ranks including the smallest and largest.
 * @param maxPoints ≥ 2. @default 200
 */
export function empiricalCdf(values: readonly number[], maxPoints = 200): { x: number; y: number }[] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b)
  const n = sorted.length
  if (n === 0) return []
  const budget = Math.max(2, Math.floor(maxPoints))
  const points: { x: number; y: number }[] = [{ x: sorted[0]!, y: 0 }]
  if (n <= budget) {
    for (let i = 0; i < n; i++) {
      // Ties: one point at the highest rank of the value.
      if (i + 1 < n && sorted[i + 1] === sorted[i]) continue
      points.push({ x: sorted[i]!, y: (i + 1) / n })
    }
    return points
  }
  let last = -1
  for (let k = 0; k < budget; k++) {
    let i = Math.round((k * (n - 1)) / (budget - 1))
    while (i + 1 < n && sorted[i + 1] === sorted[i]) i++
    if (i === last) continue
    points.push({ x: sorted[i]!, y: (i + 1) / n })
    last = i
  }
  return points
}

export interface CdfSeries {
  label: string
  points: { x: number; y: number }[]
  /** Palette index, so a run keeps its colour across charts. */
  colour?: number
}

export function cdfChart(input: { metric: string; unit: string; series: CdfSeries[] }): ChartConfig {
  const options = baseOptions()
  options.scales = {
    x: { type: 'linear', title: { display: true, text: `${input.metric} (${input.unit})` } },
    y: {
      type: 'linear',
      min: 0,
      max: 1,
      title: { display: true, text: 'fraction of requests ≤ x' },
      benchFormat: 'percent',
    },
  }
  options.benchTooltip = { xUnit: input.unit, y: 'percent' }
  return {
    type: 'line',
    data: {
      datasets: input.series.map((s, i) => ({
        label: s.label,
        data: s.points.map((p): ChartPoint => ({ x: p.x, y: p.y })),
        stepped: 'before',
        borderColor: seriesColour(s.colour ?? i),
        backgroundColor: seriesColour(s.colour ?? i),
        pointRadius: 0,
        borderWidth: 2,
      })),
    },
    options,
  }
}
