/**
 * `bench worker`: claims queued jobs whose required tags it has and runs them until SIGINT/SIGTERM
 * (db/queue/README.md). Flags here; the worker (actions/queue.ts, db/queue/worker.ts) is imported when the
 * command runs.
 * @module
 */
import type { Command } from 'commander'
import { action, parseNumberFlag } from '../action.ts'

const DB_FLAG_HELP =
  'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)'

export interface WorkerCommandOptions {
  concurrency: number
  tag?: string[]
  db?: string
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'run queued jobs (bench enqueue) until SIGINT/SIGTERM; many workers may share one PostgreSQL',
    )
    .option(
      '--concurrency <n>',
      'jobs run at once in this process',
      parseNumberFlag('--concurrency', 'int', 1),
      1,
    )
    .option(
      '--tag <key=value>',
      'a tag this worker has (jobs that require it may run here), e.g. gpu=h100; repeat for several',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--db <path|url>', DB_FLAG_HELP)
    .action(
      action(async (opts: WorkerCommandOptions) => (await import('../actions/queue.ts')).workerCommand(opts)),
    )
}
