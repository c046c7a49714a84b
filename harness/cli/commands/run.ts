/**
 * `bench run <scenario...>`: its flags. The run itself (actions/run.ts) is imported when the command runs.
 * @module
 */
import { type Command, InvalidArgumentError, Option } from 'commander'
import { isServerMetricsMode, SERVER_METRICS_MODE_MESSAGE } from '../../server-metrics/endpoint.ts'
import { action, parseNumberFlag } from '../action.ts'
import type { RunCommandOptions } from '../actions/run.ts'

/** A ratio in [0, 1]; anything else is one line naming the flag (commander's InvalidArgumentError). */
function parseRatioFlag(flag: string) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
      throw new InvalidArgumentError(
        `${flag} expects a fraction between 0 and 1 (0.05 = 5 %), got "${value}"`,
      )
    return n
  }
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run one or more scenario files (.ts or .json) and print their results')
    .argument('<scenario...>', 'scenario files, e.g. scenarios/mock-sweep.ts')
    .option('--out <file>', 'also append every run and request outcome to this JSON-lines file')
    .addOption(
      new Option('--format <format>', 'stdout format').choices(['table', 'json', 'md']).default('table'),
    )
    .option('--label <text>', 'free text stored with each run (e.g. a PR title)')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .option('--no-db', 'keep no results in a database (print only, or --out)')
    .option('--commit <sha>', 'commit measured (default: GITHUB_SHA, else git HEAD)')
    .option('--branch <name>', 'branch measured (default: GITHUB_HEAD_REF / GITHUB_REF_NAME, else git)')
    .option('--merge-base <sha>', 'merge-base with the default branch (default: detected with git)')
    .option('--no-progress', 'no progress bar on stderr')
    .option(
      '--max-error-rate <r>',
      "fail a run (exit 1) whose errors / attempted requests exceed r, overriding the scenario (default: the scenario's maxErrorRate, else 0.01)",
      parseRatioFlag('--max-error-rate'),
    )
    .option(
      '--server-metrics <auto|off|url>',
      "read the endpoint's Prometheus /metrics before and after each run and store the deltas: auto (<base-url origin>/metrics of endpoint targets), off, or a URL (default: the scenario's serverMetrics, else auto)",
      (value: string) => {
        if (!isServerMetricsMode(value))
          throw new InvalidArgumentError(`--server-metrics ${SERVER_METRICS_MODE_MESSAGE}, got "${value}"`)
        return value
      },
    )
    .option(
      '--repeat <n>',
      'run the scenarios n times (repetitions the gate pools)',
      parseNumberFlag('--repeat', 'int', 1),
      1,
    )
    .action(
      action(async (files: string[], opts: RunCommandOptions) =>
        (await import('../actions/run.ts')).runScenarios(files, opts),
      ),
    )
}
