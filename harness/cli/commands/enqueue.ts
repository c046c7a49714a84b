/**
 * `bench enqueue <scenario>`: splits a scenario into queue jobs (target × load step) grouped by a new
 * matrix id, for `bench worker` processes to run (db/queue/README.md). Flags here; the database and the
 * queue (actions/queue.ts) are imported when the command runs.
 * @module
 */
import type { Command } from 'commander'
import { action, parseNumberFlag } from '../action.ts'

const DB_FLAG_HELP =
  'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)'

export interface EnqueueCommandOptions {
  require?: string[]
  maxAttempts: number
  clients: number
  label?: string
  json?: boolean
  db?: string
}

export function registerEnqueueCommand(program: Command): void {
  program
    .command('enqueue')
    .description('queue a scenario as a matrix of jobs (one per target × load step) for bench worker')
    .argument('<scenario>', 'scenario file (.ts or .json); its relative paths must resolve on every worker')
    .option(
      '--require <key=value>',
      'a tag a worker must have to run these jobs, e.g. gpu=h100; repeat for several',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--max-attempts <n>',
      'attempts per job before it is dead (a killed worker’s attempt counts)',
      parseNumberFlag('--max-attempts', 'int', 1),
      3,
    )
    .option(
      '--clients <n>',
      'load generators per step: each step becomes n client jobs (concurrency or rate / n) started together on n workers; percentiles over their pooled samples',
      parseNumberFlag('--clients', 'int', 1),
      1,
    )
    .option('--label <text>', 'label stored with every run of the matrix')
    .option('--json', 'print { matrixId, jobs } as JSON')
    .option('--db <path|url>', DB_FLAG_HELP)
    .action(
      action(async (file: string, opts: EnqueueCommandOptions) =>
        (await import('../actions/queue.ts')).enqueueCommand(file, opts),
      ),
    )
}
