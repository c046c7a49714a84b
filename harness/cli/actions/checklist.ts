/**
 * `bench checklist`: checks the flags and thresholds, finds the model when none is given, opens the
 * database and writes the checklist's run row, measures every item (harness/checklist), stores the items as
 * the run's metric rows and prints them (a table, Markdown or JSON). Exit 1 on any FAIL, on Ctrl-C and on
 * bad input; 0 otherwise (WARN included).
 * @module
 */
import { randomUUID } from 'node:crypto'
import { checklistScenario, firstModel, runChecklist } from '../../checklist/checklist.ts'
import {
  checklistMetricRows,
  checklistReport,
  formatJson,
  formatMarkdown,
  formatTable,
} from '../../checklist/format.ts'
import { readThresholdsFile, resolveThresholds } from '../../checklist/thresholds.ts'
import { scenarioHash } from '../../config/index.ts'
import { detectEnvironment, detectGit } from '../../environment.ts'
import { HarnessError } from '../../errors.ts'
import type { ChecklistSpec, RunMeta } from '../../results.ts'
import { RunInterrupted } from '../../runner.ts'
import type { RunRecorder } from '../../sink.ts'
import { EXIT_ERROR, EXIT_OK } from '../action.ts'
import { checkBaseUrl } from '../base-url.ts'
import { coverSecretsIn, outputRedactor } from '../output.ts'
import { openCommandSink } from './command-sink.ts'

export interface ChecklistCommandOptions {
  model?: string
  apiKeyEnv?: string
  format: 'table' | 'md' | 'json'
  thresholds?: string
  ttftP50Ms?: number
  ttftP95Ms?: number
  ttftP99Ms?: number
  minDecodeTokS?: number
  minQps?: number
  maxErrorRate?: number
  concurrency: number
  requests: number
  sequentialRequests: number
  promptTokens: number
  outputTokens: number
  maxLoadS: number
  burst: number
  burstConcurrency: number
  burstS: number
  requestTimeout: number
  label?: string
  db?: string | false
}

/** Bound on each health, auth or model-list request, ms. */
const PROBE_TIMEOUT_MS = 5000

export async function checklistCommand(baseUrl: string, opts: ChecklistCommandOptions): Promise<number> {
  const url = checkBaseUrl(baseUrl)
  const thresholds = resolveThresholds(
    opts.thresholds !== undefined ? readThresholdsFile(opts.thresholds) : undefined,
    {
      ttftMsP50: opts.ttftP50Ms,
      ttftMsP95: opts.ttftP95Ms,
      ttftMsP99: opts.ttftP99Ms,
      minDecodeTokensPerS: opts.minDecodeTokS,
      minQps: opts.minQps,
      maxErrorRate: opts.maxErrorRate,
    },
  )
  if (opts.apiKeyEnv !== undefined && !process.env[opts.apiKeyEnv])
    throw new HarnessError(
      `--api-key-env: the environment variable ${opts.apiKeyEnv} is not set or empty; export it first`,
    )
  const key = opts.apiKeyEnv === undefined ? undefined : process.env[opts.apiKeyEnv]
  // The key is printed nowhere: every write to stdout and stderr passes the redactor, which now knows it.
  coverSecretsIn([{ apiKeyEnv: opts.apiKeyEnv }])
  let model = opts.model
  if (model === undefined)
    try {
      model = await firstModel(baseUrl, key, PROBE_TIMEOUT_MS)
    } catch (err) {
      throw new HarnessError(
        `no --model given and ${(err as Error).message}; pass --model <id>${key === undefined ? ' (or the key with --api-key-env NAME when the endpoint needs one)' : ''}`,
      )
    }
  const base = {
    baseUrl,
    model,
    ...(opts.apiKeyEnv !== undefined ? { apiKeyEnv: opts.apiKeyEnv } : {}),
    promptTokens: opts.promptTokens,
    outputTokens: opts.outputTokens,
    requestTimeoutMs: opts.requestTimeout * 1000,
  }
  const scenario = checklistScenario(base, [
    { kind: 'sequential', requests: opts.sequentialRequests, durationS: opts.maxLoadS },
    { kind: 'concurrent', concurrency: opts.concurrency, requests: opts.requests, durationS: opts.maxLoadS },
  ])
  const spec: ChecklistSpec = {
    kind: 'checklist',
    concurrency: opts.concurrency,
    requests: opts.requests,
    sequentialRequests: opts.sequentialRequests,
    promptTokens: opts.promptTokens,
    outputTokens: opts.outputTokens,
    burstRequests: opts.burst,
    burstS: opts.burstS,
    thresholds: { ...thresholds },
  }

  const [environment, git] = await Promise.all([detectEnvironment(), detectGit()])
  const { sink, database, controller, close } = await openCommandSink(
    opts.db,
    'the checklist',
    () => new RunInterrupted('interrupted by signal'),
  )
  let recorder: RunRecorder | undefined
  let report: ReturnType<typeof checklistReport>
  let interrupted = false
  try {
    const meta: RunMeta = {
      scenario: {
        name: 'checklist',
        description: 'bench checklist',
        hash: scenarioHash(scenario),
        source: scenario,
      },
      target: { name: 'endpoint' },
      engine: {
        kind: 'openai',
        model,
        device: url.host,
        capabilities: { logprobs: false, scoreChoices: false, tokenize: false, memory: false, draft: false },
      },
      engineOptions: {
        baseUrl,
        model,
        ...(opts.apiKeyEnv !== undefined ? { apiKeyEnv: opts.apiKeyEnv } : {}),
      },
      load: spec,
      loadIndex: 0,
      ...(opts.label !== undefined ? { label: opts.label } : {}),
      startedAtIso: new Date().toISOString(),
      clockOrigin: performance.now(),
      environment,
      git,
      invocationId: randomUUID(),
    }
    recorder = await sink.startRun(meta)
    const result = await runChecklist({
      ...base,
      thresholds,
      concurrency: opts.concurrency,
      requests: opts.requests,
      sequentialRequests: opts.sequentialRequests,
      maxLoadS: opts.maxLoadS,
      burstRequests: opts.burst,
      burstConcurrency: opts.burstConcurrency,
      burstS: opts.burstS,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
      signal: controller.signal,
    })
    interrupted = result.interrupted || controller.signal.aborted
    report = checklistReport(
      baseUrl,
      model,
      result.items,
      database !== undefined ? recorder.runId : undefined,
    )
    const failed = result.items.filter((i) => i.verdict === 'FAIL').map((i) => i.id)
    const rows = checklistMetricRows(result.items)
    await recorder.finish(
      interrupted ? 'interrupted' : failed.length > 0 ? 'failed' : 'completed',
      rows,
      interrupted ? 'interrupted' : failed.length > 0 ? `checklist: FAIL ${failed.join(', ')}` : undefined,
    )
    recorder = undefined
  } finally {
    // A run row whose checklist threw is closed as failed, never left running.
    await close(recorder, 'the checklist did not finish')
  }
  const clean = outputRedactor().value(report)
  const text =
    opts.format === 'json'
      ? formatJson(clean)
      : opts.format === 'md'
        ? formatMarkdown(clean)
        : formatTable(clean)
  process.stdout.write(`${text}\n`)
  if (database && report.runId !== undefined)
    process.stderr.write(`checklist stored as run ${report.runId} in ${database.location}\n`)
  return report.passed && !interrupted ? EXIT_OK : EXIT_ERROR
}
