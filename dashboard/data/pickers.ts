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
import type { ReadCache } from './cache.ts'

/** listScenarios through the cache when there is one (every page's pickers read it). */
export function cachedScenarios(db: Db, cache?: ReadCache): Promise<ScenarioSummary[]> {
  return cache ? cache.get('scenarios', () => listScenarios(db)) : listScenarios(db)
}

/** listSeries through the cache when there is one (`/history` without a fingerprint, `/api/series`). */
export function cachedSeries(db: Db, filter: SeriesFilter = {}, cache?: ReadCache): Promise<SeriesSummary[]> {
  return cache
    ? cache.get(`series:${JSON.stringify(filter)}`, () => listSeries(db, filter))
    : listSeries(db, filter)
}
