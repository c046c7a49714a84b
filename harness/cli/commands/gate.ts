/**
 * `bench gate`: the CI gate. Compares the candidate's stored runs (named runs, an invocation, or the
 * latest invocation of the current commit) with the baseline branch's history up to the merge-base
 * (db/gate/runs.ts), an explicit baseline run, or a values file, and exits 2 on a regression, 0 otherwise,
 * 1 on an error — including a candidate whose fingerprint differs from the baseline branch's runs of the
 * same scenario and target (refused, listing each differing field: `mock.itl.ms: 3 vs 2`).
 *
 * No comparable history at all (a new scenario or target): the verdict is insufficient-data, a WARNING
 * line goes to stderr and the gate passes (exit 0), so adding a benchmark never breaks the build;
 * `--require-baseline` makes it exit 1 instead.
 *
 * `--confirm N`: only when the first verdict has a regression, the scenario is run N more times (stored
 * with runs.role = 'confirm', never a baseline) and the verdict is taken again on the mean of all the
 * candidate's repetitions — harness/regression measured that one run cannot hold 1 % false positives and
 * 95 % detection on a 5 % noisy runner while a mean of about six can.
 *
 * This file holds the flags; the gate itself (actions/gate.ts) is imported when the command runs.
 * @module
 */
import { type Command, Option } from 'commander'
import { EVALUATE_DEFAULTS, GATE_METHODS } from '../../regression/index.ts'
import { action, parseNumberFlag } from '../action.ts'
import type { GateCommandOptions } from '../actions/gate.ts'

const collectInt = (flag: string) => (v: string, prev: number[] | undefined) => [
  ...(prev ?? []),
  parseNumberFlag(flag, 'int', 1)(v),
]

export function registerGateCommand(program: Command): void {
  program
    .command('gate')
    .description('fail (exit 2) when the candidate runs regress against the baseline branch')
    .requiredOption(
      '--metric <name>',
      'metric to gate, repeatable (e.g. outputTokensPerS, ttftMsP95; acc gates accuracy runs item by item)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option('--scenario <name|file>', 'only runs of this scenario (a file is also what --confirm re-runs)')
    .option('--run <id>', 'candidate run id, repeatable', collectInt('--run'))
    .option('--invocation <id>', 'candidate: every run of this bench run invocation')
    .option(
      '--commit <sha>',
      'candidate: the latest invocation of this commit (default: GITHUB_SHA, else git HEAD)',
    )
    .option('--branch <name>', 'candidate: the latest invocation on this branch')
    .addOption(
      new Option('--method <method>', 'test (mann-whitney needs per-request samples: not offered here yet)')
        .choices(GATE_METHODS.filter((m) => m !== 'mann-whitney'))
        .default(EVALUATE_DEFAULTS.method),
    )
    .option(
      '--confidence <p>',
      'one-sided confidence',
      parseNumberFlag('--confidence'),
      EVALUATE_DEFAULTS.confidence,
    )
    .option(
      '--min-effect <fraction>',
      'smallest relative change that can fail',
      parseNumberFlag('--min-effect', 'number', 0),
      EVALUATE_DEFAULTS.minEffect,
    )
    .option(
      '--min-samples <n>',
      'fewer baseline points → insufficient-data',
      parseNumberFlag('--min-samples', 'int', 1),
      EVALUATE_DEFAULTS.minSamples,
    )
    .option(
      '--max-samples <n>',
      'baseline points used at most (the latest)',
      parseNumberFlag('--max-samples', 'int', 1),
      EVALUATE_DEFAULTS.maxSamples,
    )
    .option('--baseline-branch <name>', 'branch whose history is the baseline', 'main')
    .option(
      '--baseline-ref <ref>',
      "start point = the candidate commit's merge-base with this git ref here (default: the merge-base bench run stored)",
    )
    .option(
      '--baseline-run <id>',
      'baseline run id instead of the branch history, repeatable',
      collectInt('--baseline-run'),
    )
    .option('--baseline-file <file>', 'baseline values: {"metrics":{name:[values]}} or bench export JSON')
    .option('--candidate-file <file>', 'candidate values, same formats (with --no-db)')
    .option(
      '--confirm <n>',
      're-run the scenario n times before failing',
      parseNumberFlag('--confirm', 'int', 0),
      0,
    )
    .option('--require-baseline', 'exit 1 when a metric has no comparable baseline (default: warn, exit 0)')
    .addOption(
      new Option('--format <format>', 'stdout format').choices(['md', 'json', 'table']).default('md'),
    )
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .option('--no-db', 'no database: --baseline-file and --candidate-file')
    .action(
      action(async (opts: GateCommandOptions) => (await import('../actions/gate.ts')).gateCommand(opts)),
    )
}
