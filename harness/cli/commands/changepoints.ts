/**
 * `bench changepoints`: the nightly job. Recomputes the change points of every series (fingerprint ×
 * metric with enough runs) and replaces the stored ones; the dashboard draws them. Flags here; the
 * computation (actions/changepoints.ts) is imported when the command runs.
 * @module
 */
import type { Command } from 'commander'
import { action, parseNumberFlag } from '../action.ts'
import type { ChangePointsFlags } from '../actions/changepoints.ts'

export function registerChangePointsCommand(program: Command): void {
  program
    .command('changepoints')
    .description('detect and store change points of every series (a nightly job)')
    .option('--since <date>', 'only runs started at or after this date (ISO 8601)')
    .option(
      '--metric <name>',
      'only this metric, repeatable (default: every gated metric)',
      (v: string, p?: string[]) => [...(p ?? []), v],
    )
    .option('--branch <name>', 'only runs of this branch (default: all)')
    .option('--min-points <n>', 'skip series with fewer runs', parseNumberFlag('--min-points', 'int', 2), 8)
    .option(
      '--window <n>',
      'points per detection window (Otava window_len)',
      parseNumberFlag('--window', 'int', 4),
      50,
    )
    .option(
      '--max-p-value <p>',
      'significance of a split',
      parseNumberFlag('--max-p-value', 'number', 0),
      0.0001,
    )
    .option(
      '--min-magnitude <fraction>',
      'smallest change kept',
      parseNumberFlag('--min-magnitude', 'number', 0),
      0,
    )
    .option('--json', 'print JSON')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .action(
      action(async (o: ChangePointsFlags) =>
        (await import('../actions/changepoints.ts')).changePointsCommand(o),
      ),
    )
}
