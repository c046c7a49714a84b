/**
 * `bench load`: checks the flags, finds the model when none is given, opens the bodies, writes the run row
 * (load kind `http-load`), runs autocannon (harness/http-load), then stores every request and the figures
 * and prints them (a table, or --json). Exit 1 above --max-error-rate (naming the error kinds and counts),
 * when no request completed, on Ctrl-C and on bad input; 0 otherwise.
 * @module
 */
import { createHash, randomUUID } from 'node:crypto'
import { canonicalJson } from '../../canonical-json.ts'
import { firstModel } from '../../checklist/checklist.ts'
import { detectEnvironment, detectGit } from '../../environment.ts'
import { HarnessError } from '../../errors.ts'
import { AUTOCANNON_VERSION } from '../../http-load/autocannon.ts'
import { openBodySource } from '../../http-load/bodies.ts'
import { formatHttpLoad } from '../../http-load/format.ts'
import { httpLoadMetricRows, summarizeHttpLoad, toOutcome } from '../../http-load/metrics.ts'
import { type HttpLoadResult, runHttpLoad } from '../../http-load/run.ts'
import type { HttpLoadSpec } from '../../http-load/spec.ts'
import { verifyTls } from '../../http-load/tls.ts'
import { formatErrorCounts } from '../../metrics/error-rate.ts'
import type { RunMeta } from '../../results.ts'
import type { RunRecorder } from '../../sink.ts'
import { EXIT_ERROR, EXIT_OK } from '../action.ts'
import { checkBaseUrl } from '../base-url.ts'
import { coverSecretsIn, outputRedactor } from '../output.ts'
import { openCommandSink } from './command-sink.ts'

export interface LoadCommandOptions {
  model?: string
  apiKeyEnv?: string
  endpoint: 'chat' | 'completions'
  connections?: number
  rate?: number
  duration: number
  requests?: number
  timeout: number
  body?: string
  prompts?: string
  promptTokens: number
  outputTokens: number
  fixedOutput: boolean
  maxErrorRate: number
  label?: string
  db?: string | false
  json?: boolean
  progress: boolean
}

/** Connections when neither --connections nor a smaller --rate says otherwise (autocannon's default). */
export const DEFAULT_CONNECTIONS = 10
/** Bound on the model lookup (GET /models), ms. */
const MODELS_TIMEOUT_MS = 5000

/** `; first: request failed: ECONNREFUSED` — what the first failure said, for a load where none succeeded. */
function firstFailure(result: HttpLoadResult): string {
  const first = result.samples.find((s) => s.state === 'timeout' || s.state === 'connection-error')
  return first !== undefined && 'message' in first
    ? `; first: ${first.message}${result.stoppedBy === 'unreachable' ? ' (stopped: the endpoint is unreachable)' : ''}`
    : ''
}

export async function loadCommand(baseUrl: string, opts: LoadCommandOptions): Promise<number> {
  const url = checkBaseUrl(baseUrl)
  if (opts.maxErrorRate > 1)
    throw new HarnessError(
      `--max-error-rate expects a fraction in [0, 1] (0.05 = 5 %), got ${opts.maxErrorRate}`,
    )
  if (opts.body !== undefined && opts.prompts !== undefined)
    throw new HarnessError('give --body FILE (one body for every request) or --prompts FILE, not both')
  if (opts.apiKeyEnv !== undefined && !process.env[opts.apiKeyEnv])
    throw new HarnessError(
      `--api-key-env: the environment variable ${opts.apiKeyEnv} is not set or empty; export it first`,
    )
  const key = opts.apiKeyEnv === undefined ? undefined : process.env[opts.apiKeyEnv]
  // autocannon does not verify certificates: one verified connection first (http-load/tls.ts).
  await verifyTls(url)
  // The key is printed nowhere: every write to stdout and stderr passes the redactor, which now knows it.
  coverSecretsIn([{ apiKeyEnv: opts.apiKeyEnv }])
  let model = opts.model
  if (model === undefined && opts.body === undefined)
    try {
      model = await firstModel(baseUrl, key, MODELS_TIMEOUT_MS)
    } catch (err) {
      throw new HarnessError(
        `no --model given and ${(err as Error).message}; pass --model <id>${key === undefined ? ' (or the key with --api-key-env NAME when the endpoint needs one)' : ''}`,
      )
    }
  const bodies = await openBodySource({
    endpoint: opts.endpoint,
    model: model ?? '',
    ...(opts.body !== undefined ? { bodyFile: opts.body } : {}),
    ...(opts.prompts !== undefined ? { promptsFile: opts.prompts } : {}),
    promptTokens: opts.promptTokens,
    outputTokens: opts.outputTokens,
    fixedOutputLength: opts.fixedOutput,
  })
  // With --body the model is the file's.
  const servedModel =
    model ?? String((JSON.parse(bodies.at(0).body) as { model?: unknown }).model ?? 'unknown')
  // autocannon runs at most `rate` connections under a rate (each with a per-second budget).
  const connections =
    opts.connections ??
    (opts.rate !== undefined ? Math.min(DEFAULT_CONNECTIONS, opts.rate) : DEFAULT_CONNECTIONS)
  const spec: HttpLoadSpec = {
    kind: 'http-load',
    endpoint: opts.endpoint,
    connections: opts.requests !== undefined ? Math.min(connections, opts.requests) : connections,
    ...(opts.rate !== undefined ? { ratePerS: opts.rate } : {}),
    durationS: opts.duration,
    ...(opts.requests !== undefined ? { requests: opts.requests } : {}),
    timeoutS: opts.timeout,
    bodies: bodies.spec,
    tool: `autocannon ${AUTOCANNON_VERSION}`,
  }
  const engineOptions = {
    baseUrl,
    model: servedModel,
    ...(opts.apiKeyEnv !== undefined ? { apiKeyEnv: opts.apiKeyEnv } : {}),
  }
  const source = { name: 'http-load', ...engineOptions, load: spec }
  const endpointUrl = `${baseUrl.replace(/\/+$/, '')}${opts.endpoint === 'chat' ? '/chat/completions' : '/completions'}`

  const [environment, git] = await Promise.all([detectEnvironment(), detectGit()])
  const { sink, database, controller, close } = await openCommandSink(opts.db, 'the load')
  let recorder: RunRecorder | undefined
  let result: HttpLoadResult
  const clockOrigin = performance.now()
  try {
    const meta: RunMeta = {
      scenario: {
        name: 'http-load',
        description: 'bench load',
        hash: createHash('sha256').update(canonicalJson(source)).digest('hex').slice(0, 16),
        source,
      },
      target: { name: 'endpoint' },
      engine: {
        kind: 'openai',
        model: servedModel,
        device: url.host,
        capabilities: { logprobs: false, scoreChoices: false, tokenize: false, memory: false, draft: false },
      },
      engineOptions,
      load: spec,
      loadIndex: 0,
      ...(opts.label !== undefined ? { label: opts.label } : {}),
      startedAtIso: new Date().toISOString(),
      clockOrigin,
      environment,
      git,
      invocationId: randomUUID(),
    }
    recorder = await sink.startRun(meta)
    const tty = process.stderr.isTTY === true
    result = await runHttpLoad({
      url: endpointUrl,
      headers: {
        'content-type': 'application/json',
        ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}),
      },
      body: (position) => bodies.at(position),
      connections: spec.connections,
      ...(opts.rate !== undefined ? { ratePerS: opts.rate } : {}),
      durationS: opts.duration,
      ...(opts.requests !== undefined ? { requests: opts.requests } : {}),
      timeoutS: opts.timeout,
      signal: controller.signal,
      origin: clockOrigin,
      ...(opts.progress
        ? {
            onProgress: (p) =>
              process.stderr.write(
                `${tty ? '\r' : ''}http-load ${p.elapsedS.toFixed(0)}/${opts.duration} s · ${p.responses} responses · ${p.lastSecond.toFixed(0)}/s · ${p.errors} errors${tty ? '' : '\n'}`,
              ),
          }
        : {}),
    })
    if (opts.progress && tty) process.stderr.write('\n')
    // Stored after the load, not during it: the database writes would compete with autocannon for the CPU.
    for (const sample of result.samples) recorder.record(toOutcome(sample))
    const summary = summarizeHttpLoad(result, opts.maxErrorRate)
    const interrupted = result.stoppedBy === 'signal'
    const reason = interrupted
      ? 'interrupted'
      : summary.ok === 0
        ? `no request completed (${summary.attempted} failed, ${result.unfinished} unanswered at the stop): ${formatErrorCounts(summary.errorRate.errorCounts)}${firstFailure(result)}`
        : summary.errorRate.reason
    await recorder.finish(
      interrupted ? 'interrupted' : reason !== undefined ? 'failed' : 'completed',
      httpLoadMetricRows(summary),
      reason,
    )
    const runId = database !== undefined ? recorder.runId : undefined
    recorder = undefined
    const report = outputRedactor().value({
      baseUrl,
      model: servedModel,
      load: spec,
      ...summary,
      stoppedBy: result.stoppedBy,
      autocannon: result.autocannon,
      ...(runId !== undefined ? { runId } : {}),
    })
    process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : formatHttpLoad(report)}\n`)
    if (database && runId !== undefined)
      process.stderr.write(`http-load stored as run ${runId} in ${database.location}\n`)
    if (reason !== undefined) process.stderr.write(`bench: load ${baseUrl}: ${reason}\n`)
    return reason === undefined ? EXIT_OK : EXIT_ERROR
  } finally {
    // A run row whose load threw is closed as failed, never left running.
    await close(recorder, 'the load did not finish')
  }
}
