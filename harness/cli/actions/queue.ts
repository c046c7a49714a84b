/**
 * `bench enqueue`, `bench worker`, `bench matrix status|list`: the queue's commands (db/queue/README.md).
 * @module
 */
import { type CreateDbOptions, createDb, type Database } from '../../../db/client.ts'
import { cancelMatrix } from '../../../db/queue/cancel.ts'
import { installQueue, queueConnection } from '../../../db/queue/connection.ts'
import { enqueueMatrix } from '../../../db/queue/enqueue.ts'
import { registerJobKind } from '../../../db/queue/kinds.ts'
import { runKind } from '../../../db/queue/run-kind.ts'
import {
  listMatrices,
  type MatrixStatus,
  type MatrixSummary,
  matrixStatus,
  type StateCounts,
} from '../../../db/queue/status.ts'
import { parseTags } from '../../../db/queue/tags.ts'
import { startWorker } from '../../../db/queue/worker.ts'
import { specStudyKind } from '../../../db/studies/queue.ts'
import { loadScenario } from '../../config/index.ts'
import { detectEnvironment } from '../../environment.ts'
import { HarnessError } from '../../errors.ts'
import { EXIT_ERROR, EXIT_OK } from '../action.ts'
import { dbOptions } from '../commands/db.ts'
import type { EnqueueCommandOptions } from '../commands/enqueue.ts'
import type { WorkerCommandOptions } from '../commands/worker.ts'
import { describeStoredRun } from '../describe-run.ts'
import { coverSecretsIn } from '../output.ts'

export async function enqueueCommand(file: string, opts: EnqueueCommandOptions): Promise<number> {
  const requiredTags = parseTags(opts.require ?? [], '--require')
  const { scenario } = await loadScenario(file)
  coverSecretsIn([scenario])
  const options = dbOptions(opts.db)
  const db = await createDb(options)
  try {
    const queued = await enqueueMatrix(db, queueConnection(db, options), {
      scenario,
      file,
      requiredTags,
      maxAttempts: opts.maxAttempts,
      clients: opts.clients,
      ...(opts.label !== undefined ? { label: opts.label } : {}),
    })
    if (opts.json)
      process.stdout.write(`${JSON.stringify({ matrixId: queued.matrixId, jobs: queued.jobs })}\n`)
    else
      process.stdout.write(
        `matrix ${queued.matrixId}: ${queued.jobs} job(s) of ${scenario.name} queued${requiredTags.length > 0 ? ` for workers tagged ${requiredTags.join(' ')}` : ''} in ${db.location}\nprogress: bench matrix status ${queued.matrixId}\n`,
      )
    return EXIT_OK
  } finally {
    await db.close()
  }
}

/**
 * Runs until SIGINT/SIGTERM. On PGlite the worker must host the embedded database itself: graphile-worker's
 * connections reach it on its host's loopback port and cannot follow it to a new host, so a worker that
 * only connected to another process's database would lose its queue when that process exits.
 */
export async function workerCommand(opts: WorkerCommandOptions): Promise<number> {
  const tags = parseTags(opts.tag ?? [], '--tag')
  registerJobKind(runKind)
  // Speculative-decoding studies launched from the dashboard (db/studies/queue.ts).
  registerJobKind(specStudyKind)
  const options: CreateDbOptions = { ...dbOptions(opts.db), embeddedHost: 'worker' }
  const [db, environment] = await Promise.all([createDb(options), detectEnvironment()])
  const log = (line: string) => process.stderr.write(`bench worker: ${line}\n`)
  try {
    const connection = queueConnection(db, options)
    if (!connection.hostedHere)
      throw new HarnessError(
        `the embedded database ${db.location} is open in another process; on PGlite one bench worker process hosts it (use --concurrency for more jobs at once). Stop the other process, or set DATABASE_URL to a PostgreSQL that any number of workers share`,
      )
    await installQueue(connection)
    const worker = await startWorker({
      db,
      connection,
      concurrency: opts.concurrency,
      tags,
      environment,
      log,
    })
    let signalled = 0
    const onSignal = () => {
      if (++signalled > 1) process.exit(EXIT_ERROR)
      log(
        'stopping: running jobs are finished or interrupted and retried elsewhere (signal again to quit at once)',
      )
      void worker.stop()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      await worker.done
      await worker.stop()
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    return EXIT_OK
  } finally {
    await db.close()
  }
}

async function withDb<T>(dbFlag: string | undefined, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await createDb(dbOptions(dbFlag))
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

export async function matrixStatusCommand(
  id: number,
  opts: { json?: boolean; db?: string },
): Promise<number> {
  return withDb(opts.db, async (db) => {
    const status = await matrixStatus(db, id)
    if (!status)
      throw new HarnessError(`matrix ${id} does not exist in ${db.location} (bench matrix list shows them)`)
    process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatMatrixStatus(status))
    return status.counts.dead > 0 ? EXIT_ERROR : EXIT_OK
  })
}

export async function matrixCancelCommand(id: number, opts: { db?: string }): Promise<number> {
  return withDb(opts.db, async (db) => {
    if (!(await matrixStatus(db, id)))
      throw new HarnessError(`matrix ${id} does not exist in ${db.location} (bench matrix list shows them)`)
    const { cancelled, running } = await cancelMatrix(db, id)
    process.stdout.write(
      `matrix ${id}: ${cancelled} job(s) cancelled${running > 0 ? `; ${running} running job(s) finish` : ''}\n`,
    )
    return EXIT_OK
  })
}

export async function matrixListCommand(opts: {
  limit: number
  json?: boolean
  db?: string
}): Promise<number> {
  return withDb(opts.db, async (db) => {
    const list = await listMatrices(db, opts.limit)
    process.stdout.write(opts.json ? `${JSON.stringify(list, null, 2)}\n` : formatMatrixList(list))
    return EXIT_OK
  })
}

export function countsText(c: StateCounts): string {
  return `${c.completed}/${c.total} completed · ${c.running} running · ${c.queued} queued · ${c.retrying} retrying · ${c.dead} dead`
}

export function formatMatrixStatus(s: MatrixStatus): string {
  const head = `matrix ${s.id}: ${s.scenarioName}${s.label ? ` (${s.label})` : ''} — ${countsText(s.counts)}\n`
  const rows = s.jobs.map((j) => [
    String(j.ordinal),
    j.targetName,
    stepText(j),
    j.state,
    String(j.attempts),
    j.runId === null ? '' : String(j.runId),
    j.runIds.filter((r) => r !== j.runId).join(','),
    j.lastError ?? '',
  ])
  const jobs = table(['#', 'target', 'step', 'state', 'attempts', 'run', 'other runs', 'last error'], rows)
  if (s.groups.length === 0) return `${head}${jobs}`
  // Distributed steps: percentiles of the clients' pooled samples.
  const ms = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1))
  const merged = table(
    [
      'target',
      'step',
      'clients',
      'runs',
      'requests',
      'TTFT p50',
      'p90',
      'p99',
      'E2E p50',
      'p99',
      'start spread ms',
    ],
    s.groups.map((g) => [
      g.targetName,
      String(g.loadIndex),
      String(g.clients),
      String(g.completedRuns.length),
      String(g.requests),
      ms(g.ttftMs?.p50),
      ms(g.ttftMs?.p90),
      ms(g.ttftMs?.p99),
      ms(g.e2eMs?.p50),
      ms(g.e2eMs?.p99),
      ms(g.startSpreadMs ?? undefined),
    ]),
  )
  return `${head}${jobs}\nmerged over clients (pooled samples, ms):\n${merged}`
}

/** `2: concurrent 4 · 20 req`; `3: accuracy`; `4: micro forward-16 …` — the run's loadIndex and what it runs. */
function stepText(j: { kind: string; loadIndex: number | null; spec: unknown }): string {
  const spec = j.spec as { step?: string; load?: unknown; micro?: unknown }
  const what =
    spec.step === 'load'
      ? describeStoredRun(spec.load)
      : spec.step === 'micro'
        ? describeStoredRun(spec.micro)
        : (spec.step ?? j.kind)
  return j.loadIndex === null ? what : `${j.loadIndex}: ${what}`
}

export function formatMatrixList(list: readonly MatrixSummary[]): string {
  if (list.length === 0) return 'no matrices\n'
  return table(
    ['id', 'created (UTC)', 'scenario', 'label', 'progress'],
    list.map((m) => [
      String(m.id),
      m.createdAt.toISOString().slice(0, 16).replace('T', ' '),
      m.scenarioName,
      m.label ?? '',
      countsText(m.counts),
    ]),
  )
}

function table(header: readonly string[], rows: readonly string[][]): string {
  const all = [header, ...rows]
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)))
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd()
  return `${[line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n')}\n`
}
