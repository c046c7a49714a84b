/**
 * `bench sweep`: checks the flags (every --slo before anything starts), finds the model when none is given,
 * opens the database, creates the sweep's row, runs the search (harness/sweep) with every step stored as a
 * run tied to the sweep, then prints the steps and the knee (a table, or --json). Exit 0 when a knee was
 * found, 1 when even the lowest rate fails, the sweep was interrupted, or the input was bad.
 * @module
 */
import { randomUUID } from 'node:crypto'
import { detectEnvironment, detectGit } from '../../environment.ts'
import { HarnessError } from '../../errors.ts'
import { createNullSink } from '../../jsonl-sink.ts'
import { RunInterrupted } from '../../runner.ts'
import type { ResultSink } from '../../sink.ts'
import { parseSloSpecs, SloSpecError, type SweepSlo } from '../../sweep/slo.ts'
import {
  runSweep,
  type SweepOptions,
  type SweepResult,
  type SweepStep,
  stepScenario,
} from '../../sweep/sweep.ts'
import { EXIT_ERROR, EXIT_OK } from '../action.ts'
import { checkBaseUrl } from '../base-url.ts'
import { dbOptions } from '../commands/db.ts'
import { coverSecretsIn, outputRedactor } from '../output.ts'
import { createProgressReporter } from '../progress.ts'

export interface SweepCommandOptions {
  slo?: string[]
  model?: string
  apiKeyEnv?: string
  minRate: number
  maxRate: number
  duration: number
  tolerance: number
  maxSteps: number
  arrivals: 'constant' | 'poisson'
  promptTokens: number
  outputTokens: number
  warmup: number
  requestTimeout: number
  maxErrorRate: number
  name: string
  target: string
  label?: string
  db?: string | false
  progress?: boolean
  json?: boolean
}

/** How long the model lookup (GET /models) may take, ms. */
const MODELS_TIMEOUT_MS = 5000

export async function sweepCommand(baseUrl: string, opts: SweepCommandOptions): Promise<number> {
  let slos: SweepSlo[]
  try {
    slos = parseSloSpecs(opts.slo ?? [])
  } catch (err) {
    if (err instanceof SloSpecError) throw new HarnessError(err.message)
    throw err
  }
  const url = checkBaseUrl(baseUrl)
  if (opts.minRate > opts.maxRate)
    throw new HarnessError(
      `--min-rate ${opts.minRate} is above --max-rate ${opts.maxRate}; give a --max-rate ≥ --min-rate`,
    )
  if (opts.maxErrorRate > 1)
    throw new HarnessError(
      `--max-error-rate expects a fraction in [0, 1] (0.05 = 5 %), got ${opts.maxErrorRate}`,
    )
  if (opts.apiKeyEnv !== undefined && !process.env[opts.apiKeyEnv])
    throw new HarnessError(
      `--api-key-env: the environment variable ${opts.apiKeyEnv} is not set or empty; export it first`,
    )
  const model = opts.model ?? (await firstModel(baseUrl, opts.apiKeyEnv))
  const options: Omit<SweepOptions, 'sink'> = {
    baseUrl,
    model,
    ...(opts.apiKeyEnv !== undefined ? { apiKeyEnv: opts.apiKeyEnv } : {}),
    slos,
    search: {
      minRatePerS: opts.minRate,
      maxRatePerS: opts.maxRate,
      tolerance: opts.tolerance,
      maxSteps: opts.maxSteps,
    },
    durationS: opts.duration,
    arrivals: opts.arrivals,
    promptTokens: opts.promptTokens,
    outputTokens: opts.outputTokens,
    warmupRequests: opts.warmup,
    requestTimeoutMs: opts.requestTimeout * 1000,
    maxErrorRate: opts.maxErrorRate,
    name: opts.name,
    target: opts.target,
    ...(opts.label !== undefined ? { label: opts.label } : {}),
  }
  // A bad --name or --target is a scenario error naming the field, before the database opens.
  const sample = stepScenario({ ...options, sink: createNullSink() }, opts.minRate)
  coverSecretsIn([sample])

  const [environment, git] = await Promise.all([detectEnvironment(), detectGit()])
  const invocationId = randomUUID()
  const db = opts.db === false ? undefined : await import('./sweep-db.ts')
  const database =
    db && opts.db !== false ? await db.createDb({ ...dbOptions(opts.db), embeddedHost: 'worker' }) : undefined
  const sink: ResultSink = db && database ? db.createPostgresSink(database) : createNullSink()
  let sweepId: number | undefined
  const controller = new AbortController()
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT_ERROR)
    process.stderr.write('\ninterrupting: ending the current step (Ctrl-C again to quit at once)\n')
    controller.abort(new RunInterrupted('interrupted by signal'))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const progress = opts.progress !== false && process.stderr.isTTY === true
  let result: SweepResult
  try {
    if (db && database)
      sweepId = await db.insertSweep(database, {
        invocationId,
        scenarioName: opts.name,
        targetName: opts.target,
        baseUrl: withoutCredentials(url),
        model,
        arrivals: opts.arrivals,
        slo: slos,
        options: {
          minRatePerS: opts.minRate,
          maxRatePerS: opts.maxRate,
          tolerance: opts.tolerance,
          maxSteps: opts.maxSteps,
          durationS: opts.duration,
          promptTokens: opts.promptTokens,
          outputTokens: opts.outputTokens,
          warmupRequests: opts.warmup,
          maxErrorRate: opts.maxErrorRate,
        },
        ...(opts.label !== undefined ? { label: opts.label } : {}),
      })
    result = await runSweep({
      ...options,
      sink,
      signal: controller.signal,
      context: { environment, git, invocationId },
      onEvent: createProgressReporter(progress),
      onStepStart: async (runId, index) => {
        if (db && database && sweepId !== undefined)
          await db.tagStepRun(database, Number(runId), sweepId, index).catch((err: unknown) => {
            process.stderr.write(
              `bench: run ${runId} not tied to sweep ${sweepId}: ${err instanceof Error ? err.message : String(err)}\n`,
            )
          })
      },
      onStep: (step) => {
        if (!opts.json) process.stderr.write(`${stepLine(step, slos)}\n`)
      },
    })
    // The runs are the sink's (journaled while the database is away); the sweep row is best effort: a
    // failure to write it is said, and the result is still printed.
    if (db && database && sweepId !== undefined)
      await db
        .finishSweep(database, sweepId, {
          state:
            result.end === 'aborted' ? 'interrupted' : result.knee !== undefined ? 'completed' : 'failed',
          end: result.end,
          ...(result.knee !== undefined ? { kneeRatePerS: result.knee } : {}),
          ...(result.firstFailing !== undefined ? { firstFailingRatePerS: result.firstFailing } : {}),
        })
        .catch((err: unknown) => {
          process.stderr.write(
            `bench: sweep ${sweepId}: its result was not stored (${err instanceof Error ? err.message : String(err)})\n`,
          )
        })
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await sink.close()
    await database?.close()
  }
  const redacted = outputRedactor().value(result)
  process.stdout.write(
    opts.json
      ? `${JSON.stringify({ sweepId: sweepId ?? null, model, slo: slos, ...redacted })}\n`
      : `${formatSweep(redacted, slos)}\n`,
  )
  if (database) process.stderr.write(`sweep ${sweepId} stored in ${database.location}\n`)
  return result.knee !== undefined && result.end !== 'aborted' ? EXIT_OK : EXIT_ERROR
}

function withoutCredentials(url: URL): string {
  const copy = new URL(url.href)
  copy.username = ''
  copy.password = ''
  return copy.href.replace(/\/$/, '')
}

/** The first model the endpoint lists (GET <base-url>/models), for a sweep without --model. */
async function firstModel(baseUrl: string, apiKeyEnv: string | undefined): Promise<string> {
  const key = apiKeyEnv === undefined ? undefined : process.env[apiKeyEnv]
  const where = `${baseUrl.replace(/\/$/, '')}/models`
  let body: unknown
  try {
    const res = await fetch(where, {
      headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(MODELS_TIMEOUT_MS),
    })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    body = await res.json()
  } catch (err) {
    throw new HarnessError(
      `no --model given and GET ${where} failed (${err instanceof Error ? err.message : String(err)}); pass --model <id>`,
    )
  }
  const id = (body as { data?: { id?: unknown }[] })?.data?.[0]?.id
  if (typeof id !== 'string' || id === '')
    throw new HarnessError(`no --model given and GET ${where} lists no model; pass --model <id>`)
  return id
}

const num = (v: number | undefined, digits = 1) => (v === undefined ? '—' : v.toFixed(digits))
/** Rates: up to 3 decimals, trailing zeros dropped (bisection halves). */
const rate = (v: number) => String(Number(v.toFixed(3)))

function stepLine(step: SweepStep, slos: readonly SweepSlo[]): string {
  const values = slos.map((s) => `${s.name} ${num(step.values[s.name])}`).join(', ')
  return `sweep step ${step.index + 1} (${step.phase}): ${rate(step.ratePerS)}/s → ${step.pass ? 'pass' : 'FAIL'}; ${values}${step.reason ? ` (${step.reason})` : ''}`
}

/** The steps as a table (in the order run), then the knee in one sentence. */
export function formatSweep(result: SweepResult, slos: readonly SweepSlo[]): string {
  const extra = slos.filter((s) => s.name !== 'ttftMsP95' && s.name !== 'tpotMsP95')
  const header = [
    'step',
    'phase',
    'rate/s',
    'achieved rps',
    'TTFT p95 ms',
    'TPOT p95 ms',
    ...extra.map((s) => `${s.name} ms`),
    'goodput rps',
    'result',
  ]
  const rows = result.steps.map((s) => [
    String(s.index + 1),
    s.phase,
    rate(s.ratePerS),
    num(s.achievedRps, 2),
    num(s.ttftMsP95),
    num(s.tpotMsP95),
    ...extra.map((e) => num(s.values[e.name])),
    num(s.goodputRequestsPerS, 2),
    // The runner's verdict that the client, not the server, limited the step (harness/METRICS.md).
    `${s.pass ? 'pass' : `FAIL: ${s.reason ?? ''}`}${s.clientSaturated ? ' (client saturated)' : ''}`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const table = [line(header), ...rows.map(line)].join('\n')
  const bounds = slos.map((s) => `${s.name} ≤ ${s.maxMs} ms`).join(', ')
  return `${table}\n\n${kneeSentence(result, bounds)}`
}

function kneeSentence(result: SweepResult, bounds: string): string {
  const pct = `${Number((result.tolerance * 100).toFixed(2))} %`
  switch (result.end) {
    case 'bracketed':
      return `knee: ${rate(result.knee!)} requests/s (the highest rate meeting ${bounds}; ${rate(result.firstFailing!)}/s fails, within ${pct})`
    case 'max-rate':
      return `knee: at least ${rate(result.knee!)} requests/s (--max-rate passed ${bounds}; raise --max-rate to find it)`
    case 'lowest-fails':
      return `no knee: even the lowest rate, ${rate(result.steps[0]?.ratePerS ?? 0)}/s, fails ${bounds} (${result.steps[0]?.reason ?? ''}); lower --min-rate or loosen --slo`
    case 'max-steps':
      return result.knee === undefined
        ? 'no knee: --max-steps ran out before a rate passed'
        : `knee: ${rate(result.knee)} requests/s so far (--max-steps ran out before the bisection reached ${pct}${result.firstFailing !== undefined ? `; ${rate(result.firstFailing)}/s fails` : ''})`
    case 'aborted':
      return `interrupted${result.knee !== undefined ? `: ${rate(result.knee)} requests/s passed so far` : ''}`
    default: {
      const never: never = result.end
      throw new Error(`unknown end ${String(never)}`)
    }
  }
}
