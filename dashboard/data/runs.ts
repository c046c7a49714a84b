/**
 * The runs page and /api/runs: runs newest first, filtered, paged.
 * @module
 */
import type { Db } from '../../db/client.ts'
import { listRuns, type RunListItem } from '../../db/queries/index.ts'
import type { RunsQuery } from '../params.ts'
import type { ReadCache } from './cache.ts'
import { cachedScenarios } from './pickers.ts'

export interface RunsModel {
  query: RunsQuery
  runs: RunListItem[]
  /** A further page exists. */
  hasMore: boolean
  /** Scenario names for the filter picker. */
  scenarios: string[]
}

/** With a cache, one list per distinct query until the data version changes (as the leaderboard). */
export async function loadRuns(db: Db, query: RunsQuery, cache?: ReadCache): Promise<RunsModel> {
  if (!cache) return computeRuns(db, query)
  // Dates as ISO text; keys in a fixed order (zod's), so equal queries share one entry.
  const key = `runs:${JSON.stringify(query)}`
  // A running run's figures change without changing the version: lists showing one are not kept.
  return cache.get(
    key,
    () => computeRuns(db, query, cache),
    (model) => model.runs.every((r) => r.state !== 'running'),
  )
}

async function computeRuns(db: Db, query: RunsQuery, cache?: ReadCache): Promise<RunsModel> {
  const [items, scenarios] = await Promise.all([
    listRuns(db, {
      // One more than asked tells whether there is a next page.
      limit: query.limit + 1,
      offset: query.offset,
      ...(query.scenario !== undefined ? { scenario: query.scenario } : {}),
      ...(query.target !== undefined ? { target: query.target } : {}),
      ...(query.branch !== undefined ? { branch: query.branch } : {}),
      ...(query.state !== undefined ? { state: query.state } : {}),
      ...(query.since !== undefined ? { since: query.since } : {}),
      ...(query.until !== undefined ? { until: query.until } : {}),
    }),
    cachedScenarios(db, cache),
  ])
  return {
    query,
    runs: items.slice(0, query.limit),
    hasMore: items.length > query.limit,
    scenarios: scenarios.map((s) => s.name),
  }
}
