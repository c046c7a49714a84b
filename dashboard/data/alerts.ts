/**
 * The alerts page and /api/alerts: regressions `bench gate` opened, newest first, with their runs and
 * series, plus counts per metric and state for the chart; and the two state changes (acknowledge,
 * dismiss) the page's buttons and the API make, through db/gate/alerts.ts like `bench alerts`.
 * @module
 */
import type { Db } from '../../db/client.ts'
import { acknowledgeAlert, dismissAlert } from '../../db/gate/alerts.ts'
import {
  type AlertCount,
  type AlertListItem,
  alertCounts,
  getAlertWithRun,
  listAlertsWithRuns,
} from '../../db/queries/index.ts'
import { NotFoundError } from '../errors.ts'
import type { AlertActionBody, AlertsQuery } from '../params.ts'
import type { ReadCache } from './cache.ts'

export interface AlertsModel {
  query: AlertsQuery
  /** Newest first, at most `query.limit`. */
  alerts: AlertListItem[]
  /** A further alert matches beyond `query.limit`. */
  hasMore: boolean
  /** Every alert per metric and state (the chart; not narrowed by the filters). */
  counts: AlertCount[]
  /** Alerts in state active, over every metric. */
  activeCount: number
  /** Metrics with alerts, by name (the filter's choices). */
  metrics: string[]
}

function cachedCounts(db: Db, cache?: ReadCache): Promise<AlertCount[]> {
  return cache ? cache.get('alerts:counts', () => alertCounts(db)) : alertCounts(db)
}

/** Active alerts over every metric (the navigation's badge). */
export async function activeAlertCount(db: Db, cache?: ReadCache): Promise<number> {
  return (await cachedCounts(db, cache)).reduce((n, c) => n + (c.state === 'active' ? c.count : 0), 0)
}

export async function loadAlerts(db: Db, query: AlertsQuery, cache?: ReadCache): Promise<AlertsModel> {
  const list = () =>
    listAlertsWithRuns(db, {
      // One more than asked tells whether there are more.
      limit: query.limit + 1,
      ...(query.state !== 'all' ? { state: query.state } : {}),
      ...(query.metric !== undefined ? { metric: query.metric } : {}),
    })
  const [rows, counts] = await Promise.all([
    cache ? cache.get(`alerts:list:${JSON.stringify(query)}`, list) : list(),
    cachedCounts(db, cache),
  ])
  return {
    query,
    alerts: rows.slice(0, query.limit),
    hasMore: rows.length > query.limit,
    counts,
    activeCount: counts.reduce((n, c) => n + (c.state === 'active' ? c.count : 0), 0),
    metrics: [...new Set(counts.map((c) => c.metric))].sort(),
  }
}

export type AlertAction = 'acknowledge' | 'dismiss'

/**
 * Sets the alert's state (from any state, as `bench alerts ack|dismiss` does), records who and why, and
 * drops cached reads so the next page shows it. Throws NotFoundError for an unknown id.
 */
export async function actOnAlert(
  db: Db,
  id: number,
  action: AlertAction,
  body: AlertActionBody,
  cache?: ReadCache,
): Promise<AlertListItem> {
  const act = {
    ...(body.by !== undefined ? { by: body.by } : {}),
    ...(body.note !== undefined && body.note !== '' ? { note: body.note } : {}),
  }
  const updated =
    action === 'acknowledge' ? await acknowledgeAlert(db, id, act) : await dismissAlert(db, id, act)
  if (!updated) throw new NotFoundError(`no alert with id ${id}`)
  cache?.invalidate()
  const row = await getAlertWithRun(db, id)
  if (!row) throw new NotFoundError(`no alert with id ${id}`)
  return row
}
