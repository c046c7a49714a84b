/**
 * Alerts per metric, stacked by state (active, acknowledged, dismissed): which figures regress, and how
 * many regressions nobody has looked at yet. Each bar segment links to the alerts list it counts.
 * @module
 */
import { FRONT_COLOUR, SERIES_COLOURS } from './palette.ts'
import { baseOptions, type ChartConfig } from './types.ts'

export const ALERT_STATES = ['active', 'acknowledged', 'dismissed'] as const
export type AlertStateName = (typeof ALERT_STATES)[number]

export interface AlertCountRow {
  metric: string
  state: AlertStateName
  count: number
}

/** Red for what needs a person, amber for owned, grey for set aside. */
export const ALERT_STATE_COLOURS: Readonly<Record<AlertStateName, string>> = {
  active: FRONT_COLOUR,
  acknowledged: SERIES_COLOURS[5],
  dismissed: SERIES_COLOURS[9],
}

/**
 * One horizontal bar per metric (most alerts first, then by name), one stacked segment per state.
 * A metric × state without alerts is 0, not missing, so the stacks line up.
 */
export function alertsByMetricChart(rows: readonly AlertCountRow[]): ChartConfig {
  const totals = new Map<string, number>()
  const counts = new Map<string, number>()
  for (const r of rows) {
    totals.set(r.metric, (totals.get(r.metric) ?? 0) + r.count)
    counts.set(`${r.metric}\u0000${r.state}`, (counts.get(`${r.metric}\u0000${r.state}`) ?? 0) + r.count)
  }
  const metrics = [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)! || a.localeCompare(b))
  const options = baseOptions()
  options.indexAxis = 'y'
  options.scales = {
    x: {
      type: 'linear',
      stacked: true,
      beginAtZero: true,
      title: { display: true, text: 'alerts' },
      ticks: { precision: 0 },
    },
    y: { type: 'category', stacked: true },
  }
  options.benchTooltip = { xUnit: 'alerts' }
  return {
    type: 'bar',
    data: {
      labels: metrics,
      datasets: ALERT_STATES.map((state) => ({
        label: state,
        data: metrics.map((m) => counts.get(`${m}\u0000${state}`) ?? 0),
        backgroundColor: ALERT_STATE_COLOURS[state],
        benchLinks: metrics.map((m) => `/alerts?${new URLSearchParams({ state, metric: m }).toString()}`),
      })),
    },
    options,
  }
}
