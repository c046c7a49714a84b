/**
 * One figure of one series over time or commits, one line per git branch with a legend entry each (a
 * pull request's runs never join the default branch's line). Points link to their runs. The chart also draws, when
 * given, a limit band (the gate's stored lower/upper limits per run) and markers (alerts, change points):
 * the history page passes what the database returns for them.
 * @module
 */
import { FRONT_COLOUR, seriesColour, withAlpha } from './palette.ts'
import {
  baseOptions,
  type ChartConfig,
  type ChartDataset,
  type ChartPoint,
  type ValueFormat,
} from './types.ts'

export interface HistoryChartPoint {
  runId: number
  /** Start time, ms since the epoch. */
  startedAtMs: number
  value: number
  gitCommit: string | null
  /** 0-based position in the full series (the x of the `commit` axis, kept through downsampling). */
  index: number
  /** The line it belongs to (a branch, e.g. `main`); points without one share the first line. */
  line?: string
}

export interface LimitBandPoint {
  runId: number
  lower: number | null
  upper: number | null
}

export interface HistoryMarker {
  runId: number
  kind: 'alert' | 'change-point'
  label: string
}

export interface HistoryChartInput {
  metric: string
  unit: string | null
  points: HistoryChartPoint[]
  /** Line keys in legend order (the default branch first); missing keys follow in order of appearance. */
  lines?: string[]
  /** `time`: x is the start time; `commit`: one slot per run, labelled by short commit. */
  xAxis: 'time' | 'commit'
  band?: LimitBandPoint[]
  markers?: HistoryMarker[]
  format?: ValueFormat
}

/**
 * Palette indices of lines: every colour but those of the limit band (2), alerts (FRONT_COLOUR, 3) and
 * change points (6), so a branch never reads as a band or a marker.
 */
const LINE_COLOURS = [0, 1, 4, 5, 7, 8, 9] as const

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const TIME_STEPS = [
  MINUTE,
  5 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  91 * DAY,
  365 * DAY,
]

/**
 * A time axis with round ticks (whole minutes, hours, days … in UTC) for a linear scale over epoch ms:
 * the smallest step giving at most `maxTicks` intervals, and bounds snapped to it.
 */
export function timeAxis(
  minMs: number,
  maxMs: number,
  maxTicks = 8,
): { min: number; max: number; stepSize: number; format: 'date' | 'day' } {
  const span = Math.max(0, maxMs - minMs)
  const step = TIME_STEPS.find((s) => span / s <= maxTicks) ?? Math.ceil(span / maxTicks / DAY) * DAY
  const min = Math.floor(minMs / step) * step
  let max = Math.ceil(maxMs / step) * step
  if (max === min) max = min + step
  return { min, max, stepSize: step, format: step >= DAY ? 'day' : 'date' }
}

export function historyChart(input: HistoryChartInput): ChartConfig {
  const xOf = new Map<number, number>()
  for (const p of input.points) xOf.set(p.runId, input.xAxis === 'time' ? p.startedAtMs : p.index)
  const yOf = new Map(input.points.map((p) => [p.runId, p.value]))
  const title = input.unit ? `${input.metric} (${input.unit})` : input.metric
  const keys = [...(input.lines ?? [])]
  for (const p of input.points) if (p.line !== undefined && !keys.includes(p.line)) keys.push(p.line)
  const lineOf = (p: HistoryChartPoint) => p.line ?? keys[0] ?? title
  if (keys.length === 0) keys.push(title)
  const datasets: ChartDataset[] = keys.map((key, i) => {
    const colour = seriesColour(LINE_COLOURS[i % LINE_COLOURS.length]!)
    const mine = input.points.filter((p) => lineOf(p) === key)
    return {
      // The legend names the branch when there are lines to tell apart; one line keeps the metric's title.
      label: input.lines !== undefined || keys.length > 1 ? key : title,
      type: 'line',
      data: mine.map(
        (p): ChartPoint => ({
          x: xOf.get(p.runId)!,
          y: p.value,
          href: `/runs/${p.runId}`,
          label: `run ${p.runId}${p.gitCommit ? ` @ ${p.gitCommit.slice(0, 8)}` : ''}${keys.length > 1 ? ` (${key})` : ''}`,
        }),
      ),
      borderColor: colour,
      backgroundColor: colour,
      pointRadius: input.points.length > 200 ? 1.5 : 3,
      borderWidth: 1.5,
    }
  })
  const band = (input.band ?? []).filter((b) => xOf.has(b.runId))
  if (band.length > 0) {
    const bandColour = seriesColour(2)
    // Dashed lines with a tick at each gated run, so a run gated alone (no neighbour to draw a line to)
    // still shows its limits. The lower line is not filled (its legend swatch matches the band); the
    // upper one fills down to it ('-1'), shading the band.
    const limitLine = (label: string, pick: (b: LimitBandPoint) => number | null, fill: false | '-1') => ({
      label,
      type: 'line' as const,
      data: band.flatMap((b): ChartPoint[] => {
        const v = pick(b)
        return v === null ? [] : [{ x: xOf.get(b.runId)!, y: v }]
      }),
      borderColor: withAlpha(bandColour, 0.8),
      backgroundColor: withAlpha(bandColour, 0.15),
      borderDash: [4, 4],
      pointStyle: 'line' as const,
      pointRadius: 6,
      borderWidth: 1,
      fill,
    })
    datasets.push(
      limitLine('lower limit', (b) => b.lower, false),
      limitLine('upper limit', (b) => b.upper, '-1'),
    )
  }
  const markers = (input.markers ?? []).filter((m) => xOf.has(m.runId) && yOf.has(m.runId))
  for (const kind of ['alert', 'change-point'] as const) {
    const mine = markers.filter((m) => m.kind === kind)
    if (mine.length === 0) continue
    datasets.push({
      label: kind === 'alert' ? 'alerts' : 'change points',
      type: 'scatter',
      data: mine.map((m) => ({
        x: xOf.get(m.runId)!,
        y: yOf.get(m.runId)!,
        href: `/runs/${m.runId}`,
        label: m.label,
      })),
      pointStyle: kind === 'alert' ? 'triangle' : 'rectRot',
      pointRadius: 8,
      borderColor: kind === 'alert' ? FRONT_COLOUR : seriesColour(6),
      backgroundColor: withAlpha(kind === 'alert' ? FRONT_COLOUR : seriesColour(6), 0.7),
    })
  }
  const options = baseOptions()
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  for (const p of input.points) {
    first = Math.min(first, p.startedAtMs)
    last = Math.max(last, p.startedAtMs)
  }
  const time = input.points.length > 0 ? timeAxis(first, last) : undefined
  options.scales = {
    x:
      input.xAxis === 'time' && time
        ? {
            type: 'linear',
            title: { display: true, text: 'run start (UTC)' },
            benchFormat: time.format,
            min: time.min,
            max: time.max,
            ticks: { stepSize: time.stepSize },
          }
        : {
            type: 'linear',
            title: { display: true, text: 'runs in order (commit)' },
            ticks: { precision: 0 },
            benchTickLabels: Object.fromEntries(
              input.points.map((p) => [
                String(p.index),
                p.gitCommit ? p.gitCommit.slice(0, 7) : `#${p.index}`,
              ]),
            ),
          },
    y: {
      type: 'linear',
      title: { display: true, text: title },
      ...(input.format ? { benchFormat: input.format } : {}),
    },
  }
  options.benchTooltip = {
    ...(input.xAxis === 'time' ? { x: 'date' as const } : { x: 'number' as const }),
    ...(input.format ? { y: input.format } : {}),
    ...(input.unit ? { yUnit: input.unit } : {}),
  }
  return { type: 'line', data: { datasets }, options }
}
