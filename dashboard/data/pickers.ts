/**
 * The pickers every page reads (scenarios, series), through the read cache when there is one
 * (db/queries/pickers.ts holds the queries).
 * @module
 */
import type { Db } from '../../db/client.ts'
import {
  listScenarios,
  listSeries,
  type ScenarioSummary,
  type SeriesFilter,
  type SeriesSummary,
} from '../../db/queries/pickers.ts'
import { NotFoundError } from '../errors.ts'
import type { ReadCache } from './cache.ts'

/** listScenarios through the cache when there is one (every page's pickers read it). */
export function cachedScenarios(db: Db, cache?: ReadCache): Promise<ScenarioSummary[]> {
  return cache ? cache.get('scenarios', () => listScenarios(db)) : listScenarios(db)
}

/**
 * Scenarios with a completed run that may rank (no checklist or micro runs alone: db/queries/scope.ts
 * UNRANKED_LOAD_KINDS): the leaderboard's, procurement's and the variant table's pickers and default.
 */
export function cachedRankedScenarios(db: Db, cache?: ReadCache): Promise<ScenarioSummary[]> {
  const read = () => listScenarios(db, { ranked: true })
  return cache ? cache.get('scenarios:ranked', read) : read()
}

/**
 * The 404 of a ranking page asked for a scenario it does not list: no completed run at all, or only runs
 * that rank nothing (a `bench checklist`'s, micro runs), which the runs list shows.
 */
export async function unrankedScenarioError(
  db: Db,
  scenario: string,
  cache?: ReadCache,
): Promise<NotFoundError> {
  const any = (await cachedScenarios(db, cache)).some((s) => s.name === scenario)
  return new NotFoundError(
    any
      ? `scenario "${scenario}" has no completed run to rank: its runs are checklist or micro runs, listed at /runs?scenario=${encodeURIComponent(scenario)}`
      : `no completed runs of scenario "${scenario}"`,
  )
}

/** listSeries through the cache when there is one (`/history` without a fingerprint, `/api/series`). */
export function cachedSeries(db: Db, filter: SeriesFilter = {}, cache?: ReadCache): Promise<SeriesSummary[]> {
  return cache
    ? cache.get(`series:${JSON.stringify(filter)}`, () => listSeries(db, filter))
    : listSeries(db, filter)
}
