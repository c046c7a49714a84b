/**
 * `bench push <run…> --url http://host:8787`: sends runs from this machine's results database to a
 * central dashboard (`POST /api/runs`), each as the document `bench export --format json` writes; the
 * dashboard stores it as a new run, or answers with the id it already has. The write token comes from
 * BENCH_TOKEN only — never a flag (it would sit in shell history and `ps`), never printed. Flags here; the
 * push (actions/push.ts) is imported when the command runs.
 * @module
 */
import { type Command, InvalidArgumentError } from 'commander'
import { action, parseNumberFlag } from '../action.ts'
import type { PushFlags } from '../actions/push.ts'

export function registerPushCommand(program: Command): void {
  program
    .command('push')
    .description(
      'send runs to a central dashboard (POST /api/runs) with the write token from BENCH_TOKEN; a run sent twice is stored once',
    )
    .argument('<run...>', 'run ids in this database', runIdList)
    .requiredOption('--url <url>', 'the central dashboard, e.g. http://results-host:8787')
    .option('--json', 'print JSON')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .action(
      action(async (runIds: number[], opts: PushFlags) =>
        (await import('../actions/push.ts')).pushCommand(runIds, opts),
      ),
    )
}

const parseRunId = parseNumberFlag('<run>', 'int', 1)

/** Commander's variadic accumulator; a bad id is reported by commander (exit 1) like any bad argument. */
function runIdList(value: string, previous: number[] | undefined): number[] {
  try {
    return [...(previous ?? []), parseRunId(value)]
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}
