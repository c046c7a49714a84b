/**
 * createDb: the one way to open the results database. With a PostgreSQL URL (option or DATABASE_URL) it
 * uses postgres.js; otherwise an embedded PGlite database in a directory (`.bench/db`, or BENCH_DB, or the
 * dataDir option). Same schema, migrations and drizzle queries on both. Migrations are applied and
 * `running` runs whose writer is gone (a dead pid on this host, or a stale heartbeat) are marked
 * `interrupted` before it returns (db/liveness.ts).
 *
 * What is not the database we expect is a DatabaseError, never a new database: a `--db` path under /proc or
 * through a file, a directory that holds something other than a complete database, damaged files, a schema
 * newer than this build (db/pglite/dir.ts, db/migrate.ts), a URL that is not postgres:// or where no
 * PostgreSQL answers (db/postgres-probe.ts). A new embedded database is created only in a missing or empty
 * directory, private to the user (directories 0700, files 0600).
 *
 * The embedded directory is owned by one process at a time (see db/pglite/host.ts): the first opener gets
 * PGlite in-process (driver `pglite`), or with `embeddedHost: 'worker'` in a worker thread of its own that
 * it reaches like everyone else (db/pglite/worker.ts; `bench run`, so queries never run on the thread that
 * stamps chunks); later openers, in this or another process, reach the owner through its loopback port
 * with postgres.js (driver `pglite-socket`), so `bench dashboard` and `bench run` can share the default
 * database.
 * @module
 */
import type { Socket } from 'node:net'
import path from 'node:path'
import type { SQL } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { DatabaseError } from './database-error.ts'
import { journalDirOf, replayJournals } from './journal.ts'
import { markInterruptedRuns, STALE_RUN_AFTER_MS } from './liveness.ts'
import { migratePostgres } from './migrate.ts'
import { prepareDataDir } from './pglite/dir.ts'
import { connectLoopback, lockFileOf, PgliteDirectoryClient, startPgliteHost } from './pglite/host.ts'
import { acquireLock } from './pglite/lock.ts'
import { surviveOwnerSwitch, untilOwnerAnswers } from './pglite/owner-switch.ts'
import { startPgliteHostInWorker } from './pglite/worker.ts'
import {
  CONNECT_TIMEOUT_S,
  checkPostgresUrl,
  probePostgres,
  redactUrl,
  type UrlSource,
} from './postgres-probe.ts'
import * as schema from './schema.ts'

/** Drizzle over either driver; what queries are written against. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

export type DbDriver = 'postgres' | 'pglite' | 'pglite-socket'

export interface Database extends Db {
  readonly driver: DbDriver
  /** Connection URL without its password, or the embedded database directory. */
  readonly location: string
  /** Ends connections; the owner of an embedded directory also stops serving it and releases the lock. */
  close(): Promise<void>
}

const DEFAULT_DATA_DIR = path.join('.bench', 'db')

export interface CreateDbOptions {
  /** PostgreSQL URL. Wins over dataDir and the environment. */
  url?: string
  /** Embedded database directory. Wins over DATABASE_URL and BENCH_DB. @default '.bench/db' */
  dataDir?: string
  /** Looked up for DATABASE_URL and BENCH_DB. @default process.env */
  env?: NodeJS.ProcessEnv
  /** Running runs with no heartbeat for this long are marked interrupted at start-up, ms. @default 10000 */
  staleRunAfterMs?: number
  /**
   * Where an embedded database this process comes to own runs: 'in-process' (PGlite on this thread) or
   * 'worker' (a worker thread serving it on loopback; this thread talks to it with postgres.js). `bench run`
   * uses 'worker' so that writing results does not hold up the stamping of chunks (db/pglite/worker.ts).
   * @default 'in-process'
   */
  embeddedHost?: 'in-process' | 'worker'
  /**
   * PostgreSQL cancels any statement of this connection pool running longer than this (its
   * `statement_timeout`), ms. The dashboard sets it to its read deadline so a page that gave up with a 503
   * does not leave its query holding a pooled connection. PGlite ignores statement_timeout (measured: a 23 s
   * query ran to its end under 200 ms); there the dashboard's worker host and read deadline bound a page.
   * @default none
   */
  statementTimeoutMs?: number
}

/**
 * Where createDb would connect with these options: a URL (and where it came from, for messages) or an
 * embedded directory (resolved). A directory that looks like a URL of another scheme is an error.
 */
export function resolveDbTarget(
  options: CreateDbOptions = {},
): { kind: 'postgres'; url: string; source: UrlSource } | { kind: 'pglite'; dir: string } {
  const env = options.env ?? process.env
  if (options.url) return { kind: 'postgres', url: options.url, source: '--db' }
  if (options.dataDir) {
    // `--db mysql://…` would otherwise become a directory named `mysql:`.
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(options.dataDir)) checkPostgresUrl(options.dataDir, '--db')
    return { kind: 'pglite', dir: path.resolve(options.dataDir) }
  }
  if (env.DATABASE_URL) return { kind: 'postgres', url: env.DATABASE_URL, source: 'DATABASE_URL' }
  return { kind: 'pglite', dir: path.resolve(env.BENCH_DB || DEFAULT_DATA_DIR) }
}

export async function createDb(options: CreateDbOptions = {}): Promise<Database> {
  const target = resolveDbTarget(options)
  const db =
    target.kind === 'postgres'
      ? await openPostgres(target.url, target.source, options.statementTimeoutMs)
      : await openPglite(target.dir, options.embeddedHost ?? 'in-process')
  try {
    await markInterruptedRuns(db, options.staleRunAfterMs ?? STALE_RUN_AFTER_MS)
  } catch (err) {
    await db.close()
    throw err
  }
  // What a run journaled while this database was away (db/journal.ts); a file that cannot be written yet stays.
  const log = (line: string) => process.stderr.write(`${line}\n`)
  await replayJournals(db, journalDirOf(db, options.env), { log }).catch((err: unknown) =>
    log(`bench: journals not replayed: ${err instanceof Error ? err.message : String(err)}`),
  )
  return db
}

/**
 * A URL that is not postgres://, or where no PostgreSQL answers, is a DatabaseError after one probe
 * connection (db/postgres-probe.ts), before postgres.js — which would reconnect without end — sees it.
 */
async function openPostgres(url: string, source: UrlSource, statementTimeoutMs?: number): Promise<Database> {
  checkPostgresUrl(url, source)
  await probePostgres(url, source)
  try {
    await migratePostgres(url, redactUrl(url), { connect_timeout: CONNECT_TIMEOUT_S })
  } catch (err) {
    if (err instanceof DatabaseError) throw err
    const e = err as { code?: string; message?: string }
    throw new DatabaseError(
      `${source} (${redactUrl(url)}): ${e.message ?? String(err)}${e.code && !e.message?.includes(e.code) ? ` (${e.code})` : ''}`,
      { cause: err },
    )
  }
  // Reconnect after 0.1, 0.2, 0.4 … 1 s: postgres.js's default grows to 10–20 s after 8 failed connects, so
  // a server back from an outage would sit idle that long before the sink's journal replay (issue 14).
  const sql = postgres(url, {
    onnotice: () => {},
    connect_timeout: CONNECT_TIMEOUT_S,
    backoff: (retries) => Math.min(0.05 * 2 ** retries, 1),
    ...(statementTimeoutMs !== undefined
      ? { connection: { statement_timeout: Math.max(1, Math.round(statementTimeoutMs)) } }
      : {}),
  })
  return withHandle(drizzlePostgres(sql, { schema }), 'postgres', redactUrl(url), () =>
    sql.end({ timeout: 5 }),
  )
}

async function openPglite(dir: string, host: 'in-process' | 'worker'): Promise<Database> {
  // Validated (no /proc, /sys, files) and created 0700 before anything else touches the path.
  prepareDataDir(dir)
  const attempt = await acquireLock(lockFileOf(dir))
  if (attempt.state === 'acquired' && host === 'in-process') {
    const owner = await startPgliteHost(dir, attempt.lock)
    return withHandle(drizzlePglite(owner.pg, { schema }), 'pglite', dir, () => owner.stop())
  }
  if (attempt.state === 'acquired') {
    const owner = await startPgliteHostInWorker(dir, attempt.lock)
    return socketDb(
      dir,
      () => owner.password,
      () => connectLoopback(owner.port),
      () => owner.stop(),
    )
  }
  const client = new PgliteDirectoryClient(dir)
  return socketDb(dir, client.password, client.connect, () => client.close())
}

/** postgres.js over sockets to whoever serves an embedded directory (driver 'pglite-socket'). */
async function socketDb(
  dir: string,
  password: () => string,
  connect: () => Promise<Socket>,
  release: () => Promise<void>,
): Promise<Database> {
  const options = {
    password,
    username: 'postgres',
    database: 'postgres',
    // One backend behind the socket: named statements would collide between clients, and extra
    // connections would only queue at the owner.
    max: 1,
    prepare: false,
    onnotice: () => {},
  } satisfies postgres.Options<Record<string, never>>
  // postgres.js supports a `socket` factory (each new connection asks it); its types do not declare it.
  const sql = surviveOwnerSwitch(postgres({ ...options, socket: connect } as typeof options))
  const db = withHandle(drizzlePostgres(sql, { schema }), 'pglite-socket', dir, async () => {
    try {
      await sql.end({ timeout: 5 })
    } finally {
      await release()
    }
  })
  try {
    await untilOwnerAnswers(() => sql`select 1`)
  } catch (err) {
    await db.close()
    throw err
  }
  return db
}

function withHandle(db: Db, driver: DbDriver, location: string, close: () => Promise<void>): Database {
  let closing: Promise<void> | undefined
  return Object.assign(db, { driver, location, close: () => (closing ??= close()) })
}

/** Rows of a raw SQL statement, whichever driver ran it (postgres.js returns an array, PGlite `{ rows }`). */
export async function selectRows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[]
}
