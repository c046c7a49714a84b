/**
 * The charts of one `bench sweep`, each against the offered arrival rate on the same x axis (0 to a round
 * number past the highest rate, so the panels line up): achieved throughput (requests/s, output tokens/s,
 * goodput), then one latency panel per SLO metric (TTFT and TPOT always; e2e or chunk gaps when the SLO
 * bounds them) with the percentiles the SLO names and its bounds as dashed horizontal lines. Every panel
 * draws the knee as a vertical line (its rate in the legend) and marks the failed or stopped steps with a
 * red cross whose tooltip gives the reason. Lines join the steps in rate order, not in the order run (the
 * bisection goes back and forth). Plain JSON, as every builder (charts/types.ts).
 * @module
 */
import { FRONT_COLOUR, seriesColour, withAlpha } from './palette.ts'
import { baseOptions, type ChartConfig, type ChartDataset, type ChartPoint } from './types.ts'

/** One SLO bound of the sweep (harness/sweep/slo.ts SweepSlo). */
export interface SweepChartSlo {
  /** The run metric it bounds, e.g. `ttftMsP95`. */
  name: string
  /** The distribution, e.g. `ttftMs`. */
  metric: string
  percentile: number
  maxMs: number
}

/** One step as the charts see it; figures are null where the run has none. */
export interface SweepChartStep {
  runId: number
  /** 0-based, in the order run. */
  step: number
  /** Offered arrival rate, requests/s. */
  ratePerS: number
  pass: boolean
  /** Why it failed (a bound missed, the run's error, e.g. `stopped early: over-saturated …`). */
  reason: string | null
  /** Figures by run_metrics name: requestsPerS, outputTokensPerS, goodputRequestsPerS, ttftMsP95 … */
  figures: Readonly<Record<string, number | null>>
}

export interface SweepChartInput {
  steps: readonly SweepChartStep[]
  slo: readonly SweepChartSlo[]
  /** Highest passing rate, requests/s; null when none passed (no knee line). */
  kneeRatePerS: number | null
}

export interface SweepPanel {
  /** `throughput`, or the latency metric (`ttftMs`, `tpotMs` …). */
  key: string
  title: string
  config: ChartConfig
}

const RATE_UNIT = 'requests/s'
const KNEE_COLOUR = seriesColour(2)
const SLO_COLOUR = seriesColour(6)
/** Latency panels always drawn, in this order; other SLO metrics follow in the SLO's order. */
const LATENCY_METRICS = ['ttftMs', 'tpotMs'] as const
const LATENCY_TITLES: Record<string, string> = {
  ttftMs: 'TTFT',
  tpotMs: 'TPOT',
  e2eMs: 'E2E latency',
  chunkGapsMs: 'chunk gaps',
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above `v` (v > 0); 1 for v ≤ 0. */
export function roundUp(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v * (1 - 1e-12)) return m * p
  return 10 * p
}

/** Up to 3 decimals, trailing zeros dropped (bisection halves rates: 11.25, 12.188). */
export function rateText(v: number): string {
  return String(Number(v.toFixed(3)))
}

/** The tooltip title of a step: which, at what rate, and its verdict with the reason. */
export function stepLabel(s: SweepChartStep): string {
  return `step ${s.step + 1} · ${rateText(s.ratePerS)} ${RATE_UNIT} · ${s.pass ? 'pass' : `FAIL: ${s.reason ?? 'failed'}`}`
}

/** Steps in rate order (ties in the order run). */
function byRate(steps: readonly SweepChartStep[]): SweepChartStep[] {
  return [...steps].sort((a, b) => a.ratePerS - b.ratePerS || a.step - b.step)
}

function points(steps: readonly SweepChartStep[], figure: string): ChartPoint[] {
  return steps.flatMap((s) => {
    const y = s.figures[figure]
    return typeof y === 'number' && Number.isFinite(y)
      ? [{ x: s.ratePerS, y, href: `/runs/${s.runId}`, label: stepLabel(s) }]
      : []
  })
}

function line(label: string, data: ChartPoint[], colour: number, extra: Record<string, unknown> = {}) {
  const c = seriesColour(colour)
  return {
    label,
    type: 'line' as const,
    data,
    borderColor: c,
    backgroundColor: c,
    pointRadius: 3,
    borderWidth: 1.5,
    ...extra,
  }
}

/** Red crosses over the failed steps' points of the panel's first figure that has one. */
function failures(
  steps: readonly SweepChartStep[],
  figures: readonly string[],
  yAxisID = 'y',
): ChartDataset[] {
  const data = steps.flatMap((s): ChartPoint[] => {
    if (s.pass) return []
    const figure = figures.find((f) => typeof s.figures[f] === 'number' && Number.isFinite(s.figures[f]))
    // A step without the figure (no request finished) sits on the axis: its cross still says why.
    const y = figure === undefined ? 0 : (s.figures[figure] as number)
    return [{ x: s.ratePerS, y, href: `/runs/${s.runId}`, label: stepLabel(s) }]
  })
  if (data.length === 0) return []
  return [
    {
      label: 'failed / stopped step',
      type: 'scatter',
      data,
      yAxisID,
      pointStyle: 'crossRot',
      pointRadius: 8,
      pointHoverRadius: 10,
      borderWidth: 2,
      borderColor: FRONT_COLOUR,
      backgroundColor: withAlpha(FRONT_COLOUR, 0.7),
    },
  ]
}

/** The knee: a vertical line from 0 to the top of the panel's y axis, its rate in the legend. */
function kneeLine(knee: number | null, top: number, yAxisID = 'y'): ChartDataset[] {
  if (knee === null) return []
  return [
    {
      label: `knee ${rateText(knee)} ${RATE_UNIT}`,
      type: 'line',
      data: [
        { x: knee, y: 0, label: `knee: ${rateText(knee)} ${RATE_UNIT}, the highest rate within every bound` },
        // benchTag: charts.js writes the rate beside the line's top end (its pointTags plugin).
        {
          x: knee,
          y: top,
          label: `knee: ${rateText(knee)} ${RATE_UNIT}, the highest rate within every bound`,
          benchTag: `knee ${rateText(knee)}/s`,
        } as ChartPoint,
      ],
      yAxisID,
      benchKnee: knee,
      borderColor: KNEE_COLOUR,
      backgroundColor: KNEE_COLOUR,
      borderWidth: 2,
      borderDash: [6, 3],
      pointRadius: 0,
      pointHitRadius: 4,
    },
  ]
}

function xAxis(maxX: number) {
  return {
    type: 'linear' as const,
    title: { display: true as const, text: `offered rate (${RATE_UNIT})` },
    min: 0,
    max: maxX,
    benchFormat: 'number' as const,
  }
}

/** The highest y a panel shows: its data and bounds, 10 % of headroom, rounded up. */
function topOf(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v))
  return roundUp(Math.max(0, ...finite) * 1.1)
}

/** Every panel of the sweep: throughput first, then TTFT, TPOT and any other SLO metric. */
export function sweepPanels(input: SweepChartInput): SweepPanel[] {
  const steps = byRate(input.steps)
  const maxX = roundUp(Math.max(0, ...steps.map((s) => s.ratePerS), input.kneeRatePerS ?? 0) * 1.05)
  return [
    throughputPanel(input, steps, maxX),
    ...latencyMetrics(input.slo).map((metric) => latencyPanel(input, steps, maxX, metric)),
  ]
}

/** TTFT and TPOT, then the other metrics the SLO bounds, each once. */
export function latencyMetrics(slo: readonly SweepChartSlo[]): string[] {
  const out: string[] = [...LATENCY_METRICS]
  for (const s of slo) if (!out.includes(s.metric)) out.push(s.metric)
  return out
}

function throughputPanel(input: SweepChartInput, steps: SweepChartStep[], maxX: number): SweepPanel {
  const rps = points(steps, 'requestsPerS')
  const goodput = points(steps, 'goodputRequestsPerS')
  const tokens = points(steps, 'outputTokensPerS')
  const topRps = topOf([...rps, ...goodput].map((p) => p.y).concat(maxX))
  const topTokens = topOf(tokens.map((p) => p.y))
  const datasets: ChartDataset[] = [
    line(`achieved ${RATE_UNIT}`, rps, 0, { yAxisID: 'y' }),
    line(`goodput ${RATE_UNIT}`, goodput, 4, { yAxisID: 'y', borderDash: [3, 3] }),
    // Triangles, dashed: with fixed-length outputs tokens/s is a multiple of requests/s, and on its own
    // axis its line can fall exactly on the requests/s one.
    line('output tokens/s', tokens, 1, {
      yAxisID: 'y1',
      pointStyle: 'triangle',
      pointRadius: 5,
      borderDash: [6, 3],
    }),
    // The offered rate itself: where achieved falls below it, the server stopped keeping up.
    {
      label: `offered = achieved`,
      type: 'line',
      data: [
        { x: 0, y: 0 },
        { x: maxX, y: maxX },
      ],
      yAxisID: 'y',
      borderColor: withAlpha(seriesColour(9), 0.8),
      backgroundColor: withAlpha(seriesColour(9), 0.8),
      borderWidth: 1,
      borderDash: [2, 4],
      pointRadius: 0,
      pointHitRadius: 0,
    },
    ...failures(steps, ['requestsPerS']),
    ...kneeLine(input.kneeRatePerS, topRps),
  ]
  const options = baseOptions()
  options.scales = {
    x: xAxis(maxX),
    y: {
      type: 'linear',
      position: 'left',
      min: 0,
      max: topRps,
      title: { display: true, text: RATE_UNIT },
      benchFormat: 'number',
    },
    y1: {
      type: 'linear',
      position: 'right',
      min: 0,
      max: topTokens,
      title: { display: true, text: 'output tokens/s' },
      benchFormat: 'number',
      grid: { drawOnChartArea: false },
    },
  }
  options.benchTooltip = { x: 'number', xUnit: RATE_UNIT, y: 'number' }
  return {
    key: 'throughput',
    title: 'Achieved throughput against offered rate',
    config: { type: 'line', data: { datasets }, options },
  }
}

function latencyPanel(
  input: SweepChartInput,
  steps: SweepChartStep[],
  maxX: number,
  metric: string,
): SweepPanel {
  const bounds = input.slo.filter((s) => s.metric === metric)
  // p95 always (the figure the table shows); other percentiles the SLO bounds, in percentile order.
  const names = [
    `${metric}P95`,
    ...bounds
      .filter((b) => b.percentile !== 95)
      .sort((a, b) => a.percentile - b.percentile)
      .map((b) => b.name),
  ].filter((n, i, all) => all.indexOf(n) === i)
  const series = names.map((name, i) => ({
    name,
    data: points(steps, name),
    colour: i === 0 ? 0 : [7, 8, 9][i % 3]!,
  }))
  const top = topOf([...series.flatMap((s) => s.data.map((p) => p.y)), ...bounds.map((b) => b.maxMs)])
  const datasets: ChartDataset[] = [
    ...series.map((s) => line(`${s.name} (ms)`, s.data, s.colour)),
    ...bounds.map(
      (b): ChartDataset => ({
        label: `SLO ${b.name} ≤ ${b.maxMs} ms`,
        type: 'line',
        data: [
          { x: 0, y: b.maxMs, label: `SLO: ${b.name} ≤ ${b.maxMs} ms` },
          { x: maxX, y: b.maxMs, label: `SLO: ${b.name} ≤ ${b.maxMs} ms` },
        ],
        benchSlo: b.name,
        borderColor: SLO_COLOUR,
        backgroundColor: SLO_COLOUR,
        borderWidth: 1.5,
        borderDash: [8, 4],
        pointRadius: 0,
        pointHitRadius: 4,
      }),
    ),
    ...failures(steps, names),
    ...kneeLine(input.kneeRatePerS, top),
  ]
  const options = baseOptions()
  options.scales = {
    x: xAxis(maxX),
    y: {
      type: 'linear',
      min: 0,
      max: top,
      title: { display: true, text: `${metric} (ms)` },
      benchFormat: 'number',
    },
  }
  options.benchTooltip = { x: 'number', xUnit: RATE_UNIT, y: 'number', yUnit: 'ms' }
  const title = LATENCY_TITLES[metric] ?? metric
  return {
    key: metric,
    title: `${title} ${names.map((n) => n.slice(metric.length).toLowerCase()).join(', ')} against offered rate`,
    config: { type: 'line', data: { datasets }, options },
  }
}
