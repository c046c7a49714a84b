/**
 * `bench db migrate` and `bench db info`.
 * @module
 */
import { createDb } from '../../../db/client.ts'
import { type DbInfo, describeDb } from '../../../db/info.ts'
import { dbOptions } from '../commands/db.ts'

/** Opening the database applies pending migrations; then says where the schema stands. */
export async function migrateCommand(opts: { db?: string }): Promise<undefined> {
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
}

export async function infoCommand(opts: { db?: string; json?: boolean }): Promise<undefined> {
  const database = await createDb(dbOptions(opts.db))
  try {
    const info = await describeDb(database)
    process.stdout.write(opts.json ? `${JSON.stringify(info, null, 2)}\n` : formatInfo(info))
  } finally {
    await database.close()
  }
  return undefined
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
