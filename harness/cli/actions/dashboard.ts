/**
 * `bench dashboard` (and the end of `bench quickstart`): the dashboard served over the results database.
 * @module
 */
import { DEFAULT_QUERY_TIMEOUT_MS } from '../../../dashboard/app.ts'
import { startDashboard } from '../../../dashboard/server.ts'
import { createDb, type Database } from '../../../db/client.ts'
import type { WorkerHandle } from '../../../db/queue/worker.ts'
import { detectEnvironment } from '../../environment.ts'
import { HarnessError, toError } from '../../errors.ts'
import type { DashboardOptions } from '../commands/dashboard.ts'
import { dbOptions } from '../commands/db.ts'

/** Serves the dashboard until SIGINT/SIGTERM (also the end of `bench quickstart`). */
export async function serveDashboard(opts: DashboardOptions): Promise<void> {
  if (opts.port > 65_535) throw new HarnessError(`--port expects a port number ≤ 65535, got ${opts.port}`)
  const token = process.env.BENCH_TOKEN || undefined
  // An embedded database in a worker thread: a slow query cannot freeze the server (dashboard/app.ts queryTimeoutMs).
  // On PostgreSQL the server itself cancels a statement past the same deadline, freeing its pooled connection.
  const db = await createDb({
    ...dbOptions(opts.db),
    embeddedHost: 'worker',
    statementTimeoutMs: DEFAULT_QUERY_TIMEOUT_MS,
  })
  // On the embedded database this process hosts it, so a `bench worker` beside it would be refused (one
  // process hosts a PGlite directory): run the queue's worker here, so studies and matrices launched from
  // the page run. PostgreSQL: separate `bench worker` processes, as many as wanted.
  const worker =
    opts.worker !== false && db.driver !== 'postgres' ? await startLocalWorker(db, opts.db) : undefined
  let dashboard: Awaited<ReturnType<typeof startDashboard>>
  try {
    dashboard = await startDashboard({
      db,
      auth: token ? { token } : {},
      port: opts.port,
      host: opts.host,
    })
  } catch (err) {
    await worker?.stop()
    await db.close()
    throw err
  }
  const writes = token
    ? 'writes enabled (Authorization: Bearer $BENCH_TOKEN)'
    : 'read-only: set BENCH_TOKEN to enable writes'
  process.stdout.write(`bench dashboard: ${dashboard.url}\n${writes}\n`)
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  try {
    await worker?.stop()
    await dashboard.close()
  } finally {
    await db.close()
  }
}

/**
 * The job worker in this process (the queue installed first), or undefined with a notice when it cannot
 * run here (another process hosts the directory; the queue cannot be installed): the dashboard serves
 * either way.
 */
async function startLocalWorker(db: Database, dbFlag: string | undefined): Promise<WorkerHandle | undefined> {
  const log = (line: string) => process.stderr.write(`bench dashboard: worker: ${line}\n`)
  try {
    const [
      { installQueue, queueConnection },
      { registerJobKind },
      { runKind },
      { startWorker },
      { specStudyKind },
    ] = await Promise.all([
      import('../../../db/queue/connection.ts'),
      import('../../../db/queue/kinds.ts'),
      import('../../../db/queue/run-kind.ts'),
      import('../../../db/queue/worker.ts'),
      import('../../../db/studies/queue.ts'),
    ])
    const connection = queueConnection(db, { ...dbOptions(dbFlag), embeddedHost: 'worker' })
    if (!connection.hostedHere) {
      log(
        'not started: another process hosts this database (its own worker, or `bench worker`, runs the jobs)',
      )
      return undefined
    }
    registerJobKind(runKind)
    registerJobKind(specStudyKind)
    await installQueue(connection)
    const worker = await startWorker({ db, connection, environment: await detectEnvironment(), log })
    log('running jobs launched here (matrices, studies); --no-worker to leave them to `bench worker`')
    return worker
  } catch (err) {
    log(`not started: ${toError(err).message}`)
    return undefined
  }
}
