/**
 * Pareto scatter: each target at (x, y), the non-dominated ones (no other target at least as good on both
 * axes and better on one) marked and joined, since those are the only sensible choices under the trade-off.
 * @module
 */
import { FRONT_COLOUR, seriesColour, withAlpha } from './palette.ts'
import { baseOptions, type ChartConfig, type ChartPoint, type ValueFormat } from './types.ts'

export type Better = 'higher' | 'lower'

/** Indices of the points no other point dominates, ordered by x ascending (then y). */
export function paretoFront(points: readonly { x: number; y: number }[], x: Better, y: Better): number[] {
  const sx = x === 'higher' ? 1 : -1
  const sy = y === 'higher' ? 1 : -1
  const front: number[] = []
  points.forEach((p, i) => {
    const dominated = points.some(
      (q, j) =>
        j !== i &&
        sx * q.x >= sx * p.x &&
        sy * q.y >= sy * p.y &&
        (sx * q.x > sx * p.x || sy * q.y > sy * p.y),
    )
    if (!dominated) front.push(i)
  })
  return front.sort((i, j) => points[i]!.x - points[j]!.x || points[i]!.y - points[j]!.y)
}

export interface ParetoAxis {
  /** Axis title, with the unit. */
  title: string
  better: Better
  format?: ValueFormat
  unit?: string
}

export interface ParetoPoint extends ChartPoint {
  /** Legend entry (the target); each point is its own series so the legend names them. */
  label: string
  /** Palette index, so a target keeps its colour across a page's charts. */
  colour?: number
  /**
   * Its figures are not a best (client-saturated, errors over 1 %: dashboard/data/scope.ts): never on the
   * front, drawn as a hollow cross with the reason after its label.
   */
  flagged?: string
}

export interface ParetoChartInput {
  points: ParetoPoint[]
  x: ParetoAxis
  y: ParetoAxis
}

const MIB = 1024 ** 2

/**
 * A tick step for a byte axis that lands on round MiB (1, 2 or 5 × a power of ten, at least 1 MiB),
 * giving at most `maxTicks` intervals over [min, max]; undefined when the span is empty.
 */
export function byteTickStep(min: number, max: number, maxTicks = 6): number | undefined {
  const span = (max - min) / MIB
  if (!(span > 0)) return undefined
  for (let power = 1; ; power *= 10)
    for (const m of [1, 2, 5]) if (span / (m * power) <= maxTicks) return m * power * MIB
}

/** Tick step of a byte-formatted axis over these values, when it has one. */
function byteTicks(
  format: ValueFormat | undefined,
  values: readonly number[],
): { ticks?: { stepSize: number } } {
  if (format !== 'bytes' || values.length === 0) return {}
  const step = byteTickStep(Math.min(...values), Math.max(...values))
  return step === undefined ? {} : { ticks: { stepSize: step } }
}

/** A dashed line through the front, then one series per target; front members drawn larger, as diamonds. */
export function paretoChart(input: ParetoChartInput): ChartConfig {
  const eligible = input.points.flatMap((p, i) => (p.flagged ? [] : [i]))
  const frontIdx = paretoFront(
    eligible.map((i) => input.points[i]!),
    input.x.better,
    input.y.better,
  ).map((k) => eligible[k]!)
  const onFront = new Set(frontIdx)
  const options = baseOptions()
  options.scales = {
    x: {
      type: 'linear',
      title: { display: true, text: `${input.x.title} (${input.x.better} is better)` },
      ...(input.x.format ? { benchFormat: input.x.format } : {}),
      ...byteTicks(
        input.x.format,
        input.points.map((p) => p.x),
      ),
    },
    y: {
      type: 'linear',
      title: { display: true, text: `${input.y.title} (${input.y.better} is better)` },
      ...(input.y.format ? { benchFormat: input.y.format } : {}),
      ...byteTicks(
        input.y.format,
        input.points.map((p) => p.y),
      ),
    },
  }
  options.benchTooltip = {
    ...(input.x.format ? { x: input.x.format } : {}),
    ...(input.y.format ? { y: input.y.format } : {}),
    ...(input.x.unit ? { xUnit: input.x.unit } : {}),
    ...(input.y.unit ? { yUnit: input.y.unit } : {}),
  }
  return {
    type: 'scatter',
    data: {
      datasets: [
        {
          label: 'Pareto front',
          data: frontIdx.map((i) => {
            const p = input.points[i]!
            return { x: p.x, y: p.y, label: p.label, ...(p.href ? { href: p.href } : {}) }
          }),
          showLine: true,
          borderColor: FRONT_COLOUR,
          backgroundColor: FRONT_COLOUR,
          borderDash: [6, 4],
          borderWidth: 2,
          pointRadius: 0,
          pointHitRadius: 0,
        },
        ...input.points.map((p, i) => {
          const colour = seriesColour(p.colour ?? i)
          const front = onFront.has(i)
          if (p.flagged)
            return {
              label: `${p.label} (${p.flagged})`,
              data: [
                { x: p.x, y: p.y, label: `${p.label} (${p.flagged})`, ...(p.href ? { href: p.href } : {}) },
              ],
              borderColor: colour,
              backgroundColor: withAlpha(colour, 0),
              pointStyle: 'crossRot',
              pointRadius: 7,
              pointHoverRadius: 9,
              borderWidth: 2,
            }
          return {
            label: front ? `${p.label} ◆` : p.label,
            data: [{ x: p.x, y: p.y, label: p.label, ...(p.href ? { href: p.href } : {}) }],
            borderColor: front ? FRONT_COLOUR : colour,
            backgroundColor: withAlpha(colour, 0.85),
            pointStyle: front ? 'rectRot' : 'circle',
            pointRadius: front ? 8 : 6,
            pointHoverRadius: front ? 10 : 8,
            borderWidth: front ? 2 : 1,
          }
        }),
      ],
    },
    options,
  }
}
