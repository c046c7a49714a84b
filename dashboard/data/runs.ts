/**
 * The runs page and /api/runs: runs newest first, filtered, paged.
 * @module
 */
import type { Db } from '../../db/client.ts'
import { listRuns, type RunListItem } from '../../db/queries/index.ts'
import type { RunsQuery } from '../params.ts'
import type { ReadCache } from './cache.ts'
import { cachedScenarios } from './queries.ts'

export interface RunsModel {
  query: RunsQuery
  runs: RunListItem[]
  /** A further page exists. */
  hasMore: boolean
  /** Scenario names for the filter picker. */
  scenarios: string[]
}

export async function loadRuns(db: Db, query: RunsQuery, cache?: ReadCache): Promise<RunsModel> {
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
