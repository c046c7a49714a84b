/**
 * `bench report <run…> | --scenario NAME [--branch B] --out report.html`: the selected runs as one
 * self-contained HTML file (variant table, Pareto charts, CDFs, environments; no network) for sharing a
 * decision. Flags here; the report (actions/report.ts, dashboard/report/) is imported when the command runs.
 * @module
 */
import type { Command } from 'commander'
import { action } from '../action.ts'
import type { ReportFlags } from '../actions/report.ts'

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write the selected runs as one self-contained HTML file (tables, charts, environments)')
    .argument('[runs...]', 'run ids (or --scenario)')
    .option('--scenario <name>', 'per target, the runs of its latest invocation of this scenario')
    .option(
      '--branch <branch>',
      'with --scenario: runs of this git branch, * for every branch (default: BENCH_DEFAULT_BRANCH, else main, and runs without a branch)',
    )
    .option('--out <file>', 'the HTML file to write (mode 0600; replaced if it exists)')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .action(
      action(async (runs: string[], opts: ReportFlags) =>
        (await import('../actions/report.ts')).reportCommand(runs, opts),
      ),
    )
}
