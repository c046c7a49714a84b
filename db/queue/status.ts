/**
 * The read side of the queue: one matrix's progress (`bench matrix status`, the dashboard's matrix page)
 * and the latest matrices with their counts (the dashboard's list).
 * @module
 */
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm'
import { percentile } from '../../harness/metrics/percentile.ts'
import type { Db } from '../client.ts'
import { matrices, type matrixJobStates, matrixJobs, queueWorkers, requests, runs } from '../schema.ts'

export type MatrixJobState = (typeof matrixJobStates)[number]
export type StateCounts = Record<MatrixJobState, number> & { total: number }

export interface MatrixSummary {
  id: number
  scenarioName: string
  label: string | null
  requiredTags: string[]
  maxAttempts: number
  createdAt: Date
  counts: StateCounts
}

export interface MatrixJobStatus {
  id: number
  ordinal: number
  kind: string
  targetName: string
  loadIndex: number | null
  /** What the job runs (plan.ts JobPlan.spec). */
  spec: unknown
  state: MatrixJobState
  attempts: number
  /** graphile_worker job id (its row is gone once the job completed). */
  queueJobId: number | null
  /** The one completed run. */
  runId: number | null
  /** Every run any attempt started (interrupted ones of killed workers included). */
  runIds: number[]
  workerId: string | null
  lastError: string | null
  startedAt: Date | null
  finishedAt: Date | null
}

/** p50/p90/p99 of pooled samples, ms. */
export interface PooledPercentiles {
  p50: number
  p90: number
  p99: number
}

/**
 * A distributed step's figures: percentiles of the pooled per-request samples of all its clients' completed
 * runs (exact: never an average of the clients' percentiles, which is not a percentile of anything).
 */
export interface ClientGroup {
  targetName: string
  loadIndex: number
  clients: number
  /** Clients whose run completed; the figures are over these runs only. */
  completedRuns: number[]
  /** Successful requests pooled. */
  requests: number
  ttftMs: PooledPercentiles | null
  e2eMs: PooledPercentiles | null
  /** Spread of the clients' run starts on the database clock, ms (synchronized start: small). */
  startSpreadMs: number | null
}

export interface MatrixStatus extends MatrixSummary {
  jobs: MatrixJobStatus[]
  /** Steps split between several clients (bench enqueue --clients), with their merged figures. */
  groups: ClientGroup[]
  /** Workers that ran a job of this matrix, with their state now. */
  workers: { id: string; host: string; pid: number; state: string; heartbeatAt: Date }[]
}

function emptyCounts(): StateCounts {
  return { queued: 0, running: 0, retrying: 0, completed: 0, dead: 0, total: 0 }
}

async function countsOf(db: Db, ids: readonly number[]): Promise<Map<number, StateCounts>> {
  const out = new Map<number, StateCounts>(ids.map((id) => [id, emptyCounts()]))
  if (ids.length === 0) return out
  const rows = await db
    .select({ matrixId: matrixJobs.matrixId, state: matrixJobs.state, n: sql<number>`count(*)::int` })
    .from(matrixJobs)
    .where(inArray(matrixJobs.matrixId, [...ids]))
    .groupBy(matrixJobs.matrixId, matrixJobs.state)
  for (const r of rows) {
    const c = out.get(r.matrixId)
    if (!c) continue
    c[r.state] += Number(r.n)
    c.total += Number(r.n)
  }
  return out
}

/** Newest first. */
export async function listMatrices(db: Db, limit = 50): Promise<MatrixSummary[]> {
  const rows = await db.select().from(matrices).orderBy(desc(matrices.id)).limit(limit)
  const counts = await countsOf(
    db,
    rows.map((r) => r.id),
  )
  return rows.map((r) => ({
    id: r.id,
    scenarioName: r.scenarioName,
    label: r.label,
    requiredTags: r.requiredTags,
    maxAttempts: r.maxAttempts,
    createdAt: r.createdAt,
    counts: counts.get(r.id) ?? emptyCounts(),
  }))
}

/** One matrix with every job; undefined when there is no such matrix. */
export async function matrixStatus(db: Db, id: number): Promise<MatrixStatus | undefined> {
  const [matrix] = await db.select().from(matrices).where(eq(matrices.id, id))
  if (!matrix) return undefined
  const jobs = await db
    .select()
    .from(matrixJobs)
    .where(eq(matrixJobs.matrixId, id))
    .orderBy(asc(matrixJobs.ordinal))
  const workerIds = [...new Set(jobs.flatMap((j) => (j.workerId ? [j.workerId] : [])))]
  const workers =
    workerIds.length === 0
      ? []
      : await db
          .select({
            id: queueWorkers.id,
            host: queueWorkers.host,
            pid: queueWorkers.pid,
            state: queueWorkers.state,
            heartbeatAt: queueWorkers.heartbeatAt,
          })
          .from(queueWorkers)
          .where(inArray(queueWorkers.id, workerIds))
  const counts = emptyCounts()
  for (const j of jobs) {
    counts[j.state]++
    counts.total++
  }
  return {
    id: matrix.id,
    scenarioName: matrix.scenarioName,
    label: matrix.label,
    requiredTags: matrix.requiredTags,
    maxAttempts: matrix.maxAttempts,
    createdAt: matrix.createdAt,
    counts,
    jobs: jobs.map((j) => ({
      id: j.id,
      ordinal: j.ordinal,
      kind: j.kind,
      targetName: j.targetName,
      loadIndex: j.loadIndex,
      spec: j.spec,
      state: j.state,
      attempts: j.attempts,
      queueJobId: j.queueJobId,
      runId: j.runId,
      runIds: j.runIds,
      workerId: j.workerId,
      lastError: j.lastError,
      startedAt: j.startedAt,
      finishedAt: j.finishedAt,
    })),
    workers,
    groups: await clientGroups(db, jobs),
  }
}

function pooled(samples: number[]): PooledPercentiles | null {
  if (samples.length === 0) return null
  const sorted = samples.sort((a, b) => a - b)
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) }
}

/** The distributed steps of these jobs (spec.shard), each with percentiles of its pooled samples. */
export async function clientGroups(
  db: Db,
  jobs: readonly { targetName: string; loadIndex: number | null; spec: unknown; runId: number | null }[],
): Promise<ClientGroup[]> {
  const groups = new Map<string, { targetName: string; loadIndex: number; clients: number; runs: number[] }>()
  for (const j of jobs) {
    const shard = (j.spec as { shard?: { count: number } }).shard
    if (!shard || j.loadIndex === null) continue
    const key = `${j.targetName}\u0000${j.loadIndex}`
    const g = groups.get(key) ?? {
      targetName: j.targetName,
      loadIndex: j.loadIndex,
      clients: shard.count,
      runs: [],
    }
    if (j.runId !== null) g.runs.push(j.runId)
    groups.set(key, g)
  }
  const out: ClientGroup[] = []
  for (const g of groups.values()) {
    const rows =
      g.runs.length === 0
        ? []
        : await db
            .select({ ttftMs: requests.ttftMs, e2eMs: requests.e2eMs })
            .from(requests)
            .where(and(inArray(requests.runId, g.runs), eq(requests.state, 'ok')))
    const starts =
      g.runs.length === 0
        ? []
        : await db
            .select({ ms: sql<number>`(extract(epoch from ${runs.startedAt}) * 1000)::double precision` })
            .from(runs)
            .where(inArray(runs.id, g.runs))
    const startMs = starts.map((r) => Number(r.ms))
    out.push({
      targetName: g.targetName,
      loadIndex: g.loadIndex,
      clients: g.clients,
      completedRuns: g.runs.sort((a, b) => a - b),
      requests: rows.length,
      ttftMs: pooled(rows.flatMap((r) => (r.ttftMs === null ? [] : [r.ttftMs]))),
      e2eMs: pooled(rows.flatMap((r) => (r.e2eMs === null ? [] : [r.e2eMs]))),
      startSpreadMs: startMs.length > 1 ? Math.max(...startMs) - Math.min(...startMs) : null,
    })
  }
  return out
}
