/**
 * History of one figure for one comparability fingerprint: a point per completed run, oldest first, with
 * the commit it measured — what trend charts and change-point detection read.
 * @module
 */
import { and, desc, eq, gte, lt } from 'drizzle-orm'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import type { Db } from '../client.ts'
import { runMetrics, runs } from '../schema.ts'
import { type BranchScope, branchCondition, type RunRole, roleCondition } from './scope.ts'

export interface HistoryOptions {
  fingerprint: string
  /** A run_metrics name, e.g. `outputTokensPerS`, `ttftMsP95`. */
  metric: string
  /** Only runs of this git branch. */
  branch?: string
  /** Which branches count (wins over `branch`); @default every branch (or `branch` alone when given) */
  branches?: BranchScope
  /** Only runs of these roles (runs.role); @default every role */
  roles?: readonly RunRole[]
  /** Runs started at or after this time. */
  since?: Date
  /** Runs started before this time. */
  until?: Date
  /** The most recent points to return. @default 1000 */
  limit?: number
}

export interface HistoryPoint {
  runId: number
  gitCommit: string | null
  gitBranch: string | null
  /** 'run', or 'confirm' for a `bench gate --confirm` re-run. */
  role: RunRole
  startedAt: Date
  value: number
  /** Samples behind the value. */
  n: number
}

export interface HistorySeries {
  fingerprint: string
  metric: string
  /** From the stored rows (else the catalogue); null when neither knows the metric. */
  unit: string | null
  direction: 'higher' | 'lower' | 'none' | null
  /** Oldest first. */
  points: HistoryPoint[]
}

export async function historySeries(db: Db, options: HistoryOptions): Promise<HistorySeries> {
  const rows = await db
    .select({
      runId: runs.id,
      gitCommit: runs.gitCommit,
      gitBranch: runs.gitBranch,
      role: runs.role,
      startedAt: runs.startedAt,
      value: runMetrics.value,
      n: runMetrics.n,
      unit: runMetrics.unit,
      direction: runMetrics.direction,
    })
    .from(runs)
    .innerJoin(runMetrics, and(eq(runMetrics.runId, runs.id), eq(runMetrics.name, options.metric)))
    .where(
      and(
        eq(runs.fingerprint, options.fingerprint),
        eq(runs.state, 'completed'),
        branchCondition(
          options.branches ?? (options.branch !== undefined ? { branch: options.branch } : undefined),
        ),
        roleCondition(options.roles),
        options.since !== undefined ? gte(runs.startedAt, options.since) : undefined,
        options.until !== undefined ? lt(runs.startedAt, options.until) : undefined,
      ),
    )
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(Math.max(0, Math.trunc(options.limit ?? 1000)))
  const info = metricInfo(options.metric)
  return {
    fingerprint: options.fingerprint,
    metric: options.metric,
    unit: rows[0]?.unit ?? info?.unit ?? null,
    direction: rows[0]?.direction ?? info?.direction ?? null,
    points: rows.reverse().map(({ unit: _u, direction: _d, ...point }) => point),
  }
}
