/**
 * `bench import <file>`: results other tools already have — `vllm bench serve --save-result` JSON,
 * llama-bench `-o json`/`-o jsonl` — become runs in the results database, mapped to our metric names and
 * keeping the original document; a `bench export --format json` run from another database is stored as it
 * was. A malformed or unknown file exits 1 with a message naming it.
 * @module
 */
import { type Command, Option } from 'commander'
import { createDb } from '../../../db/client.ts'
import { type ImportFormatOption, type ImportResult, importFile } from '../../../db/import/index.ts'
import { action } from '../action.ts'
import { dbOptions } from './db.ts'

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description(
      'import results of vllm bench serve (--save-result JSON), llama-bench (-o json / -o jsonl) or a run exported from another database (bench export --format json)',
    )
    .argument('<file>', 'result file')
    .addOption(
      new Option('--format <format>', 'file format')
        .choices(['auto', 'vllm', 'llama-bench', 'bench-run'])
        .default('auto'),
    )
    .option(
      '--scenario <name>',
      'scenario name of the imported runs (default: vllm-bench-serve or llama-bench; a bench-run keeps its own)',
    )
    .option('--json', 'print JSON')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .action(
      action(
        async (
          file: string,
          opts: { format: ImportFormatOption; scenario?: string; json?: boolean; db?: string },
        ) => {
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
        },
      ),
    )
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
