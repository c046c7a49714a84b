/**
 * The seeded results history the database benchmarks load (test/bench/db.ts, test/bench/dashboard.ts):
 * runs spread evenly over HISTORY_DAYS of five scenarios × five targets (three variants of one model and a
 * pruned one on llama-cpp, a remote endpoint on a GPU machine) × two loads, 80 % on main, the engine
 * upgraded two thirds of the way through, 94 % completed / 3 % failed / 3 % interrupted; streamed-chat
 * outcomes per run, and the bulk writer that stores them without the sink. Everything is drawn from the
 * one Random passed in, in a fixed order: the history is a function of the seed and the options.
 * @module
 */
import { performance } from 'node:perf_hooks'
import { sql } from 'drizzle-orm'
import type { Database } from '../../db/client.ts'
import { runFingerprint, upsertEnvironment, upsertVariant } from '../../db/identity.ts'
import { insertRequests } from '../../db/insert-requests.ts'
import type { Redactor } from '../../db/redact.ts'
import { toRequestRow } from '../../db/request-rows.ts'
import { type NewRequestRow, type NewRun, runs } from '../../db/schema.ts'
import type { EngineKind } from '../../harness/engines/engine.ts'
import type { MetricRow } from '../../harness/metrics/types.ts'
import type { Random } from '../../harness/random.ts'
import type { EnvironmentInfo, RequestOutcome, RunMeta, VariantIdentity } from '../../harness/results.ts'

export const SCENARIOS = ['chat-short', 'long-context', 'endpoint-sweep', 'ci-gate', 'quickstart']
export const TARGETS = ['tiny-f32', 'tiny-q8', 'tiny-q4', 'tiny-pruned', 'remote-a']
const LOADS: RunMeta['load'][] = [
  { kind: 'concurrent', concurrency: 1, requests: 100 },
  { kind: 'concurrent', concurrency: 8, requests: 100 },
]
const FEATURE_BRANCHES = Array.from({ length: 10 }, (_, i) => `feature-${i}`)
const HISTORY_DAYS = 120
const cpuBox: EnvironmentInfo = {
  cpuModel: 'Bench CPU @ 2.0GHz',
  cores: 2,
  ramBytes: 24 * 1024 ** 3,
  gpus: [],
  os: 'Linux bench x64',
  nodeVersion: process.version,
  engineVersions: { 'node-llama-cpp': '3.21.1' },
}
const gpuBox: EnvironmentInfo = {
  ...cpuBox,
  cpuModel: 'Server CPU',
  cores: 32,
  gpus: [{ name: 'Bench GPU 80GB' }],
}
const baseVariant: VariantIdentity = { name: 'tiny', method: 'base', format: 'gguf', sha256: 'a'.repeat(64) }
const variantOf = (target: string): VariantIdentity | undefined =>
  target === 'remote-a'
    ? undefined
    : target === 'tiny-f32'
      ? baseVariant
      : {
          name: target,
          method: target === 'tiny-pruned' ? 'pruned' : 'quantized',
          format: 'gguf',
          ...(target === 'tiny-pruned' ? {} : { quantLabel: target === 'tiny-q8' ? 'Q8_0' : 'Q4_0' }),
          sha256: Buffer.from(target).toString('hex').padEnd(64, '0'),
          parent: baseVariant,
        }

export interface RunPlan {
  meta: RunMeta
  state: 'completed' | 'failed' | 'interrupted'
  /** Request rows of the run; planRuns leaves 0, each benchmark spreads its own total. */
  requests: number
}

/** `runs` runs in time order over HISTORY_DAYS; draws 6 numbers per run from `random`. */
export function planRuns(random: Random, runs: number): RunPlan[] {
  const start = Date.parse('2026-07-01T00:00:00Z')
  const stepMs = (HISTORY_DAYS * 86_400_000) / runs
  const plans: RunPlan[] = []
  for (let i = 0; i < runs; i++) {
    const scenario = SCENARIOS[random.int(0, SCENARIOS.length - 1)]!
    const target = TARGETS[random.int(0, TARGETS.length - 1)]!
    const loadIndex = random.int(0, LOADS.length - 1)
    // The engine is upgraded two thirds of the way through: a second fingerprint for every series.
    const engineVersion = i < (runs * 2) / 3 ? '1.4.0' : '1.5.0'
    const branch =
      random.next() < 0.8 ? 'main' : FEATURE_BRANCHES[random.int(0, FEATURE_BRANCHES.length - 1)]!
    const roll = random.next()
    const variant = variantOf(target)
    const kind: EngineKind = target === 'remote-a' ? 'openai' : 'llama-cpp'
    plans.push({
      meta: {
        scenario: { name: scenario, hash: `hash-${scenario}`, source: { name: scenario } },
        target: { name: target },
        engine: {
          kind,
          engineVersion,
          model: target,
          capabilities: {
            logprobs: false,
            scoreChoices: false,
            tokenize: false,
            memory: kind === 'llama-cpp',
            draft: false,
          },
        },
        engineOptions: { kind, model: target },
        load: LOADS[loadIndex]!,
        loadIndex,
        startedAtIso: new Date(start + i * stepMs).toISOString(),
        clockOrigin: 0,
        environment: kind === 'openai' ? gpuBox : cpuBox,
        git: { commit: (0x100000 + i).toString(16).padStart(40, '0'), branch },
        ...(variant ? { variant } : {}),
      },
      state: roll < 0.94 ? 'completed' : roll < 0.97 ? 'failed' : 'interrupted',
      requests: 0,
    })
  }
  return plans
}

/** What the generated outcomes hold besides gamma TTFTs, 16–64 tokens and 1 % errors. */
export interface OutcomeShape {
  /** One chunk in ten carries two tokens (so chunks < tokens), as some servers stream. */
  twoTokenChunks: boolean
  /** Half the errors are timeouts rather than HTTP 503. */
  timeouts: boolean
}

/** Outcomes shaped like a streamed chat run at `concurrency` (TTFT grows with it). */
export function outcomesOf(
  random: Random,
  n: number,
  concurrency: number,
  shape: OutcomeShape,
): RequestOutcome[] {
  const outcomes: RequestOutcome[] = []
  let clock = 0
  for (let seq = 0; seq < n; seq++) {
    const startedAt = clock
    clock += random.gamma(2, 10)
    if (random.next() < 0.01) {
      outcomes.push({
        state: 'error',
        seq,
        promptIndex: seq % 50,
        scheduledAt: startedAt,
        startedAt,
        error:
          shape.timeouts && random.next() >= 0.5
            ? { kind: 'timeout', message: 'timed out' }
            : { kind: 'http', status: 503, message: 'Service Unavailable' },
      })
      continue
    }
    const ttftMs = random.gamma(4, 20 * concurrency)
    const outputTokens = random.int(16, 64)
    const gaps: number[] = []
    for (let produced = 1; produced < outputTokens; ) {
      const burst = shape.twoTokenChunks && random.next() < 0.1 && produced + 2 <= outputTokens ? 2 : 1
      gaps.push(random.gamma(8, 1.5) * burst)
      produced += burst
    }
    let e2eMs = ttftMs
    for (const g of gaps) e2eMs += g
    outcomes.push({
      state: 'ok',
      seq,
      promptIndex: seq % 50,
      scheduledAt: startedAt,
      startedAt,
      ttftMs,
      e2eMs,
      chunkGapsMs: gaps,
      chunks: gaps.length + 1,
      promptTokens: random.int(64, 512),
      outputTokens,
      tokensSource: 'server',
      finishReason: 'length',
    })
  }
  return outcomes
}

/** Clients of a run's load: what its TTFTs scale with. */
export function concurrencyOf(meta: RunMeta): number {
  return meta.load.kind === 'concurrent' ? meta.load.concurrency : 1
}

export interface WriteHistoryOptions {
  /** Draws every run's outcomes, in plan order. */
  random: Random
  outcomes: OutcomeShape
  /** Metric rows of a run that was not interrupted, from its outcomes. */
  metricsOf(plan: RunPlan, outcomes: RequestOutcome[]): Iterable<MetricRow>
  /** Called after every 2,000 runs written. */
  progress?(written: number, total: number): void
}

// Seeded strings hold no secrets.
const keepAll: Redactor = { text: (s) => s, value: (v) => v }

/**
 * Writes the plans without the sink: run rows 500 at a time, request rows in 10 k batches (INSERT …
 * unnest), metric rows per 500 runs.
 */
export async function writeHistory(db: Database, plans: readonly RunPlan[], options: WriteHistoryOptions) {
  const started = performance.now()
  const environmentIds = new Map<EnvironmentInfo, number>()
  const variantIds = new Map<string, number>()
  for (const { meta } of plans) {
    if (meta.environment && !environmentIds.has(meta.environment))
      environmentIds.set(meta.environment, await upsertEnvironment(db, meta.environment))
    if (meta.variant && !variantIds.has(meta.target.name))
      variantIds.set(meta.target.name, await upsertVariant(db, meta.variant))
  }
  let requestRows = 0
  let metricRows = 0
  for (let i = 0; i < plans.length; i += 500) {
    const chunk = plans.slice(i, i + 500)
    const values: NewRun[] = chunk.map((p) => {
      const startedAt = new Date(p.meta.startedAtIso)
      return {
        scenarioName: p.meta.scenario.name,
        scenarioHash: p.meta.scenario.hash,
        scenario: p.meta.scenario.source,
        targetName: p.meta.target.name,
        variantId: variantIds.get(p.meta.target.name) ?? null,
        environmentId: p.meta.environment ? (environmentIds.get(p.meta.environment) ?? null) : null,
        engineKind: p.meta.engine.kind,
        engineVersion: p.meta.engine.engineVersion ?? null,
        engineModel: p.meta.engine.model,
        engineDevice: null,
        engineOptions: p.meta.engineOptions,
        load: p.meta.load,
        loadKind: p.meta.load.kind,
        loadIndex: p.meta.loadIndex,
        fingerprint: runFingerprint(p.meta),
        gitCommit: p.meta.git?.commit ?? null,
        gitBranch: p.meta.git?.branch ?? null,
        state: p.state,
        error: p.state === 'completed' ? null : 'seeded failure',
        startedAt,
        finishedAt: new Date(startedAt.getTime() + 60_000),
        heartbeatAt: new Date(startedAt.getTime() + 60_000),
      }
    })
    const ids = (await db.insert(runs).values(values).returning({ id: runs.id })).map((r) => r.id)
    let batch: NewRequestRow[] = []
    const metrics: (MetricRow & { runId: number })[] = []
    for (const [k, p] of chunk.entries()) {
      const runId = ids[k]!
      const outcomes = outcomesOf(options.random, p.requests, concurrencyOf(p.meta), options.outcomes)
      for (const o of outcomes) batch.push(toRequestRow(runId, o, keepAll))
      if (p.state !== 'interrupted')
        for (const m of options.metricsOf(p, outcomes)) metrics.push({ ...m, runId })
      if (batch.length >= 10_000) {
        await insertRequests(db, batch)
        requestRows += batch.length
        batch = []
      }
    }
    await insertRequests(db, batch)
    requestRows += batch.length
    await insertMetricRows(db, metrics)
    metricRows += metrics.length
    if ((i / 500) % 4 === 3) options.progress?.(i + chunk.length, plans.length)
  }
  return { runs: plans.length, requestRows, metricRows, seconds: (performance.now() - started) / 1000 }
}

/** run_metrics rows as one INSERT … unnest per call (a VALUES list would exceed 65 535 parameters). */
async function insertMetricRows(db: Database, rows: (MetricRow & { runId: number })[]) {
  if (rows.length === 0) return
  await db.execute(sql`
    insert into run_metrics (run_id, name, value, unit, direction, n)
    select * from unnest(
      ${sql.param(rows.map((r) => r.runId))}::int[], ${sql.param(rows.map((r) => r.name))}::text[],
      ${sql.param(rows.map((r) => r.value))}::float8[], ${sql.param(rows.map((r) => r.unit))}::text[],
      ${sql.param(rows.map((r) => r.direction))}::text[], ${sql.param(rows.map((r) => Math.round(r.n)))}::int[])`)
}
