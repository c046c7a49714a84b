/**
 * What `bench db info` reports: driver, location, schema version (applied vs. known migrations) and row
 * counts per table.
 * @module
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { type Database, selectRows } from './client.ts'
import { MIGRATIONS_FOLDER, MIGRATIONS_SCHEMA, MIGRATIONS_TABLE } from './migrate.ts'
import { environments, requests, runMetrics, runs, variants } from './schema.ts'

export interface DbInfo {
  driver: Database['driver']
  location: string
  schema: {
    /** Tag of the newest applied migration (e.g. `0000_init`), or null on an empty database. */
    version: string | null
    applied: number
    /** Migrations shipped with this build. */
    known: number
  }
  rows: { variants: number; environments: number; runs: number; requests: number; runMetrics: number }
}

interface JournalEntry {
  tag: string
  when: number
}

export async function describeDb(db: Database): Promise<DbInfo> {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: JournalEntry[]
  }
  const applied = await selectRows<{ created_at: string | number }>(
    db,
    sql`select created_at from ${sql.identifier(MIGRATIONS_SCHEMA)}.${sql.identifier(MIGRATIONS_TABLE)} order by created_at`,
  )
  const last = applied.at(-1)
  // drizzle records each migration's folder timestamp (the journal's `when`) in created_at.
  const version = last
    ? (journal.entries.find((e) => e.when === Number(last.created_at))?.tag ?? `unknown (${last.created_at})`)
    : null
  const [nVariants, nEnvironments, nRuns, nRequests, nRunMetrics] = await Promise.all([
    db.$count(variants),
    db.$count(environments),
    db.$count(runs),
    db.$count(requests),
    db.$count(runMetrics),
  ])
  return {
    driver: db.driver,
    location: db.location,
    schema: { version, applied: applied.length, known: journal.entries.length },
    rows: {
      variants: nVariants,
      environments: nEnvironments,
      runs: nRuns,
      requests: nRequests,
      runMetrics: nRunMetrics,
    },
  }
}
