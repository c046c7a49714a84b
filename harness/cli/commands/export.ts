/**
 * `bench export <run> --format json|csv [--out FILE]`: one run out of the results database — JSON with the
 * run, its identity, metrics and requests, or CSV with one row per request — to a file or stdout. Flags
 * here; the export (actions/export.ts) is imported when the command runs.
 * @module
 */
import { type Command, Option } from 'commander'
import { action, parseNumberFlag } from '../action.ts'
import type { ExportFlags } from '../actions/export.ts'

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write one run as JSON (run, metrics, requests) or CSV (one row per request)')
    .argument('<run>', 'run id', parseNumberFlag('<run>', 'int', 1))
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv']).default('json'))
    .option('--out <file>', 'write to this file instead of stdout')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .action(
      action(async (runId: number, opts: ExportFlags) =>
        (await import('../actions/export.ts')).exportCommand(runId, opts),
      ),
    )
}
