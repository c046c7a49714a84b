/**
 * Procurement charts: the ranked objective as bars (best on top, in rank order) and one trade-off scatter
 * with its Pareto front — cost efficiency against goodput when prices are known, else throughput against
 * memory. Rows missing a figure are left out of a chart (the table lists them with the reason).
 * @module
 */
import { barChart } from './bar.ts'
import { type Better, paretoChart } from './pareto.ts'
import type { ChartConfig, ValueFormat } from './types.ts'

/** A target as the charts see it: figures by name, null where missing. */
export interface FigureRow {
  runId: number
  label: string
  href?: string
  /** Palette index, so a target keeps its colour across the page's charts. */
  colour?: number
  /** Figures by name; only numbers are drawn (null or text: missing). */
  figures: Readonly<Record<string, number | string | null>>
}

export interface FigureAxis {
  figure: string
  /** Axis title without the unit (the builder appends it). */
  title: string
  unit: string
  better: Better
  format?: ValueFormat
}

function axisText(axis: FigureAxis): string {
  return axis.unit ? `${axis.title} (${axis.unit})` : axis.title
}

/** Bars of `axis.figure` for the rows having it, in the given (ranked) order; undefined when none has it. */
export function rankedBarChart(rows: readonly FigureRow[], axis: FigureAxis): ChartConfig | undefined {
  const having = rows.filter((r) => typeof r.figures[axis.figure] === 'number')
  if (having.length === 0) return undefined
  return barChart({
    title: axisText(axis),
    unit: axis.format === 'bytes' ? '' : axis.unit,
    ...(axis.format ? { format: axis.format } : {}),
    colours: 'per-row',
    rows: having.map((r, i) => ({
      label: r.label,
      value: r.figures[axis.figure] as number,
      ...(r.href ? { href: r.href } : {}),
      colour: r.colour ?? i,
    })),
  })
}

export interface ScatterPlan {
  /** e.g. `cost-goodput`. */
  id: string
  x: FigureAxis
  y: FigureAxis
}

export interface PlannedScatter {
  plan: ScatterPlan
  /** Rows drawn (having both figures). */
  runIds: number[]
  config: ChartConfig
}

/** The first plan at least two rows have both figures of (one point shows no trade-off); else undefined. */
export function tradeOffScatter(
  rows: readonly FigureRow[],
  plans: readonly ScatterPlan[],
): PlannedScatter | undefined {
  for (const plan of plans) {
    const having = rows.filter(
      (r) => typeof r.figures[plan.x.figure] === 'number' && typeof r.figures[plan.y.figure] === 'number',
    )
    if (having.length < 2) continue
    const axis = (a: FigureAxis) => ({
      title: axisText(a),
      better: a.better,
      ...(a.format ? { format: a.format } : {}),
      ...(a.unit && a.format !== 'bytes' ? { unit: a.unit } : {}),
    })
    return {
      plan,
      runIds: having.map((r) => r.runId),
      config: paretoChart({
        x: axis(plan.x),
        y: axis(plan.y),
        points: having.map((r, i) => ({
          x: r.figures[plan.x.figure] as number,
          y: r.figures[plan.y.figure] as number,
          label: r.label,
          colour: r.colour ?? i,
          ...(r.href ? { href: r.href } : {}),
        })),
      }),
    }
  }
  return undefined
}
