/**
 * `bench db migrate` and `bench db info`: apply the schema migrations to the results database and show
 * what it holds. `--db` takes an embedded database directory or a postgres:// URL; without it the
 * database is DATABASE_URL, else BENCH_DB, else `.bench/db`. Flags here; the database code (actions/db.ts)
 * is imported when a command runs.
 * @module
 */
import type { Command } from 'commander'
import type { CreateDbOptions } from '../../../db/client.ts'
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
    .action(action(async (opts: { db?: string }) => (await import('../actions/db.ts')).migrateCommand(opts)))

  db.command('info')
    .description('driver, location, schema version and row counts')
    .option('--db <path|url>', DB_FLAG_HELP)
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { db?: string; json?: boolean }) =>
        (await import('../actions/db.ts')).infoCommand(opts),
      ),
    )
}
