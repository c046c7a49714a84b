/**
 * `bench db migrate` and `bench db info`: apply the schema migrations to the results database and show
 * what it holds. `--db` takes an embedded database directory or a postgres:// URL; without it the
 * database is DATABASE_URL, else BENCH_DB, else `.bench/db`.
 * @module
 */
import type { Command } from 'commander'
import { type CreateDbOptions, createDb } from '../../../db/client.ts'
import { type DbInfo, describeDb } from '../../../db/info.ts'
import { action } from '../action.ts'

/** `--db` value → createDb options: a postgres:// URL or a directory. */
export function dbOptions(db: string | undefined): CreateDbOptions {
  if (db === undefined) return {}
  return /^postgres(ql)?:\/\//.test(db) ? { url: db } : { dataDir: db }
}

const DB_FLAG_HELP =
  'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)'

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the results database (PostgreSQL, or embedded PGlite)')

  db.command('migrate')
    .description('apply pending schema migrations (also done by every command that opens the database)')
    .option('--db <path|url>', DB_FLAG_HELP)
    .action(
      action(async (opts: { db?: string }) => {
        const database = await createDb(dbOptions(opts.db))
        try {
          const info = await describeDb(database)
          process.stdout.write(
            `${info.location} (${info.driver}): schema ${info.schema.version ?? 'empty'}, ` +
              `${info.schema.applied}/${info.schema.known} migrations applied\n`,
          )
        } finally {
          await database.close()
        }
        return undefined
      }),
    )

  db.command('info')
    .description('driver, location, schema version and row counts')
    .option('--db <path|url>', DB_FLAG_HELP)
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { db?: string; json?: boolean }) => {
        const database = await createDb(dbOptions(opts.db))
        try {
          const info = await describeDb(database)
          process.stdout.write(opts.json ? `${JSON.stringify(info, null, 2)}\n` : formatInfo(info))
        } finally {
          await database.close()
        }
        return undefined
      }),
    )
}

function formatInfo(info: DbInfo): string {
  const rows: [string, string][] = [
    ['driver', info.driver],
    ['location', info.location],
    [
      'schema',
      `${info.schema.version ?? 'empty'} (${info.schema.applied}/${info.schema.known} migrations applied)`,
    ],
    ['variants', String(info.rows.variants)],
    ['environments', String(info.rows.environments)],
    ['runs', String(info.rows.runs)],
    ['requests', String(info.rows.requests)],
    ['run_metrics', String(info.rows.runMetrics)],
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join('')
}
