/**
 * The few reads (and the one write) the dashboard needs beyond db/queries: pickers (scenarios, branches,
 * series), the fingerprint dimensions a leaderboard filters on, and editing a run's label.
 * @module
 */
import { and, count, desc, eq, inArray, isNotNull, max, sql } from 'drizzle-orm'
import { type Db, selectRows } from '../../db/client.ts'
import { environments, runMetrics, runs, variants } from '../../db/schema.ts'
import type { ReadCache } from './cache.ts'

export interface ScenarioSummary {
  name: string
  completedRuns: number
  lastRunAt: Date
}

/** Scenarios with at least one completed run, most recently run first. */
export async function listScenarios(db: Db): Promise<ScenarioSummary[]> {
  const rows = await db
    .select({ name: runs.scenarioName, completedRuns: count(), lastRunAt: max(runs.startedAt) })
    .from(runs)
    .where(eq(runs.state, 'completed'))
    .groupBy(runs.scenarioName)
    .orderBy(desc(max(runs.startedAt)), runs.scenarioName)
  return rows.map((r) => ({ name: r.name, completedRuns: r.completedRuns, lastRunAt: toDate(r.lastRunAt) }))
}

/** listScenarios through the cache when there is one (every page's pickers read it). */
export function cachedScenarios(db: Db, cache?: ReadCache): Promise<ScenarioSummary[]> {
  return cache ? cache.get('scenarios', () => listScenarios(db)) : listScenarios(db)
}

/** Branches with completed runs of the scenario, by name. */
export async function scenarioBranches(db: Db, scenario: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ branch: runs.gitBranch })
    .from(runs)
    .where(and(eq(runs.scenarioName, scenario), eq(runs.state, 'completed'), isNotNull(runs.gitBranch)))
    .orderBy(runs.gitBranch)
  return rows.flatMap((r) => (r.branch === null ? [] : [r.branch]))
}

/** What a leaderboard row is, beyond its target name: variant × engine × environment. */
export interface TargetFacets {
  engineKind: string
  engineVersion: string | null
  variantName: string | null
  method: string | null
  quantLabel: string | null
  /** `GPU name · CPU model ×cores`, or `CPU model ×cores`; `unknown` without a stored environment. */
  hardware: string
}

export async function targetFacets(db: Db, runIds: readonly number[]): Promise<Map<number, TargetFacets>> {
  if (runIds.length === 0) return new Map()
  const rows = await db
    .select({
      id: runs.id,
      engineKind: runs.engineKind,
      engineVersion: runs.engineVersion,
      variantName: variants.name,
      method: variants.method,
      quantLabel: variants.quantLabel,
      cpuModel: environments.cpuModel,
      cores: environments.cores,
      gpus: environments.gpus,
    })
    .from(runs)
    .leftJoin(variants, eq(variants.id, runs.variantId))
    .leftJoin(environments, eq(environments.id, runs.environmentId))
    .where(inArray(runs.id, [...runIds]))
  return new Map(
    rows.map((r) => [
      r.id,
      {
        engineKind: r.engineKind,
        engineVersion: r.engineVersion,
        variantName: r.variantName,
        method: r.method,
        quantLabel: r.quantLabel,
        hardware: hardwareLabel(r.cpuModel, r.cores, r.gpus),
      },
    ]),
  )
}

export function hardwareLabel(
  cpuModel: string | null,
  cores: number | null,
  gpus: { name: string }[] | null,
): string {
  if (cpuModel === null) return 'unknown'
  const cpu = `${cpuModel} ×${cores ?? '?'}`
  return gpus && gpus.length > 0 ? `${gpus.map((g) => g.name).join(' + ')} · ${cpu}` : cpu
}

export interface SeriesSummary {
  fingerprint: string
  scenarioName: string
  targetName: string
  completedRuns: number
  lastRunAt: Date
}

/** Series (fingerprints) with completed runs, most recently run first, at most `limit`. */
export function listSeries(
  db: Db,
  filter: { scenario?: string; target?: string; limit?: number } = {},
  cache?: ReadCache,
): Promise<SeriesSummary[]> {
  return cache
    ? cache.get(`series:${JSON.stringify(filter)}`, () => querySeries(db, filter))
    : querySeries(db, filter)
}

async function querySeries(
  db: Db,
  filter: { scenario?: string; target?: string; limit?: number },
): Promise<SeriesSummary[]> {
  const rows = await db
    .select({
      fingerprint: runs.fingerprint,
      scenarioName: runs.scenarioName,
      targetName: runs.targetName,
      completedRuns: count(),
      lastRunAt: max(runs.startedAt),
    })
    .from(runs)
    .where(
      and(
        eq(runs.state, 'completed'),
        filter.scenario !== undefined ? eq(runs.scenarioName, filter.scenario) : undefined,
        filter.target !== undefined ? eq(runs.targetName, filter.target) : undefined,
      ),
    )
    .groupBy(runs.fingerprint, runs.scenarioName, runs.targetName)
    .orderBy(desc(max(runs.startedAt)), runs.fingerprint)
    .limit(filter.limit ?? 200)
  return rows.map((r) => ({ ...r, lastRunAt: toDate(r.lastRunAt) }))
}

export interface FingerprintSummary {
  fingerprint: string
  scenarioName: string
  targetName: string
  completedRuns: number
  /** Metric names stored on the latest completed run, by name. */
  metrics: string[]
}

/** The series behind a fingerprint; undefined when no completed run has it. */
export async function fingerprintSummary(
  db: Db,
  fingerprint: string,
): Promise<FingerprintSummary | undefined> {
  const [latest] = await db
    .select({
      id: runs.id,
      scenarioName: runs.scenarioName,
      targetName: runs.targetName,
      completedRuns: sql<number>`(count(*) over ())::int`,
    })
    .from(runs)
    .where(and(eq(runs.fingerprint, fingerprint), eq(runs.state, 'completed')))
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(1)
  if (!latest) return undefined
  const names = await db
    .select({ name: runMetrics.name })
    .from(runMetrics)
    .where(eq(runMetrics.runId, latest.id))
    .orderBy(runMetrics.name)
  return {
    fingerprint,
    scenarioName: latest.scenarioName,
    targetName: latest.targetName,
    completedRuns: latest.completedRuns,
    metrics: names.map((n) => n.name),
  }
}

/** Sets (or with null clears) a run's label; false when the run does not exist. */
export async function setRunLabel(db: Db, runId: number, label: string | null): Promise<boolean> {
  const updated = await db.update(runs).set({ label }).where(eq(runs.id, runId)).returning({ id: runs.id })
  return updated.length > 0
}

/** max() of a timestamp comes back as a Date from drizzle's column mapping, or a string from raw drivers. */
function toDate(v: Date | string | null): Date {
  return v instanceof Date ? v : new Date(v ?? 0)
}

export async function runExists(db: Db, runId: number): Promise<boolean> {
  const rows = await db.select({ id: runs.id }).from(runs).where(eq(runs.id, runId)).limit(1)
  return rows.length > 0
}

/**
 * What the cached reads depend on: the newest run id (a run was started or imported) and how many runs
 * are running (one finished, or was marked interrupted), both index lookups; and the newest alert id and
 * latest alert action (`bench gate` opened one, someone acknowledged or dismissed one, from any process),
 * over the alerts table, which holds regressions only and stays small; and the number of environment
 * prices with the newest price write (one row per environment: small too).
 */
export async function dataVersion(db: Db): Promise<string> {
  const [row] = await selectRows<{
    max_id: number | null
    running: number
    max_alert_id: number | null
    acted_at: string | null
    prices: string | null
  }>(
    db,
    sql`select (select max(id) from runs) as max_id, (select count(*) from runs where state = 'running')::int as running,
      (select max(id) from alerts) as max_alert_id, (select max(acted_at)::text from alerts) as acted_at,
      (select count(*) || '@' || max(updated_at)::text from environment_prices) as prices`,
  )
  return `${row?.max_id ?? 0}:${row?.running ?? 0}:${row?.max_alert_id ?? 0}:${row?.acted_at ?? ''}:${row?.prices ?? ''}`
}
