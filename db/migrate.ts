/**
 * Applying the drizzle-kit migrations in db/migrations, on either driver. Concurrent start-ups against one
 * PostgreSQL server take an advisory lock so two processes never run the same migration at once (the
 * embedded database needs none: only its one owner process migrates it, before it serves anyone).
 *
 * A database that has applied migrations this build does not ship (written by a newer bench, or another
 * branch's schema) is refused before anything is applied: drizzle's migrator would silently skip every
 * migration older than the newest applied one and let this code read a schema it does not know.
 * @module
 */
import { fileURLToPath } from 'node:url'
import type { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePgliteDb } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgresDb } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { DatabaseError } from './database-error.ts'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url))
/** Where drizzle records applied migrations (its defaults, spelled out for `bench db info`). */
export const MIGRATIONS_SCHEMA = 'drizzle'
export const MIGRATIONS_TABLE = '__drizzle_migrations'
/** pg_advisory_lock key of schema migrations ("bench" in ASCII). */
const MIGRATION_LOCK_KEY = 0x62656e6368

/** `location` names the database in errors (the directory, or the URL without its password). */
export async function migratePglite(pg: PGlite, location: string): Promise<void> {
  const db = drizzlePglite(pg)
  await refuseUnknownSchema(db, location)
  await migratePgliteDb(db, { migrationsFolder: MIGRATIONS_FOLDER })
}

/** How long the first statement may take, connection included, before the server counts as not answering. ms. */
const FIRST_QUERY_TIMEOUT_MS = 15_000

/**
 * Migrates through a single dedicated connection that holds the advisory lock throughout. `options` are
 * postgres.js options for that connection (the caller's connect timeout). The first statement is bounded
 * by `firstQueryTimeoutMs`: postgres.js retries a connection that closes during start-up at once and
 * without end, so a server that passed the probe (db/postgres-probe.ts) but is not PostgreSQL after all
 * must not hold the command forever.
 */
export async function migratePostgres(
  url: string,
  location: string,
  options: postgres.Options<Record<string, never>> = {},
  firstQueryTimeoutMs: number = FIRST_QUERY_TIMEOUT_MS,
): Promise<void> {
  const client = postgres(url, { ...options, max: 1, onnotice: () => {} })
  let answered = false
  try {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new DatabaseError(
              `${location}: no answer to a first query within ${firstQueryTimeoutMs / 1000} s (connection ` +
                'included): is it PostgreSQL?',
            ),
          ),
        firstQueryTimeoutMs,
      )
    })
    try {
      await Promise.race([client`select 1`, deadline])
      answered = true
    } finally {
      clearTimeout(timer)
    }
    // May wait as long as another process's migration takes: not bounded.
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`
    const db = drizzlePostgres(client)
    await refuseUnknownSchema(db, location)
    await migratePostgresDb(db, { migrationsFolder: MIGRATIONS_FOLDER })
  } finally {
    // No grace for a server that never answered: that ends postgres.js's retry loop at once.
    await client.end({ timeout: answered ? 5 : 0 })
  }
}

/** Throws when the database records applied migrations that are not among this build's. */
async function refuseUnknownSchema(db: PgDatabase<PgQueryResultHKT>, location: string): Promise<void> {
  const [exists] = rowsOf<{ present: boolean }>(
    await db.execute(
      sql`select exists (select 1 from information_schema.tables where table_schema = ${MIGRATIONS_SCHEMA} and table_name = ${MIGRATIONS_TABLE}) as present`,
    ),
  )
  if (!exists?.present) return
  const applied = rowsOf<{ created_at: string | number }>(
    await db.execute(
      sql`select created_at from ${sql.identifier(MIGRATIONS_SCHEMA)}.${sql.identifier(MIGRATIONS_TABLE)} order by created_at`,
    ),
  )
  const known = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER })
  const knownMillis = new Set(known.map((m) => m.folderMillis))
  const unknown = applied.map((r) => Number(r.created_at)).filter((ms) => !knownMillis.has(ms))
  if (unknown.length === 0) return
  const newestKnown = Math.max(...knownMillis)
  const newer = unknown.filter((ms) => ms > newestKnown).length
  throw new DatabaseError(
    `the results database ${location} has ${unknown.length} schema migration${unknown.length === 1 ? '' : 's'} ` +
      `this bench does not know (${applied.length} applied, ${known.length} known${
        newer > 0
          ? `; newest applied ${new Date(Math.max(...unknown)).toISOString()}, newer than this build's newest ${new Date(newestKnown).toISOString()}`
          : ''
      }): it was written by ${newer > 0 ? 'a newer' : 'another'} version of bench. Use that version, ` +
      'or pass --db another database; nothing was changed',
  )
}

/** Rows of a raw statement, whichever driver ran it (postgres.js returns an array, PGlite `{ rows }`). */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[]
}
