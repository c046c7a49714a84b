/**
 * `bench import <file>`: stores the file's runs and prints what was written.
 * @module
 */
import { createDb } from '../../../db/client.ts'
import { type ImportFormatOption, type ImportResult, importFile } from '../../../db/import/index.ts'
import { dbOptions } from '../commands/db.ts'

export interface ImportFlags {
  format: ImportFormatOption
  scenario?: string
  json?: boolean
  db?: string
}

export async function importCommand(file: string, opts: ImportFlags): Promise<undefined> {
  const database = await createDb(dbOptions(opts.db))
  try {
    const result = await importFile(database, file, {
      format: opts.format,
      ...(opts.scenario !== undefined ? { scenario: opts.scenario } : {}),
    })
    process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatImport(result))
  } finally {
    await database.close()
  }
  return undefined
}

export function formatImport(result: ImportResult): string {
  const ids = result.runs.map((r) => r.id).join(', ')
  if (result.state === 'already-imported')
    return `${result.file} was imported before (${result.format}): run${result.runs.length > 1 ? 's' : ''} ${ids}; nothing written\n`
  const lines = [
    `${result.file} (${result.format}): ${result.runs.length} run${result.runs.length > 1 ? 's' : ''} imported`,
  ]
  for (const r of result.runs) {
    lines.push(
      `  run ${r.id}: scenario ${r.scenarioName}, target ${r.targetName}, ${r.metrics ?? 0} metrics, ${r.requests ?? 0} requests`,
    )
    for (const note of r.notes) lines.push(`    note: ${note}`)
  }
  return `${lines.join('\n')}\n`
}
