/**
 * `bench matrix status <id>`, `list` and `cancel <id>`: a queued matrix's progress, job by job. Flags here;
 * the queries (actions/queue.ts, db/queue/status.ts) are imported when a command runs.
 * @module
 */
import type { Command } from 'commander'
import { action, parseNumberFlag } from '../action.ts'

const DB_FLAG_HELP =
  'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)'

export function registerMatrixCommands(program: Command): void {
  const matrix = program.command('matrix').description('matrices queued with bench enqueue')
  matrix
    .command('status')
    .description('one matrix: counts by state and every job (attempts, run, worker, last error)')
    .argument('<id>', 'matrix id', parseNumberFlag('<id>', 'int', 1))
    .option('--json', 'print JSON')
    .option('--db <path|url>', DB_FLAG_HELP)
    .action(
      action(async (id: number, opts: { json?: boolean; db?: string }) =>
        (await import('../actions/queue.ts')).matrixStatusCommand(id, opts),
      ),
    )
  matrix
    .command('cancel')
    .description(
      'stop a matrix: its queued and retrying jobs will not run (dead, "cancelled"); running jobs finish',
    )
    .argument('<id>', 'matrix id', parseNumberFlag('<id>', 'int', 1))
    .option('--db <path|url>', DB_FLAG_HELP)
    .action(
      action(async (id: number, opts: { db?: string }) =>
        (await import('../actions/queue.ts')).matrixCancelCommand(id, opts),
      ),
    )
  matrix
    .command('list')
    .description('matrices, newest first, with counts by state')
    .option('--limit <n>', 'at most this many', parseNumberFlag('--limit', 'int', 1), 20)
    .option('--json', 'print JSON')
    .option('--db <path|url>', DB_FLAG_HELP)
    .action(
      action(async (opts: { limit: number; json?: boolean; db?: string }) =>
        (await import('../actions/queue.ts')).matrixListCommand(opts),
      ),
    )
}
