/**
 * `bench runs list` and `bench runs show <id>`: what the results database holds, newest first, and one run
 * in full (identity, every summary figure, how its requests ended). Flags here; the queries and tables
 * (actions/runs.ts) are imported when a command runs.
 * @module
 */
import { type Command, Option } from 'commander'
import type { RunListItem } from '../../../db/queries/runs.ts'
import { HarnessError } from '../../errors.ts'
import { action, parseNumberFlag } from '../action.ts'
import { RUN_STATES } from '../choices.ts'

const DB_FLAG_HELP =
  'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)'

export interface ListOptions {
  scenario?: string
  target?: string
  branch?: string
  state?: RunListItem['state']
  since?: Date
  until?: Date
  limit: number
  offset: number
  json?: boolean
  db?: string
}

export function registerRunsCommands(program: Command): void {
  const runsCommand = program.command('runs').description('runs in the results database')

  runsCommand
    .command('list')
    .description('runs, newest first')
    .option('--scenario <name>', 'only runs of this scenario')
    .option('--target <name>', 'only runs of this target')
    .option('--branch <name>', 'only runs of this git branch')
    .addOption(new Option('--state <state>', 'only runs in this state').choices(RUN_STATES))
    .option('--since <time>', 'only runs started at or after this time (ISO 8601)', parseTimeFlag('--since'))
    .option('--until <time>', 'only runs started before this time (ISO 8601)', parseTimeFlag('--until'))
    .option('--limit <n>', 'at most this many runs', parseNumberFlag('--limit', 'int', 1), 50)
    .option('--offset <n>', 'skip this many runs (paging)', parseNumberFlag('--offset', 'int', 0), 0)
    .option('--json', 'print JSON')
    .option('--db <path|url>', DB_FLAG_HELP)
    .action(action(async (opts: ListOptions) => (await import('../actions/runs.ts')).listCommand(opts)))

  runsCommand
    .command('show')
    .description('one run: identity, every summary figure, request outcomes')
    .argument('<id>', 'run id', parseNumberFlag('<id>', 'int', 1))
    .option('--json', 'print JSON')
    .option('--db <path|url>', DB_FLAG_HELP)
    .action(
      action(async (id: number, opts: { json?: boolean; db?: string }) =>
        (await import('../actions/runs.ts')).showCommand(id, opts),
      ),
    )
}

function parseTimeFlag(flag: string) {
  return (value: string): Date => {
    const at = new Date(value)
    if (Number.isNaN(at.getTime())) throw new HarnessError(`${flag} expects an ISO 8601 time, got "${value}"`)
    return at
  }
}
