/**
 * The subset of Chart.js configuration the dashboard's builders produce. Everything here is plain JSON:
 * configs travel to the page inside `<script type="application/json">` blocks (CSP forbids inline code), so
 * behaviour that Chart.js takes as functions (tick formats, tooltips, click-through) is named by `bench*`
 * fields that dashboard/public/charts.js turns into functions.
 * @module
 */

/** How charts.js formats a number on an axis or in a tooltip. */
/** `date`: UTC date and minute; `day`: UTC date only. */
export type ValueFormat = 'date' | 'day' | 'bytes' | 'number' | 'percent'

/** A point of a scatter or line; `href` makes it a link (charts.js navigates on click). */
export interface ChartPoint {
  x: number
  y: number
  href?: string
  /** Shown first in the tooltip (a target name, a commit). */
  label?: string
}

export interface ChartDataset {
  label: string
  data: (number | null | ChartPoint)[]
  type?: 'bar' | 'line' | 'scatter'
  /** Per-bar links, parallel to `data` (bar charts). */
  benchLinks?: (string | null)[]
  [option: string]: unknown
}

export interface ChartAxis {
  type?: 'linear' | 'logarithmic' | 'category'
  /** An array is one line each (Chart.js). */
  title?: { display: true; text: string | string[] }
  /** Formats tick labels (charts.js). */
  benchFormat?: ValueFormat
  /** Tick value → label (a commit for a run's position); other ticks stay blank. */
  benchTickLabels?: Record<string, string>
  /**
   * Category axis: charts.js shortens each tick label (middle ellipsis) to fit the width Chart.js gives
   * the axis (at most half the chart), so none is clipped; the tooltip keeps the full label.
   */
  benchFitLabels?: boolean
  beginAtZero?: boolean
  min?: number
  max?: number
  reverse?: boolean
  [option: string]: unknown
}

export interface ChartConfig {
  type: 'bar' | 'line' | 'scatter'
  data: { labels?: string[]; datasets: ChartDataset[] }
  options: {
    /** Chart.js options; `scales` axes carry `benchFormat`. */
    scales?: Record<string, ChartAxis>
    /** How charts.js formats tooltip values: per axis, plus the unit appended. */
    benchTooltip?: { x?: ValueFormat; y?: ValueFormat; xUnit?: string; yUnit?: string }
    /** Rows of a horizontal bar chart: charts.js makes the chart's box tall enough for each (BAR_ROW_PX). */
    benchRows?: number
    [option: string]: unknown
  }
}

/** A chart as a page embeds it: a canvas id, an accessible title, and its config. */
export interface ChartSpec {
  id: string
  title: string
  config: ChartConfig
}

/** Options every builder starts from: no animation (the page draws once; tests read pixels). */
export function baseOptions(): ChartConfig['options'] {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { display: true, position: 'bottom' } },
  }
}
