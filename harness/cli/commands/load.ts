/**
 * `bench load <base-url>`: raw HTTP load with autocannon (harness/http-load/). Flags here; the work
 * (actions/load.ts) is imported when the command runs.
 * @module
 */
import { type Command, InvalidArgumentError, Option } from 'commander'
import { action, parseNumberFlag } from '../action.ts'
import type { LoadCommandOptions } from '../actions/load.ts'

/**
 * `--rate`: whole requests per second, ≥ 1. autocannon 9 (the pacer) budgets whole requests per connection
 * per second: it refuses an overallRate below 1 ("can not be less than 1"), and a fraction r < 10 opens ⌈r⌉
 * connections of 1/s each, so 1.5 sends 2/s and 2.5 sends 3/s (measured) — refused here, with the fix.
 */
export function parseRateFlag(value: string): number {
  const n = Number(value)
  if (value.trim() !== '' && Number.isInteger(n) && n >= 1) return n
  throw new InvalidArgumentError(
    `--rate expects a whole number of requests/s ≥ 1, got "${value}": autocannon paces whole requests per connection per second (below 1 it refuses, 1.5 would send 2/s). Use a whole rate, or for a fractional one (0.5/s) a bench run scenario with a constant-rate load (ratePerS: 0.5)`,
  )
}

export function registerLoadCommand(program: Command): void {
  program
    .command('load')
    .description(
      'raw HTTP load on an OpenAI-compatible endpoint with autocannon: non-streamed requests, latency percentiles, requests/s, errors by status; stored as an http-load run',
    )
    .argument('<base-url>', 'endpoint with /v1, e.g. http://127.0.0.1:8000/v1')
    .option('--model <id>', 'model to request (default: the first of GET /models; with --body: the file’s)')
    .option('--api-key-env <name>', 'environment variable holding the API key (sent as Bearer)')
    .addOption(
      new Option('--endpoint <api>', 'chat (/chat/completions) or completions (/completions)')
        .choices(['chat', 'completions'])
        .default('chat'),
    )
    .addOption(
      new Option('--connections <n>', 'keep-alive connections, one request in flight each (default 10)')
        .argParser(parseNumberFlag('--connections', 'int', 1))
        .conflicts('rate'),
    )
    .addOption(
      new Option(
        '--rate <r>',
        'whole requests/s ≥ 1 over all connections (autocannon overallRate: per-connection per-second budgets, min(10, r) connections)',
      ).argParser(parseRateFlag),
    )
    .option(
      '--duration <s>',
      'stop after this many seconds',
      parseNumberFlag('--duration', 'number', 0.1),
      10,
    )
    .option(
      '--requests <n>',
      'stop after this many requests (the duration still bounds the load)',
      parseNumberFlag('--requests', 'int', 1),
    )
    .option(
      '--timeout <s>',
      'a response not complete this long after its request was sent is a timeout error (≥ 1)',
      parseNumberFlag('--timeout', 'number', 1),
      30,
    )
    .option('--body <file>', 'one JSON request body sent as is with every request (not with --prompts)')
    .option(
      '--prompts <file>',
      'prompts: a .jsonl file ({"prompt"} or {"messages"} per line) or a ShareGPT .json',
    )
    .option(
      '--prompt-tokens <n>',
      'synthetic prompt length, words ≈ tokens (without --prompts / --body)',
      parseNumberFlag('--prompt-tokens', 'int', 1),
      64,
    )
    .option(
      '--output-tokens <n>',
      'max_tokens of every request',
      parseNumberFlag('--output-tokens', 'int', 1),
      16,
    )
    .option('--no-fixed-output', 'leave out min_tokens and ignore_eos (servers that refuse them)')
    .option(
      '--max-error-rate <r>',
      'errors / attempted above which the run fails and exit is 1, a fraction',
      parseNumberFlag('--max-error-rate', 'number', 0),
      0.01,
    )
    .option('--label <text>', 'free text stored with the run')
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'no progress line on stderr')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .option('--no-db', 'keep nothing in a database')
    .action(
      action(async (baseUrl: string, opts: LoadCommandOptions) =>
        (await import('../actions/load.ts')).loadCommand(baseUrl, opts),
      ),
    )
}
