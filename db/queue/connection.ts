/**
 * How graphile-worker reaches the results database. PostgreSQL: the same URL. PGlite: the loopback port
 * and password its host process publishes in the directory's lock file (db/pglite/lock.ts), with
 * graphile-worker's named prepared statements off — every socket client shares PGlite's one backend, and
 * a second client preparing `get_job` stalled the queue (measured: 2 of 201 jobs done in 60 s).
 * @module
 */
import { Logger, runMigrations, type WorkerUtilsOptions } from 'graphile-worker'
import { HarnessError } from '../../harness/errors.ts'
import { type CreateDbOptions, type Database, resolveDbTarget } from '../client.ts'
import { lockFileOf } from '../pglite/host.ts'
import { readLock } from '../pglite/lock.ts'

export interface QueueConnection {
  /** postgres:// URL graphile-worker connects to (holds the PGlite loopback password: never print it). */
  connectionString: string
  /** 'postgres' or 'pglite' (one machine, polled: see db/queue/README.md). */
  backend: 'postgres' | 'pglite'
  /** Whether this process hosts the embedded database (always true on PostgreSQL). */
  hostedHere: boolean
  /** Options every graphile-worker call takes for this backend. */
  options: Pick<WorkerUtilsOptions, 'connectionString' | 'noPreparedStatements'>
}

/** The queue connection of a database opened with `options` (the same options createDb had). */
export function queueConnection(db: Database, options: CreateDbOptions): QueueConnection {
  const target = resolveDbTarget(options)
  if (target.kind === 'postgres')
    return {
      connectionString: target.url,
      backend: 'postgres',
      hostedHere: true,
      options: { connectionString: target.url },
    }
  if (db.driver === 'postgres') throw new Error('queueConnection: a PostgreSQL database with PGlite options')
  const lock = readLock(lockFileOf(target.dir))
  if (lock === 'missing' || lock === 'unreadable' || lock.port === undefined || lock.password === undefined)
    throw new HarnessError(
      `the embedded database ${target.dir} has no published loopback port (lock ${lock === 'missing' || lock === 'unreadable' ? lock : 'not yet published'}); open it again`,
    )
  const connectionString = `postgres://postgres:${encodeURIComponent(lock.password)}@127.0.0.1:${lock.port}/postgres`
  return {
    connectionString,
    backend: 'pglite',
    hostedHere: lock.pid === process.pid,
    options: { connectionString, noPreparedStatements: true },
  }
}

/**
 * Installs or upgrades graphile-worker's schema (graphile_worker.*, its own migrations, idempotent). Two
 * processes installing at once may clash on a CREATE; graphile-worker retries that once itself, and so do
 * we once more after a pause.
 */
export async function installQueue(connection: QueueConnection): Promise<void> {
  const options = { ...connection.options, logger: quietLogger }
  try {
    await runMigrations(options)
  } catch (err) {
    const code = (err as { code?: string }).code
    if (!code || !['23505', '42P06', '42P07', '42710'].includes(code)) throw err
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 500))
    await runMigrations(options)
  }
}

/**
 * graphile-worker's own log lines: warnings and errors on stderr, prefixed; its per-job lines ("Completed
 * task …", "Failed task …") repeat what the worker logs, so they are dropped.
 */
export const quietLogger = new Logger(() => (level, message) => {
  // A failed attempt is reported by the worker itself, with its attempt count (worker.ts).
  if (message.startsWith('Failed task')) return
  if (level === 'error' || level === 'warning')
    process.stderr.write(`bench worker (graphile-worker ${level}): ${message}\n`)
})
