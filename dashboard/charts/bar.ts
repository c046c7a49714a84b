/**
 * Horizontal bar chart of one figure per row (throughput per target, errors per kind): long target
 * names stay readable on the category axis, and each bar can link to the run behind it.
 * @module
 */
import { seriesColour } from './palette.ts'
import { baseOptions, type ChartConfig, type ValueFormat } from './types.ts'

export interface BarRow {
  label: string
  value: number
  href?: string
  /** Palette index (with `colours: 'per-row'`); default: the row's position. */
  colour?: number
  /** A colour (`#rrggbb`, e.g. the row's family colour, palette.ts familyColours); wins over `colour`. */
  fill?: string
}

export interface BarChartInput {
  rows: BarRow[]
  /** Dataset label and axis title, with the unit, e.g. `outputTokensPerS (tokens/s)`. */
  title: string
  format?: ValueFormat
  unit?: string
  /** One colour for every bar, or each bar its own series colour. @default 'single' */
  colours?: 'single' | 'per-row'
  /** Counts: whole-number ticks only. @default false */
  integer?: boolean
}

export function barChart(input: BarChartInput): ChartConfig {
  const options = baseOptions()
  options.indexAxis = 'y'
  options.plugins = { legend: { display: false } }
  // Every row labelled (no auto-skip), each label shortened in the page to what the axis can hold with
  // the full name in the tooltip (charts.js benchFitLabels), and the chart as tall as its rows
  // (benchRows: charts.js sizes the box), so a 60-row chart is not 60 bars squeezed into 320 px.
  options.benchRows = input.rows.length
  options.scales = {
    x: {
      type: 'linear',
      beginAtZero: true,
      title: { display: true, text: input.title },
      ...(input.integer ? { ticks: { precision: 0 } } : {}),
      ...(input.format ? { benchFormat: input.format } : {}),
    },
    y: { type: 'category', ticks: { autoSkip: false }, benchFitLabels: true },
  }
  // Horizontal bars: the value axis is x.
  options.benchTooltip = {
    ...(input.format ? { x: input.format } : {}),
    ...(input.unit ? { xUnit: input.unit } : {}),
  }
  const links = input.rows.map((r) => r.href ?? null)
  return {
    type: 'bar',
    data: {
      labels: input.rows.map((r) => r.label),
      datasets: [
        {
          label: input.title,
          data: input.rows.map((r) => r.value),
          backgroundColor:
            input.colours === 'per-row'
              ? input.rows.map((r, i) => r.fill ?? seriesColour(r.colour ?? i))
              : seriesColour(0),
          ...(links.some((l) => l !== null) ? { benchLinks: links } : {}),
        },
      ],
    },
    options,
  }
}
