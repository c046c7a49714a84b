/**
 * Applying the drizzle-kit migrations in db/migrations, on either driver. Concurrent start-ups against one
 * PostgreSQL server take an advisory lock so two processes never run the same migration at once (the
 * embedded database needs none: only its one owner process migrates it, before it serves anyone).
 * @module
 */
import { fileURLToPath } from 'node:url'
import type { PGlite } from '@electric-sql/pglite'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePgliteDb } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgresDb } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url))
/** Where drizzle records applied migrations (its defaults, spelled out for `bench db info`). */
export const MIGRATIONS_SCHEMA = 'drizzle'
export const MIGRATIONS_TABLE = '__drizzle_migrations'
/** pg_advisory_lock key of schema migrations ("bench" in ASCII). */
const MIGRATION_LOCK_KEY = 0x62656e6368

export async function migratePglite(pg: PGlite): Promise<void> {
  await migratePgliteDb(drizzlePglite(pg), { migrationsFolder: MIGRATIONS_FOLDER })
}

/** Migrates through a single dedicated connection that holds the advisory lock throughout. */
export async function migratePostgres(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`
    await migratePostgresDb(drizzlePostgres(sql), { migrationsFolder: MIGRATIONS_FOLDER })
  } finally {
    await sql.end({ timeout: 5 })
  }
}
