/**
 * Pareto scatter: each target at (x, y), the non-dominated ones (no other target at least as good on both
 * axes and better on one) marked and joined, since those are the only sensible choices under the trade-off.
 * @module
 */
import { FRONT_COLOUR, familyColours, seriesColour, withAlpha } from './palette.ts'
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
  /** The target: its tooltip title, and its label on the chart when it is on the front. */
  label: string
  /** Palette index, used when the point has no `family`. */
  colour?: number
  /** Variant family (palette.ts variantFamily): the point's colour and legend entry. */
  family?: string
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

/** Datasets past which the legend is hidden (points still name themselves on hover). */
const MAX_LEGEND_ENTRIES = 12

/**
 * The front first (a dashed line through diamonds, each filled with its family colour and labelled on the
 * chart: `benchTag`, drawn by charts.js without overlapping), then the other points grouped by variant
 * family (one dataset and one legend entry per family, in its colour: palette.ts familyColours), flagged
 * points last as hollow crosses. Every point names itself on hover. So the legend lists a handful of
 * families however many targets there are (28 per-target entries did not fit and repeated colours). Points
 * without a family form one `targets` dataset, each in its palette colour (`colour`, else its position).
 */
export function paretoChart(input: ParetoChartInput): ChartConfig {
  const eligible = input.points.flatMap((p, i) => (p.flagged ? [] : [i]))
  const frontIdx = paretoFront(
    eligible.map((i) => input.points[i]!),
    input.x.better,
    input.y.better,
  ).map((k) => eligible[k]!)
  const onFront = new Set(frontIdx)
  const options = baseOptions()
  // Two lines (name and unit; which way is better): a one-line title longer than a short chart's height
  // was clipped.
  options.scales = {
    x: {
      type: 'linear',
      title: { display: true, text: [input.x.title, `${input.x.better} is better`] },
      ...(input.x.format ? { benchFormat: input.x.format } : {}),
      ...byteTicks(
        input.x.format,
        input.points.map((p) => p.x),
      ),
    },
    y: {
      type: 'linear',
      title: { display: true, text: [input.y.title, `${input.y.better} is better`] },
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
  const point = (p: ParetoPoint, label: string, tag?: string): ChartPoint & { benchTag?: string } => ({
    x: p.x,
    y: p.y,
    label,
    ...(p.href ? { href: p.href } : {}),
    ...(tag !== undefined ? { benchTag: tag } : {}),
  })
  const colours = familyColours(input.points.flatMap((p) => (p.family !== undefined ? [p.family] : [])))
  const colourOf = (i: number) => {
    const p = input.points[i]!
    return (p.family !== undefined ? colours.get(p.family) : undefined) ?? seriesColour(p.colour ?? i)
  }
  // Scalar dataset colours and point styles are what the legend draws (usePointStyle); per-point ones
  // (pointBackgroundColor …) colour the points themselves.
  const groups = new Map<string, number[]>()
  input.points.forEach((p, i) => {
    if (p.flagged || onFront.has(i)) return
    const key = p.family ?? ''
    groups.set(key, [...(groups.get(key) ?? []), i])
  })
  const groupDatasets = [...groups]
    .sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a < b ? -1 : a > b ? 1 : 0))
    .map(([family, members]) => {
      const legendColour = colours.get(family) ?? seriesColour(0)
      return {
        label: family === '' ? 'targets' : family,
        data: members.map((i) => point(input.points[i]!, input.points[i]!.label)),
        borderColor: legendColour,
        backgroundColor: withAlpha(legendColour, 0.85),
        pointBorderColor: members.map(colourOf),
        pointBackgroundColor: members.map((i) => withAlpha(colourOf(i), 0.85)),
        pointStyle: 'circle',
        pointRadius: 5,
        pointHoverRadius: 7,
        borderWidth: 1,
      }
    })
  const flagged = input.points.flatMap((p, i) => (p.flagged ? [i] : []))
  const datasets = [
    {
      // The front: a dashed line through diamonds in their family colour, each labelled on the chart.
      label: 'Pareto front',
      data: frontIdx.map((i) => point(input.points[i]!, input.points[i]!.label, input.points[i]!.label)),
      showLine: true,
      borderColor: FRONT_COLOUR,
      backgroundColor: FRONT_COLOUR,
      borderDash: [6, 4],
      borderWidth: 2,
      pointStyle: 'rectRot',
      pointRadius: 8,
      pointHoverRadius: 10,
      pointBorderColor: FRONT_COLOUR,
      pointBackgroundColor: frontIdx.map((i) => withAlpha(colourOf(i), 0.85)),
      pointBorderWidth: 2,
    },
    ...groupDatasets,
    ...(flagged.length > 0
      ? [
          {
            label: 'flagged (not a best)',
            data: flagged.map((i) => {
              const p = input.points[i]!
              return point(p, `${p.label} (${p.flagged})`)
            }),
            borderColor: '#6b7280',
            backgroundColor: withAlpha('#6b7280', 0),
            pointBorderColor: flagged.map(colourOf),
            pointBackgroundColor: flagged.map((i) => withAlpha(colourOf(i), 0)),
            pointStyle: 'crossRot',
            pointRadius: 7,
            pointHoverRadius: 9,
            borderWidth: 2,
          },
        ]
      : []),
  ]
  options.plugins = {
    legend: {
      display: datasets.length <= MAX_LEGEND_ENTRIES,
      position: 'bottom',
      labels: { usePointStyle: true },
    },
  }
  return { type: 'scatter', data: { datasets }, options }
}
