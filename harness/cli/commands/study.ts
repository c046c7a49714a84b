/**
 * `bench study list|export|import`: the speculative-decoding studies kept in the results database
 * (db/studies) — list them, write one as a `bench-study` JSON document, store such a document in this
 * database (another machine's study, or a backup). `bench spec` runs and stores one. The database code
 * (actions/study.ts) is imported only when a subcommand runs.
 * @module
 */
import type { Command } from 'commander'
import { action, parseNumberFlag } from '../action.ts'

const DB_HELP = 'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)'

export function registerStudyCommand(program: Command): void {
  const study = program
    .command('study')
    .description('speculative-decoding studies in the results database: list, export, import')
  study
    .command('list')
    .description('the latest studies: state, progress, K values, best K predicted and measured')
    .option('--json', 'as JSON')
    .option('--db <path|url>', DB_HELP)
    .action(
      action(async (opts: { json?: boolean; db?: string }) =>
        (await import('../actions/study.ts')).studyListCommand(opts),
      ),
    )
  study
    .command('export')
    .description('write one study (per-K, per-position, per-prompt rows) as a bench-study JSON document')
    .argument('<study>', 'study id', parseNumberFlag('<study>', 'int', 1))
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--db <path|url>', DB_HELP)
    .action(
      action(async (id: number, opts: { out?: string; db?: string }) =>
        (await import('../actions/study.ts')).studyExportCommand(id, opts),
      ),
    )
  study
    .command('import')
    .description('store a bench-study JSON document (bench study export) as a new study here')
    .argument('<file>', 'the document')
    .option('--db <path|url>', DB_HELP)
    .action(
      action(async (file: string, opts: { db?: string }) =>
        (await import('../actions/study.ts')).studyImportCommand(file, opts),
      ),
    )
}
