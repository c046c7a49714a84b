/**
 * `bench run <scenario...>`: validates every scenario first (nothing starts if one is invalid), then runs
 * them in order, streaming results to the sink and printing a table (or JSON / Markdown) on stdout.
 * @module
 */
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { prepareAccuracy } from '../../accuracy/prepare.ts'
import { type LoadedScenario, loadScenario } from '../../config/index.ts'
import { detectEnvironment, detectGit } from '../../environment.ts'
import { ScenarioError } from '../../errors.ts'
import { createJsonlSink, createNullSink } from '../../jsonl-sink.ts'
import { prepareQuality } from '../../quality/prepare.ts'
import { type LoadRunResult, RunInterrupted, runScenario } from '../../runner.ts'
import type { ResultSink } from '../../sink.ts'
import { teeSinks } from '../../tee-sink.ts'
import { EXIT_ERROR, EXIT_OK } from '../action.ts'
import { dbOptions } from '../commands/db.ts'
import { describeRun } from '../describe-run.ts'
import { formatResults, type OutputFormat } from '../format.ts'
import { coverSecretsIn, outputRedactor } from '../output.ts'
import { createProgressReporter } from '../progress.ts'

export interface RunCommandOptions {
  out?: string
  format: OutputFormat
  label?: string
  progress?: boolean
  /** false = keep nothing in a database (--no-db). */
  db?: string | false
  commit?: string
  branch?: string
  mergeBase?: string
  /** Run every scenario this many times in a row (one invocation; each repetition is its own run). @default 1 */
  repeat?: number
  /** Error-rate threshold of every run, overriding each scenario's maxErrorRate. ratio in [0, 1]. */
  maxErrorRate?: number
  /** `--server-metrics`: auto, off or a /metrics URL for every scenario, overriding each one's serverMetrics. */
  serverMetrics?: string
}

/** Loads all scenarios; reports every invalid one together. */
export async function loadScenarios(files: readonly string[]): Promise<LoadedScenario[]> {
  const settled = await Promise.allSettled(files.map((f) => loadScenario(f)))
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []))
  if (failures.length > 0) {
    const scenarioErrors = failures.filter((f): f is ScenarioError => f instanceof ScenarioError)
    if (scenarioErrors.length !== failures.length) throw failures.find((f) => !(f instanceof ScenarioError))
    if (scenarioErrors.length === 1) throw scenarioErrors[0]
    throw new ScenarioError(
      `files (${scenarioErrors.length})`,
      scenarioErrors.flatMap((e) => e.issues.map((i) => ({ ...i, path: `${e.source}: ${i.path}` }))),
    )
  }
  return settled.map((s) => (s as PromiseFulfilledResult<LoadedScenario>).value)
}

/**
 * Every accuracy dataset (and quality corpus) of every scenario read and its items selected before the first run starts: a
 * missing file or bad row in the second scenario must not show up after the first has run. All problems
 * together, each naming its file and field.
 */
export async function checkAccuracyDatasets(loaded: readonly LoadedScenario[]): Promise<void> {
  const settled = await Promise.allSettled([
    ...loaded
      .filter(({ scenario }) => scenario.measure.includes('accuracy') && scenario.accuracy)
      .map(({ scenario, file }) =>
        prepareAccuracy(scenario.accuracy!, {
          baseDir: path.dirname(file),
          scenarioSeed: scenario.seed,
          source: file,
        }),
      ),
    // Quality corpora too (missing, not UTF-8): read before the first run, named quality.corpus.
    ...loaded
      .filter(({ scenario }) => scenario.measure.includes('quality') && scenario.quality)
      .map(async ({ scenario, file }) =>
        prepareQuality(scenario.quality!, { baseDir: path.dirname(file), source: file }),
      ),
  ])
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []))
  if (failures.length === 0) return
  const scenarioErrors = failures.filter((f): f is ScenarioError => f instanceof ScenarioError)
  if (scenarioErrors.length !== failures.length) throw failures.find((f) => !(f instanceof ScenarioError))
  if (scenarioErrors.length === 1) throw scenarioErrors[0]
  throw new ScenarioError(
    `files (${scenarioErrors.length})`,
    scenarioErrors.flatMap((e) => e.issues.map((i) => ({ ...i, path: `${e.source}: ${i.path}` }))),
  )
}

/** Runs scenarios with SIGINT wired to a clean interrupt; returns the exit code. */
export async function runScenarios(files: readonly string[], options: RunCommandOptions): Promise<number> {
  const loaded = await loadScenarios(files)
  await checkAccuracyDatasets(loaded)
  // The scenarios' keys (apiKeyEnv), header values and literal credentials are secrets in every output.
  coverSecretsIn(loaded.map((l) => l.scenario))
  const [environment, git] = await Promise.all([
    detectEnvironment(),
    detectGit({
      overrides: {
        ...(options.commit ? { commit: options.commit } : {}),
        ...(options.branch ? { branch: options.branch } : {}),
        ...(options.mergeBase ? { mergeBase: options.mergeBase } : {}),
      },
    }),
  ])
  // PGlite in a worker thread: its WebAssembly queries would otherwise run on the thread that stamps chunks.
  // The database code (drizzle, PGlite, postgres.js) loads only when results are kept there (not --no-db).
  const where = options.db
  const db = where === false ? undefined : await import('./run-db.ts')
  const database =
    db && where !== false ? await db.createDb({ ...dbOptions(where), embeddedHost: 'worker' }) : undefined
  const sinks: ResultSink[] = []
  if (db && database) sinks.push(db.createPostgresSink(database))
  if (options.out) sinks.push(createJsonlSink(options.out, { redactor: outputRedactor() }))
  const target = sinks.length > 0 ? teeSinks(sinks) : createNullSink()
  const context = { environment, git, invocationId: randomUUID() }
  const controller = new AbortController()
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT_ERROR)
    process.stderr.write('\ninterrupting: finishing in-flight requests (Ctrl-C again to quit at once)\n')
    controller.abort(new RunInterrupted('interrupted by signal'))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const all: LoadRunResult[] = []
  let code = EXIT_OK
  // Repetitions for the gate: it pools an invocation's runs of one fingerprint into one candidate.
  const repetitions = Array.from({ length: options.repeat ?? 1 }, () => loaded).flat()
  try {
    for (const { scenario, file } of repetitions) {
      const result = await runScenario({
        scenario:
          options.serverMetrics === undefined
            ? scenario
            : { ...scenario, serverMetrics: options.serverMetrics },
        baseDir: path.dirname(file),
        source: file,
        sink: target,
        signal: controller.signal,
        context,
        ...(options.label !== undefined ? { label: options.label } : {}),
        ...(options.maxErrorRate !== undefined ? { maxErrorRate: options.maxErrorRate } : {}),
        onEvent: createProgressReporter(options.progress ?? process.stderr.isTTY === true),
      })
      all.push(...result.runs)
      if (result.state !== 'completed') code = EXIT_ERROR
      if (result.state === 'interrupted') break
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await target.close()
    await database?.close()
  }
  // Redacted as data, before formatting: an error message that echoes a key is in every format.
  process.stdout.write(`${formatResults(outputRedactor().value(all), options.format)}\n`)
  // Last on stderr, where a CI log ends: which runs lost requests, of what kinds, how many.
  for (const r of all)
    if (r.errorRateCheck && !r.errorRateCheck.passed)
      process.stderr.write(`bench: ${r.target} / ${describeRun(r.load)}: ${r.errorRateCheck.reason}\n`)
    else if ((r.accuracy || r.load.kind === 'quality') && r.error !== undefined)
      process.stderr.write(`bench: ${r.target} / ${describeRun(r.load)}: ${r.error}\n`)
  if (database) process.stderr.write(`results stored in ${database.location}\n`)
  if (options.out) process.stderr.write(`results written to ${options.out}\n`)
  return code
}
