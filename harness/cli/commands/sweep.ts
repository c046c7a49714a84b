/**
 * `bench sweep <base-url> --slo ttftMsP95=500 --slo tpotMsP95=50`: the highest arrival rate the endpoint
 * serves within the SLOs (the knee), every step a stored run of one sweep. Flags here; the sweep itself
 * (actions/sweep.ts, harness/sweep/) is imported when the command runs. `--slo` values are checked there,
 * before anything starts, so a bad one is one line (`bench: --slo "…": …; use NAME=MS …`).
 * @module
 */
import { type Command, Option } from 'commander'
import { action, parseNumberFlag } from '../action.ts'
import type { SweepCommandOptions } from '../actions/sweep.ts'

export function registerSweepCommand(program: Command): void {
  program
    .command('sweep')
    .description(
      'find the highest request rate an OpenAI-compatible endpoint serves within latency SLOs (the knee); every step is a stored run',
    )
    .argument('<base-url>', 'endpoint with /v1, e.g. http://127.0.0.1:8000/v1')
    .option(
      '--slo <NAME=MS>',
      'a bound a step must meet, e.g. ttftMsP95=500, tpotMsP95=50 (ttftMs, tpotMs, e2eMs, chunkGapsMs × P50, P90, P95, P99); repeat for several',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--model <id>', 'model to request (default: the first of GET /models)')
    .option('--api-key-env <name>', 'environment variable holding the API key (sent as Bearer)')
    .option('--min-rate <r>', 'first rate, requests/s', parseNumberFlag('--min-rate', 'number', 0.001), 1)
    .option(
      '--max-rate <r>',
      'highest rate tried, requests/s',
      parseNumberFlag('--max-rate', 'number', 0.001),
      256,
    )
    .option('--duration <s>', 'arrivals per step, seconds', parseNumberFlag('--duration', 'number', 0.1), 10)
    .option(
      '--tolerance <ratio>',
      'stop bisecting when (first failing − knee) / knee ≤ this',
      parseNumberFlag('--tolerance', 'number', 0.001),
      0.05,
    )
    .option('--max-steps <n>', 'steps in all (a bound on time)', parseNumberFlag('--max-steps', 'int', 1), 20)
    .addOption(
      new Option('--arrivals <kind>', 'constant: i / rate; poisson: exponential gaps')
        .choices(['constant', 'poisson'])
        .default('constant'),
    )
    .option(
      '--prompt-tokens <n>',
      'synthetic prompt length (words ≈ tokens)',
      parseNumberFlag('--prompt-tokens', 'int', 1),
      128,
    )
    .option(
      '--output-tokens <n>',
      'output tokens per request (fixed: min_tokens + ignore_eos)',
      parseNumberFlag('--output-tokens', 'int', 2),
      64,
    )
    .option('--warmup <n>', 'warm-up requests before each step', parseNumberFlag('--warmup', 'int', 0), 1)
    .option(
      '--request-timeout <s>',
      'a request past it is a timeout error',
      parseNumberFlag('--request-timeout', 'number', 0.1),
      30,
    )
    .option(
      '--max-error-rate <r>',
      'a step with more errors / attempted fails',
      parseNumberFlag('--max-error-rate', 'number', 0),
      0.01,
    )
    .option('--name <scenario>', 'scenario name of the step runs', 'sweep')
    .option('--target <name>', 'target name of the step runs', 'endpoint')
    .option('--label <text>', 'free text stored with the sweep and each run')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .option('--no-db', 'keep nothing in a database')
    .option('--no-progress', 'no progress on stderr')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (baseUrl: string, opts: SweepCommandOptions) =>
        (await import('../actions/sweep.ts')).sweepCommand(baseUrl, opts),
      ),
    )
}
