/**
 * Studies through the job queue (db/queue): `enqueueStudy` queues one study as a matrix of one
 * `spec-study` job (so `bench worker`, `bench matrix status` and the /matrices pages see it like any job)
 * with its `spec_studies` row, in one transaction; `specStudyKind` is the job kind a worker runs it with —
 * the study's phases reported as progress on its row, the result stored by store.ts. The native engine
 * (node-llama-cpp) is imported only when a study runs. An endpoint study (harness/speculative/endpoints) runs
 * through the same job kind: its passes (without speculation, the draft alone, each K) are its progress, the
 * API key comes from the worker's environment (the study names the variable), and it is stored by
 * endpoint-store.ts.
 * @module
 */
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { eq, sql } from 'drizzle-orm'
import { HarnessError, toError } from '../../harness/errors.ts'
import { type EndpointStudy, parseEndpointStudy } from '../../harness/speculative/endpoints/study-file.ts'
import { parseStudy, type Study } from '../../harness/speculative/study-file.ts'
import type { Database, Db } from '../client.ts'
import type { AttemptResult, JobAttempt, JobKind } from '../queue/kinds.ts'
import { taskIdentifier } from '../queue/tags.ts'
import { matrices, matrixJobs, type SpecStudy, specStudies } from '../schema.ts'
import { redactUrl, saveEndpointStudyResult } from './endpoint-store.ts'
import {
  insertStudy,
  markStudyFailed,
  markStudyRunning,
  saveStudyResult,
  setStudyProgress,
  studyOfJob,
} from './store.ts'

export const SPEC_STUDY_KIND = 'spec-study'
/**
 * Attempts per study: a retry for a worker lost mid-study; a study that fails on its own (a missing model)
 * fails the same way again, so no more.
 */
export const STUDY_MAX_ATTEMPTS = 2

/** The queue's tables are not in this database yet (no worker has ever started on it). */
export class QueueNotInstalledError extends HarnessError {
  override name = 'QueueNotInstalledError'
}

export type EnqueueStudyOptions = EnqueueStudyBase &
  ({ kind?: 'native'; study: Study } | { kind: 'endpoint'; study: EndpointStudy })

interface EnqueueStudyBase {
  /** The study file (shown on the pages). */
  source: string
  /** Where the worker resolves relative model paths: the directory the study's paths are relative to. */
  baseDir: string
  label?: string
  /** Canonical tags a worker needs (db/queue/tags.ts). */
  requiredTags?: readonly string[]
}

export interface EnqueuedStudy {
  studyId: number
  matrixId: number
  matrixJobId: number
}

async function queueInstalled(db: Db): Promise<boolean> {
  const result = await db.execute(sql`select to_regclass('graphile_worker.jobs') is not null as ok`)
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { ok: boolean }[]
  return rows[0]?.ok === true
}

/** Queues a study: the matrix, its one job, the study row and the graphile-worker job, all or nothing. */
export async function enqueueStudy(db: Db, o: EnqueueStudyOptions): Promise<EnqueuedStudy> {
  if (!(await queueInstalled(db)))
    throw new QueueNotInstalledError(
      'the job queue is not installed in this database: start a worker once (`bench worker`, with the same --db or DATABASE_URL; it installs the queue and runs the study), then launch again',
    )
  if (o.kind === 'endpoint') {
    // The row is read by the worker as it is stored: a credential in a URL would sit in the database.
    const urls = [o.study.off, ...o.study.on.map((e) => e.url), o.study.draftAlone ?? '']
    const withCredentials = urls.find((u) => u !== '' && redactUrl(u) !== u)
    if (withCredentials !== undefined)
      throw new HarnessError(
        `${o.source}: ${redactUrl(withCredentials)} carries a user or password; a queued study is stored as it is, so put the key in apiKeyEnv (the worker's environment) instead`,
      )
  }
  const requiredTags = [...(o.requiredTags ?? [])]
  return db.transaction(async (tx) => {
    const [matrix] = await tx
      .insert(matrices)
      .values({
        invocationId: randomUUID(),
        scenarioName: o.study.name,
        scenario: o.study,
        source: o.source,
        baseDir: o.baseDir,
        label: o.label ?? null,
        requiredTags,
        maxAttempts: STUDY_MAX_ATTEMPTS,
      })
      .returning({ id: matrices.id })
    if (!matrix) throw new Error('insert into matrices returned no row')
    const [job] = await tx
      .insert(matrixJobs)
      .values({
        matrixId: matrix.id,
        ordinal: 0,
        kind: SPEC_STUDY_KIND,
        targetName: o.study.name,
        loadIndex: null,
        spec: { step: SPEC_STUDY_KIND, study: o.study.name },
        state: 'queued',
      })
      .returning({ id: matrixJobs.id })
    if (!job) throw new Error('insert into matrix_jobs returned no row')
    const studyId = await insertStudy(tx, {
      ...(o.kind === 'endpoint' ? { kind: 'endpoint', study: o.study } : { kind: 'native', study: o.study }),
      source: o.source,
      baseDir: o.baseDir,
      label: o.label ?? null,
      state: 'queued',
      matrixId: matrix.id,
      matrixJobId: job.id,
    })
    const queued = await tx.execute(
      sql`select id from graphile_worker.add_job(${taskIdentifier(SPEC_STUDY_KIND, requiredTags)}, ${JSON.stringify({ matrixJobId: job.id })}::json, max_attempts => ${STUDY_MAX_ATTEMPTS})`,
    )
    const rows = (Array.isArray(queued) ? queued : (queued as { rows: unknown[] }).rows) as { id: string }[]
    await tx
      .update(matrixJobs)
      .set({ queueJobId: Number(rows[0]?.id) })
      .where(eq(matrixJobs.id, job.id))
    return { studyId, matrixId: matrix.id, matrixJobId: job.id }
  })
}

/**
 * Cancels a study still waiting in the queue: its graphile-worker job permanently failed
 * (graphile_worker.permanently_fail_jobs takes only jobs no worker holds), the study marked cancelled and its matrix job dead with the reason.
 * Returns false when the study is not queued or a worker has already claimed it (graphile-worker cannot stop
 * a running job in another process).
 */
export async function cancelStudy(db: Db, studyId: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ state: specStudies.state, jobId: specStudies.matrixJobId, queueJobId: matrixJobs.queueJobId })
      .from(specStudies)
      .leftJoin(matrixJobs, eq(matrixJobs.id, specStudies.matrixJobId))
      .where(eq(specStudies.id, studyId))
    if (row?.state !== 'queued' || row.jobId === null || row.queueJobId === null) return false
    // Fails only a job no worker holds (graphile-worker skips locked ones): the rows it returns say which.
    const failed = await tx.execute(
      sql`select id from graphile_worker.permanently_fail_jobs(array[${row.queueJobId}]::bigint[], 'cancelled')`,
    )
    const rows = (Array.isArray(failed) ? failed : (failed as { rows: unknown[] }).rows) as unknown[]
    if (rows.length === 0) return false
    await tx
      .update(matrixJobs)
      .set({ state: 'dead', lastError: 'cancelled', finishedAt: sql`now()` })
      .where(eq(matrixJobs.id, row.jobId))
    await markStudyFailed(tx, studyId, 'cancelled before a worker started it', 'cancelled')
    return true
  })
}

/** Phases `runStudy` reports through onProgress: baseline, logprob α, each K, and the predictor's. */
export function studyPhases(study: Study): number {
  return 2 + study.ks.length + (study.predictor ? 1 + study.ks.length : 0)
}

/** The study as the worker runs it: model paths resolved against the launcher's directory, files checked. */
export function resolveStudy(raw: unknown, baseDir: string | null, source: string): Study {
  const study = parseStudy(raw, source)
  const resolved = { ...study }
  for (const field of ['target', 'draft'] as const) {
    const file = path.resolve(baseDir ?? process.cwd(), study[field])
    if (!existsSync(file))
      throw new HarnessError(
        `${source}: ${field} model ${file} not found on this worker (fixtures: run \`bench fixtures --size all\` in ${baseDir ?? 'the working directory'}, or share the checkout)`,
      )
    resolved[field] = file
  }
  return resolved
}

/** The `spec-study` job kind: runs the job's study once and stores it (register it before the worker starts). */
export const specStudyKind: JobKind = {
  kind: SPEC_STUDY_KIND,
  async run({ db, job, matrix }: JobAttempt): Promise<AttemptResult> {
    const row = await studyOfJob(db, job.id)
    if (!row) return { state: 'failed', error: `matrix job ${job.id} has no study (spec_studies row)` }
    // Stored by an earlier attempt whose worker died before marking the job, or cancelled meanwhile.
    if (row.state === 'completed' || row.state === 'cancelled') return { state: 'completed' }
    const lastAttempt = job.attempts + 1 >= matrix.maxAttempts
    if (row.kind === 'endpoint') return runEndpointJob(db, row, lastAttempt)
    let study: Study
    try {
      study = resolveStudy(row.study, row.baseDir, `study ${row.id}`)
    } catch (err) {
      return failAttempt(db, row.id, err, lastAttempt)
    }
    await markStudyRunning(db, row.id)
    const progress = progressReporter(db, row.id, studyPhases(study))
    try {
      const { runStudy } = await import('../../harness/speculative/study.ts')
      const result = await runStudy(study, { onProgress: progress.onProgress })
      await progress.settled()
      // Stored with the paths as the study gave them, not this worker's absolute ones.
      await saveStudyResult(db as Database, row.id, { ...result, study: parseStudy(row.study) })
      return { state: 'completed' }
    } catch (err) {
      await progress.settled()
      return failAttempt(db, row.id, err, lastAttempt)
    }
  },
}

/** A failed attempt: the study waits for the retry (queued), or on the last attempt ends failed. */
async function failAttempt(db: Db, id: number, err: unknown, lastAttempt: boolean): Promise<AttemptResult> {
  const error = toError(err).message
  await markStudyFailed(db, id, error, lastAttempt ? 'failed' : 'queued')
  return { state: 'failed', error }
}

/** Progress of a running study: each call one phase begun, of `total`; updates land in order (`settled`). */
function progressReporter(db: Db, id: number, total: number) {
  let phase = 0
  // onProgress is synchronous; the updates are chained so they land in order and are awaited at the end.
  let updates: Promise<void> = Promise.resolve()
  return {
    onProgress(message: string) {
      const fraction = phase++ / total
      updates = updates.then(() => setStudyProgress(db, id, fraction, message)).catch(() => {})
    },
    settled: () => updates,
  }
}

/** An endpoint study's job: each pass is a phase; stored by endpoint-store.ts (the study as stored, redacted). */
async function runEndpointJob(db: Db, row: SpecStudy, lastAttempt: boolean): Promise<AttemptResult> {
  let study: EndpointStudy
  try {
    study = parseEndpointStudy(row.study, `study ${row.id}`)
  } catch (err) {
    return failAttempt(db, row.id, err, lastAttempt)
  }
  await markStudyRunning(db, row.id)
  const { endpointStudyPhases } = await import('../../harness/speculative/endpoints/study.ts')
  const progress = progressReporter(db, row.id, endpointStudyPhases(study))
  try {
    const { runEndpointStudyRecord } = await import('../../harness/speculative/endpoints/run-file.ts')
    const record = await runEndpointStudyRecord(study, { onProgress: progress.onProgress })
    await progress.settled()
    await saveEndpointStudyResult(db as Database, row.id, record)
    return { state: 'completed' }
  } catch (err) {
    await progress.settled()
    return failAttempt(db, row.id, err, lastAttempt)
  }
}
