/**
 * `bench enqueue`: one matrix row, one matrix_jobs row per planned job (plan.ts) and one graphile-worker
 * job each, in one transaction — a matrix is queued whole or not at all. The queue job's identifier
 * carries the kind and the tags a worker needs (tags.ts); its payload only the matrix job's id (workers
 * read the scenario from the matrix row, not from a file of their own).
 * @module
 */
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { eq, sql } from 'drizzle-orm'
import type { Scenario } from '../../harness/config/index.ts'
import { HarnessError } from '../../harness/errors.ts'
import { type Db, selectRows } from '../client.ts'
import { matrices, matrixJobs } from '../schema.ts'
import { installQueue, type QueueConnection } from './connection.ts'
import { planMatrix } from './plan.ts'
import { taskIdentifier } from './tags.ts'

/** Attempts per job before it is dead: a flaky endpoint gets two retries, a poison job stops soon. */
export const DEFAULT_MAX_ATTEMPTS = 3

export interface EnqueueOptions {
  scenario: Scenario
  /** The scenario file; relative paths in the scenario resolve against its directory on every worker. */
  file: string
  label?: string
  /** Canonical tags (tags.ts parseTags) every job requires of its worker. */
  requiredTags?: readonly string[]
  /** @default DEFAULT_MAX_ATTEMPTS */
  maxAttempts?: number
  /** Load generators per step: each step becomes this many client jobs started together (plan.ts). @default 1 */
  clients?: number
}

export interface EnqueuedMatrix {
  matrixId: number
  jobs: number
  invocationId: string
}

/** The database has no graphile_worker schema and the caller cannot install it (the dashboard). */
export class QueueMissingError extends HarnessError {
  override name = 'QueueMissingError'
}

/**
 * `connection`: installs or upgrades graphile-worker's schema first. Without one (the dashboard, which has
 * no connection string of its own) the schema must be there already: QueueMissingError otherwise.
 */
export async function enqueueMatrix(
  db: Db,
  connection: QueueConnection | undefined,
  options: EnqueueOptions,
): Promise<EnqueuedMatrix> {
  const plan = planMatrix(options.scenario, { clients: options.clients ?? 1 })
  const requiredTags = [...(options.requiredTags ?? [])]
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
  if (connection) await installQueue(connection)
  else {
    const [row] = await selectRows<{ installed: boolean }>(
      db,
      sql`select to_regclass('graphile_worker._private_jobs') is not null as installed`,
    )
    if (!row?.installed)
      throw new QueueMissingError(
        'the job queue is not installed in this database: start a worker once (`bench worker` with the same --db or DATABASE_URL installs it), or queue with `bench enqueue`',
      )
  }
  const invocationId = randomUUID()
  const file = path.resolve(options.file)
  const matrixId = await db.transaction(async (tx) => {
    const [matrix] = await tx
      .insert(matrices)
      .values({
        invocationId,
        scenarioName: options.scenario.name,
        scenario: options.scenario,
        source: file,
        baseDir: path.dirname(file),
        label: options.label ?? null,
        requiredTags,
        maxAttempts,
      })
      .returning({ id: matrices.id })
    if (!matrix) throw new Error('insert into matrices returned no row')
    for (const [ordinal, job] of plan.entries()) {
      const [row] = await tx
        .insert(matrixJobs)
        .values({
          matrixId: matrix.id,
          ordinal,
          kind: job.kind,
          targetName: job.targetName,
          loadIndex: job.loadIndex,
          spec: job.spec,
          state: 'queued',
        })
        .returning({ id: matrixJobs.id })
      if (!row) throw new Error('insert into matrix_jobs returned no row')
      const queued = await tx.execute(
        sql`select id from graphile_worker.add_job(${taskIdentifier(job.kind, requiredTags)}, ${JSON.stringify({ matrixJobId: row.id })}::json, max_attempts => ${maxAttempts})`,
      )
      const rows = (Array.isArray(queued) ? queued : (queued as { rows: unknown[] }).rows) as { id: string }[]
      await tx
        .update(matrixJobs)
        .set({ queueJobId: Number(rows[0]?.id) })
        .where(eq(matrixJobs.id, row.id))
    }
    return matrix.id
  })
  return { matrixId, jobs: plan.length, invocationId }
}
