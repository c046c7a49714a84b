/**
 * Two runs side by side: every figure either has, with the relative change, whether the runs are
 * comparable at all (same fingerprint, else the dimensions that differ), and the per-request samples a
 * significance test needs (harness/regression works on these, not on summary figures).
 * @module
 */
import { and, asc, eq, inArray, isNull, ne, or, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { compareMetrics, type MetricComparison } from '../figures/compare.ts'
import { type RequestSamples, requestSamplesOf } from '../figures/requests.ts'
import { environments, requests, runs, variants } from '../schema.ts'
import { type DimensionSource, differingDimensions, dimensionColumns } from './dimensions.ts'
import { HEADLINE_METRICS, metricsOf } from './metrics-of.ts'

export type { MetricComparison, RequestSamples }

export interface CompareOptions {
  /** Also return every chunk gap of every ok request (large). @default false */
  chunkGaps?: boolean
  /** Figures to compare. @default every figure either run has */
  metrics?: readonly string[]
}

export interface ComparedRun {
  id: number
  scenarioName: string
  targetName: string
  state: string
  fingerprint: string
  startedAt: Date
  gitCommit: string | null
  gitBranch: string | null
}

export interface RunComparison {
  base: ComparedRun
  candidate: ComparedRun
  /** Same fingerprint: the figures measure the same thing. */
  comparable: boolean
  /** When not comparable: the dimensions that differ, for each side. */
  differsBy: { base: string[]; candidate: string[] }
  /** Headline figures first, then the rest by name. */
  metrics: MetricComparison[]
  samples: { base: RequestSamples; candidate: RequestSamples }
}

export async function compareRuns(
  db: Db,
  baseId: number,
  candidateId: number,
  options: CompareOptions = {},
): Promise<RunComparison | undefined> {
  const rows = await db
    .select({
      id: runs.id,
      scenarioName: runs.scenarioName,
      targetName: runs.targetName,
      state: runs.state,
      fingerprint: runs.fingerprint,
      startedAt: runs.startedAt,
      gitCommit: runs.gitCommit,
      gitBranch: runs.gitBranch,
      ...dimensionColumns,
    })
    .from(runs)
    .leftJoin(environments, eq(environments.id, runs.environmentId))
    .leftJoin(variants, eq(variants.id, runs.variantId))
    .where(inArray(runs.id, [baseId, candidateId]))
  const base = rows.find((r) => r.id === baseId)
  const candidate = rows.find((r) => r.id === candidateId)
  if (!base || !candidate) return undefined

  const [values, baseSamples, candidateSamples] = await Promise.all([
    metricsOf(db, [baseId, candidateId], options.metrics),
    requestSamples(db, baseId, options.chunkGaps ?? false),
    requestSamples(db, candidateId, options.chunkGaps ?? false),
  ])
  const metrics = compareMetrics(values.get(baseId) ?? {}, values.get(candidateId) ?? {}, HEADLINE_METRICS)
  const comparable = base.fingerprint === candidate.fingerprint
  const [baseDiff = [], candidateDiff = []] = comparable
    ? [[], []]
    : differingDimensions([base, candidate] as DimensionSource[])
  const side = (r: typeof base): ComparedRun => ({
    id: r.id,
    scenarioName: r.scenarioName,
    targetName: r.targetName,
    state: r.state,
    fingerprint: r.fingerprint,
    startedAt: r.startedAt,
    gitCommit: r.gitCommit,
    gitBranch: r.gitBranch,
  })
  return {
    base: side(base),
    candidate: side(candidate),
    comparable,
    differsBy: { base: baseDiff, candidate: candidateDiff },
    metrics,
    samples: { base: baseSamples, candidate: candidateSamples },
  }
}

/** The per-request samples of one run (ok requests; errors counted, aborted requests not). */
async function requestSamples(db: Db, runId: number, chunkGaps: boolean): Promise<RequestSamples> {
  const okRows = db
    .select({
      ttftMs: requests.ttftMs,
      e2eMs: requests.e2eMs,
      outputTokens: requests.outputTokens,
      chunkGapsMs: chunkGaps ? requests.chunkGapsMs : sql<number[] | null>`null`,
    })
    .from(requests)
    .where(and(eq(requests.runId, runId), eq(requests.state, 'ok')))
    .orderBy(asc(requests.seq))
  // Requests aborted by an interrupt are not errors (METRICS.md errorRate; summarizeRun leaves them out too).
  const errorCount = db.$count(
    requests,
    and(
      eq(requests.runId, runId),
      eq(requests.state, 'error'),
      or(isNull(requests.errorKind), ne(requests.errorKind, 'aborted')),
    ),
  )
  const [rows, errors] = await Promise.all([okRows, errorCount])
  return requestSamplesOf(rows, errors, chunkGaps)
}
