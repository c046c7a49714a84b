/**
 * What a reader chooses from: scenarios with completed runs, the branches of one, the series
 * (fingerprints) to chart, and what one series holds — the dashboard's pickers and its history page.
 * @module
 */
import { and, count, desc, eq, isNotNull, max, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { runMetrics, runs } from '../schema.ts'
import { rankedCondition } from './scope.ts'

export interface ScenarioSummary {
  name: string
  completedRuns: number
  lastRunAt: Date
}

/**
 * Scenarios with at least one completed run, most recently run first. `ranked`: counting only runs that
 * may rank (scope.ts rankedCondition), the pickers of the leaderboard, procurement and variant pages, so a
 * scenario of checklist or micro runs alone is none of theirs (and never their default). @default false
 */
export async function listScenarios(db: Db, options: { ranked?: boolean } = {}): Promise<ScenarioSummary[]> {
  const rows = await db
    .select({ name: runs.scenarioName, completedRuns: count(), lastRunAt: max(runs.startedAt) })
    .from(runs)
    .where(and(eq(runs.state, 'completed'), options.ranked ? rankedCondition() : undefined))
    .groupBy(runs.scenarioName)
    .orderBy(desc(max(runs.startedAt)), runs.scenarioName)
  return rows.map((r) => ({ name: r.name, completedRuns: r.completedRuns, lastRunAt: toDate(r.lastRunAt) }))
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

/** Branches with completed runs of the series (fingerprint), by name: history's branch picker. */
export async function fingerprintBranches(db: Db, fingerprint: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ branch: runs.gitBranch })
    .from(runs)
    .where(and(eq(runs.fingerprint, fingerprint), eq(runs.state, 'completed'), isNotNull(runs.gitBranch)))
    .orderBy(runs.gitBranch)
  return rows.flatMap((r) => (r.branch === null ? [] : [r.branch]))
}

export interface SeriesSummary {
  fingerprint: string
  scenarioName: string
  targetName: string
  completedRuns: number
  lastRunAt: Date
}

export interface SeriesFilter {
  scenario?: string
  target?: string
  /** Series to return. @default 200 */
  limit?: number
}

/** Series (fingerprints) with completed runs, most recently run first, at most `limit`. */
export async function listSeries(db: Db, filter: SeriesFilter = {}): Promise<SeriesSummary[]> {
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

/** max() of a timestamp comes back as a Date from drizzle's column mapping, or a string from raw drivers. */
function toDate(v: Date | string | null): Date {
  return v instanceof Date ? v : new Date(v ?? 0)
}
