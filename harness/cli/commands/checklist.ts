/**
 * `bench checklist <base-url>`: the production checklist measured with real requests (harness/checklist/).
 * Flags here; the work (actions/checklist.ts) is imported when the command runs.
 * @module
 */
import { type Command, Option } from 'commander'
import { action, parseNumberFlag } from '../action.ts'
import type { ChecklistCommandOptions } from '../actions/checklist.ts'

export function registerChecklistCommand(program: Command): void {
  program
    .command('checklist')
    .description(
      'production readiness of an OpenAI-compatible endpoint, measured: TTFT, decode speed, QPS, errors, health, auth, rate limit, streaming, usage, TLS; exit 1 on any FAIL',
    )
    .argument('<base-url>', 'endpoint with /v1, e.g. http://127.0.0.1:8000/v1')
    .option('--model <id>', 'model to request (default: the first of GET /models)')
    .option('--api-key-env <name>', 'environment variable holding the API key (sent as Bearer)')
    .addOption(
      new Option('--format <format>', 'table, md (Markdown for a CI job summary) or json')
        .choices(['table', 'md', 'json'])
        .default('table'),
    )
    .option('--thresholds <file>', 'JSON thresholds, e.g. {"ttftMsP95": 500, "minQps": 5}; flags override it')
    .option(
      '--ttft-p50-ms <ms>',
      'TTFT p50 bound (default 200)',
      parseNumberFlag('--ttft-p50-ms', 'number', 0),
    )
    .option(
      '--ttft-p95-ms <ms>',
      'TTFT p95 bound (default 500)',
      parseNumberFlag('--ttft-p95-ms', 'number', 0),
    )
    .option(
      '--ttft-p99-ms <ms>',
      'TTFT p99 bound (default 1000)',
      parseNumberFlag('--ttft-p99-ms', 'number', 0),
    )
    .option(
      '--min-decode-tok-s <n>',
      'floor of the median per-stream decode speed, tokens/s (default 10)',
      parseNumberFlag('--min-decode-tok-s', 'number', 0),
    )
    .option(
      '--min-qps <n>',
      'floor of completed requests/s (default: none)',
      parseNumberFlag('--min-qps', 'number', 0),
    )
    .option(
      '--max-error-rate <r>',
      'errors / attempted over the load, a fraction (default 0.01)',
      parseNumberFlag('--max-error-rate', 'number', 0),
    )
    .option(
      '--concurrency <n>',
      'streams of the concurrent load',
      parseNumberFlag('--concurrency', 'int', 1),
      4,
    )
    .option(
      '--requests <n>',
      'measured requests of the concurrent load',
      parseNumberFlag('--requests', 'int', 1),
      40,
    )
    .option(
      '--sequential-requests <n>',
      'measured requests of the one-stream load before it',
      parseNumberFlag('--sequential-requests', 'int', 1),
      4,
    )
    .option(
      '--prompt-tokens <n>',
      'synthetic prompt length (words ≈ tokens)',
      parseNumberFlag('--prompt-tokens', 'int', 1),
      64,
    )
    .option(
      '--output-tokens <n>',
      'output tokens per request (fixed: min_tokens + ignore_eos)',
      parseNumberFlag('--output-tokens', 'int', 2),
      32,
    )
    .option(
      '--max-load-s <s>',
      'each load stops issuing requests after this long',
      parseNumberFlag('--max-load-s', 'number', 0.1),
      60,
    )
    .option(
      '--burst <n>',
      'the rate-limit burst sends at most this many requests (stops at the first 429)',
      parseNumberFlag('--burst', 'int', 1),
      100,
    )
    .option(
      '--burst-concurrency <n>',
      'requests in flight during the burst',
      parseNumberFlag('--burst-concurrency', 'int', 1),
      16,
    )
    .option(
      '--burst-s <s>',
      'the burst lasts at most this long',
      parseNumberFlag('--burst-s', 'number', 0.1),
      10,
    )
    .option(
      '--request-timeout <s>',
      'a request past it is a timeout error',
      parseNumberFlag('--request-timeout', 'number', 0.1),
      30,
    )
    .option('--label <text>', 'free text stored with the run')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .option('--no-db', 'keep nothing in a database')
    .action(
      action(async (baseUrl: string, opts: ChecklistCommandOptions) =>
        (await import('../actions/checklist.ts')).checklistCommand(baseUrl, opts),
      ),
    )
}
