/**
 * Listing runs, newest first, filtered by scenario, target, branch, state and start time.
 * @module
 */
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { markInterruptedRuns } from '../liveness.ts'
import { type ImportFormat, type Run, runs } from '../schema.ts'
import { type MetricValues, metricsOf } from './metrics-of.ts'

export interface RunFilter {
  scenario?: string
  target?: string
  branch?: string
  state?: Run['state']
  /** Runs started at or after this time. */
  since?: Date
  /** Runs started before this time. */
  until?: Date
  /** Rows to return. @default 50 */
  limit?: number
  /** Rows to skip (paging). @default 0 */
  offset?: number
}

/** Headline figures a run list shows (present ones only). */
const LIST_METRICS = [
  'attempted',
  'outputTokensPerS',
  'requestsPerS',
  'ttftMsP50',
  'errorRate',
  'clientSaturated',
  'promptTokensPerS',
  'genTokensPerS',
] as const

export interface RunListItem {
  id: number
  scenarioName: string
  targetName: string
  state: Run['state']
  startedAt: Date
  finishedAt: Date | null
  engineKind: string
  engineModel: string
  /** The load as run (a LoadSpec, or an imported tool's equivalent). */
  load: unknown
  loadKind: string
  loadIndex: number
  label: string | null
  fingerprint: string
  gitCommit: string | null
  gitBranch: string | null
  /** 'run', or 'confirm' for a `bench gate --confirm` re-run. */
  role: Run['role']
  error: string | null
  /** Source format of an imported run; null for runs measured here. */
  importedFormat: ImportFormat | null
  /** The `bench sweep` this run is a step of, and which step (0-based); null otherwise. */
  sweepId: number | null
  sweepStep: number | null
  /** LIST_METRICS present on the run. */
  metrics: MetricValues
}

const MAX_LIST_LIMIT = 10_000

export async function listRuns(db: Db, filter: RunFilter = {}): Promise<RunListItem[]> {
  // A long-lived reader (the dashboard) sees killed runs as interrupted at once, as a new command would;
  // a database it may not write (a read-only role) still lists.
  await markInterruptedRuns(db).catch(() => {})
  const limit = Math.min(Math.max(0, Math.trunc(filter.limit ?? 50)), MAX_LIST_LIMIT)
  const rows = await db
    .select({
      id: runs.id,
      scenarioName: runs.scenarioName,
      targetName: runs.targetName,
      state: runs.state,
      startedAt: runs.startedAt,
      finishedAt: runs.finishedAt,
      engineKind: runs.engineKind,
      engineModel: runs.engineModel,
      load: runs.load,
      loadKind: runs.loadKind,
      loadIndex: runs.loadIndex,
      label: runs.label,
      fingerprint: runs.fingerprint,
      gitCommit: runs.gitCommit,
      gitBranch: runs.gitBranch,
      role: runs.role,
      error: runs.error,
      sweepId: runs.sweepId,
      sweepStep: runs.sweepStep,
      // Only the format: the stored document can be megabytes.
      importedFormat: sql<ImportFormat | null>`${runs.imported} ->> 'format'`,
    })
    .from(runs)
    .where(
      and(
        filter.scenario !== undefined ? eq(runs.scenarioName, filter.scenario) : undefined,
        filter.target !== undefined ? eq(runs.targetName, filter.target) : undefined,
        filter.branch !== undefined ? eq(runs.gitBranch, filter.branch) : undefined,
        filter.state !== undefined ? eq(runs.state, filter.state) : undefined,
        filter.since !== undefined ? gte(runs.startedAt, filter.since) : undefined,
        filter.until !== undefined ? lt(runs.startedAt, filter.until) : undefined,
      ),
    )
    // NULLS LAST (started_at is never null) to match runs_started_idx as drizzle declares it: a plain DESC
    // cannot walk that index and sorted every matching run instead (7.5 ms → 0.14 ms on 10 k runs).
    .orderBy(sql`${runs.startedAt} desc nulls last`, desc(runs.id))
    .limit(limit)
    .offset(Math.max(0, Math.trunc(filter.offset ?? 0)))
  const metrics = await metricsOf(
    db,
    rows.map((r) => r.id),
    LIST_METRICS,
  )
  return rows.map((r) => ({ ...r, metrics: metrics.get(r.id) ?? {} }))
}
