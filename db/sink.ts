/**
 * PostgresSink: the ResultSink that streams results into the database (PostgreSQL or PGlite).
 *
 * - startRun writes the run row (state `running`) before the first request.
 * - record() only buffers; a batch is written when it reaches `batchSize` outcomes or when its oldest
 *   outcome has waited `flushIntervalMs`, one INSERT at a time per run (db/insert-requests.ts), `ON
 *   CONFLICT (run_id, seq) DO NOTHING` so a batch retried after an unseen commit never duplicates.
 * - A failed write is retried with backoff while the run goes on and reported through `onError`; finish()
 *   retries what is left a few more times and then rejects, naming how many outcomes were lost. A row the
 *   database refuses as data (e.g. a value out of range) is isolated and dropped instead of blocking the rest.
 * - While a run is running its heartbeat is refreshed every HEARTBEAT_INTERVAL_MS; a killed process leaves
 *   a `running` run that the next createDb marks `interrupted` (db/liveness.ts).
 * - Every string stored passes through a Redactor (db/redact.ts): no secret at rest.
 * @module
 */
import { eq, inArray, sql } from 'drizzle-orm'
import { flattenMetrics } from '../harness/metrics/flatten.ts'
import type { RunMetrics } from '../harness/metrics/types.ts'
import type { RequestOutcome, RunMeta, RunState } from '../harness/results.ts'
import type { ResultSink, RunRecorder } from '../harness/sink.ts'
import { analyzeAfterBulkWrite } from './analyze.ts'
import type { Db } from './client.ts'
import { runFingerprint, upsertEnvironment, upsertVariant } from './identity.ts'
import { insertRequests } from './insert-requests.ts'
import { HEARTBEAT_INTERVAL_MS } from './liveness.ts'
import { createRedactor, type Redactor } from './redact.ts'
import { type NewRequestRow, type NewRunMetricRow, runMetrics, runs } from './schema.ts'

export interface PostgresSinkOptions {
  /** Outcomes per INSERT. @default 500 */
  batchSize?: number
  /** Longest an outcome waits in memory before its batch is written, ms. @default 250 */
  flushIntervalMs?: number
  /** How often running runs refresh heartbeat_at, ms. @default 1000 */
  heartbeatIntervalMs?: number
  /** Write attempts per batch (and for the final state) inside finish(). @default 5 */
  finishAttempts?: number
  /** Told about each streak of failed writes (they are retried). @default one line on stderr per streak */
  onError?: (error: Error) => void
  /** Source of secret values to redact. @default process.env */
  env?: NodeJS.ProcessEnv
}

/** finish() could not store everything: the run's outcomes or final state are incomplete in the database. */
export class SinkWriteError extends Error {
  override name = 'SinkWriteError'
}

const RETRY_BASE_MS = 100
const RETRY_MAX_MS = 5_000

export function createPostgresSink(db: Db, options: PostgresSinkOptions = {}): ResultSink {
  const batchSize = options.batchSize ?? 500
  const flushIntervalMs = options.flushIntervalMs ?? 250
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS
  const finishAttempts = options.finishAttempts ?? 5
  const env = options.env ?? process.env
  const onError =
    options.onError ??
    ((error: Error) =>
      process.stderr.write(`bench: result database write failed, retrying: ${error.message}\n`))

  const live = new Map<number, RunWriter>()
  let heartbeatTimer: NodeJS.Timeout | undefined
  let heartbeatInFlight = false
  let heartbeatFailing = false

  const heartbeat = async () => {
    if (heartbeatInFlight || live.size === 0) return
    heartbeatInFlight = true
    try {
      await db
        .update(runs)
        .set({ heartbeatAt: sql`now()` })
        .where(inArray(runs.id, [...live.keys()]))
      heartbeatFailing = false
    } catch (err) {
      if (!heartbeatFailing) onError(new Error(`heartbeat: ${describe(err)}`, { cause: err }))
      heartbeatFailing = true
    } finally {
      heartbeatInFlight = false
    }
  }
  const track = (writer: RunWriter) => {
    live.set(writer.runId, writer)
    if (!heartbeatTimer) {
      heartbeatTimer = setInterval(() => void heartbeat(), heartbeatIntervalMs)
      // A recorder someone forgot to finish must not keep the process alive.
      heartbeatTimer.unref()
    }
  }
  const untrack = (writer: RunWriter) => {
    live.delete(writer.runId)
    if (live.size === 0 && heartbeatTimer) {
      clearInterval(heartbeatTimer)
      heartbeatTimer = undefined
    }
  }

  return {
    async startRun(meta: RunMeta): Promise<RunRecorder> {
      const redact = createRedactor(env, [meta.scenario.source, meta.engineOptions])
      const clean: RunMeta = {
        ...meta,
        scenario: { ...meta.scenario, source: redact.value(meta.scenario.source ?? {}) },
        engineOptions: redact.value(meta.engineOptions),
        ...(meta.label !== undefined ? { label: redact.text(meta.label) } : {}),
      }
      const variantId = clean.variant ? await upsertVariant(db, redact.value(clean.variant)) : null
      const environmentId = clean.environment ? await upsertEnvironment(db, clean.environment) : null
      const [row] = await db
        .insert(runs)
        .values({
          invocationId: clean.invocationId ?? null,
          scenarioName: clean.scenario.name,
          scenarioHash: clean.scenario.hash,
          scenario: clean.scenario.source,
          targetName: clean.target.name,
          variantId,
          environmentId,
          engineKind: clean.engine.kind,
          engineVersion: clean.engine.engineVersion ?? null,
          engineModel: redact.text(clean.engine.model),
          engineDevice: clean.engine.device ?? null,
          engineOptions: clean.engineOptions,
          load: clean.load,
          loadKind: clean.load.kind,
          loadIndex: clean.loadIndex,
          label: clean.label ?? null,
          fingerprint: runFingerprint(clean),
          gitCommit: clean.git?.commit ?? null,
          gitBranch: clean.git?.branch ?? null,
          gitMergeBase: clean.git?.mergeBase ?? null,
          state: 'running',
          startedAt: new Date(clean.startedAtIso),
        })
        .returning({ id: runs.id })
      if (!row) throw new Error('inserting the run row returned no id')
      const writer = new RunWriter(db, row.id, redact, {
        batchSize,
        flushIntervalMs,
        finishAttempts,
        onError,
      })
      track(writer)
      return {
        runId: String(row.id),
        record: (outcome) => writer.record(outcome),
        finish: async (state, metrics, error) => {
          try {
            await writer.finish(state, metrics, error)
            await analyzeAfterBulkWrite(db) // PGlite never analyzes on its own (db/analyze.ts, issue 14)
          } finally {
            untrack(writer)
          }
        },
      }
    },
    async close() {
      if (heartbeatTimer) clearInterval(heartbeatTimer)
      heartbeatTimer = undefined
      // Unfinished runs keep state `running` (their heartbeat stops, so they will read as interrupted),
      // but what they recorded is written.
      await Promise.allSettled([...live.values()].map(async (w) => void (await w.drain())))
      live.clear()
    },
  }
}

interface WriterOptions {
  batchSize: number
  flushIntervalMs: number
  finishAttempts: number
  onError: (error: Error) => void
}

class RunWriter {
  #pending: NewRequestRow[] = []
  /** performance.now() of the oldest outcome not yet taken for writing. */
  #oldestAt: number | undefined
  #timer: NodeJS.Timeout | undefined
  #timerDueAt = Number.POSITIVE_INFINITY
  #flushing: Promise<void> | undefined
  #failures = 0
  #retryAt = 0
  #finished = false
  #rejected: { seq: number; reason: string }[] = []
  #lastError: unknown

  constructor(
    private readonly db: Db,
    readonly runId: number,
    private readonly redact: Redactor,
    private readonly options: WriterOptions,
  ) {}

  record(outcome: RequestOutcome): void {
    if (this.#finished) {
      this.options.onError(
        new Error(`run ${this.runId}: outcome ${outcome.seq} recorded after finish() was dropped`),
      )
      return
    }
    try {
      this.#pending.push(toRequestRow(this.runId, outcome, this.redact))
    } catch (err) {
      this.#rejected.push({ seq: outcome.seq, reason: describe(err) })
      return
    }
    this.#oldestAt ??= performance.now()
    this.#schedule()
  }

  /** Writes when a batch is full or its oldest outcome is due; otherwise sets a timer for when it will be. */
  #schedule(): void {
    if (this.#flushing || this.#pending.length === 0) return
    const now = performance.now()
    const dueAt = Math.max(
      (this.#oldestAt ?? now) +
        (this.#pending.length >= this.options.batchSize ? 0 : this.options.flushIntervalMs),
      this.#retryAt,
    )
    if (dueAt > now) {
      if (dueAt >= this.#timerDueAt) return
      clearTimeout(this.#timer)
      this.#timerDueAt = dueAt
      this.#timer = setTimeout(() => this.#fire(), dueAt - now)
      return
    }
    this.#fire()
  }

  #fire(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerDueAt = Number.POSITIVE_INFINITY
    if (this.#flushing || this.#pending.length === 0) return
    this.#flushing = this.#flushOnce().then(() => {
      this.#flushing = undefined
      if (!this.#finished) this.#schedule()
    })
  }

  /** Writes one batch; on failure puts it back and sets the next retry time. Never throws. */
  async #flushOnce(): Promise<boolean> {
    const batch = this.#pending.splice(0, this.options.batchSize)
    const oldestAt = this.#oldestAt
    this.#oldestAt = this.#pending.length > 0 ? oldestAt : undefined
    try {
      await this.#insert(batch)
      this.#failures = 0
      this.#retryAt = 0
      return true
    } catch (err) {
      this.#pending.unshift(...batch)
      this.#oldestAt = oldestAt
      this.#lastError = err
      if (this.#failures === 0)
        this.options.onError(new Error(`run ${this.runId}: ${describe(err)}`, { cause: err }))
      this.#failures++
      this.#retryAt = performance.now() + Math.min(RETRY_BASE_MS * 2 ** this.#failures, RETRY_MAX_MS)
      return false
    }
  }

  async #insert(batch: NewRequestRow[]): Promise<void> {
    try {
      await insertRequests(this.db, batch)
    } catch (err) {
      if (!isDataError(err)) throw err
      // One bad row must not hold back the others: write them one by one and drop what is refused.
      for (const row of batch) {
        try {
          await insertRequests(this.db, [row])
        } catch (rowErr) {
          if (!isDataError(rowErr)) throw rowErr
          this.#rejected.push({ seq: row.seq, reason: describe(rowErr) })
        }
      }
    }
  }

  /** Stops taking outcomes and writes what is buffered, retrying up to finishAttempts times per batch; false if something is left. */
  async drain(): Promise<boolean> {
    this.#finished = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#flushing
    let attempts = 0
    while (this.#pending.length > 0) {
      if (await this.#flushOnce()) attempts = 0
      else if (++attempts >= this.options.finishAttempts) return false
      else await delay(Math.min(RETRY_BASE_MS * 2 ** attempts, RETRY_MAX_MS))
    }
    return true
  }

  async finish(
    state: Exclude<RunState, 'running'>,
    metrics: RunMetrics | undefined,
    error?: string,
  ): Promise<void> {
    const drained = await this.drain()
    const problems: string[] = []
    if (!drained)
      problems.push(
        `${this.#pending.length} outcomes could not be written (last error: ${describe(this.#lastError)})`,
      )
    if (this.#rejected.length > 0)
      problems.push(
        `${this.#rejected.length} outcomes were refused by the database (seq ${this.#rejected
          .slice(0, 5)
          .map((r) => `${r.seq}: ${r.reason}`)
          .join('; ')}${this.#rejected.length > 5 ? ' …' : ''})`,
      )
    const metricRows: NewRunMetricRow[] = metrics
      ? flattenMetrics(metrics)
          // NaN/Infinity (e.g. a rate over an empty window) would poison aggregates: such figures are absent.
          .filter((m) => Number.isFinite(m.value))
          .map((m) => ({ runId: this.runId, ...m, n: Math.round(m.n) }))
      : []
    const storedError = [error, ...problems]
      .filter((e): e is string => e !== undefined && e !== '')
      .join('; ')
    // The state stays what the run was: its metrics were computed from every outcome, in memory. A loss is
    // stated in `error` and by the rejection below.
    const finalState = state
    let lastFinalError: unknown
    for (let attempt = 1; attempt <= this.options.finishAttempts; attempt++) {
      try {
        await this.db.transaction(async (tx) => {
          if (metricRows.length > 0)
            await tx
              .insert(runMetrics)
              .values(metricRows)
              .onConflictDoNothing({ target: [runMetrics.runId, runMetrics.name] })
          await tx
            .update(runs)
            .set({
              state: finalState,
              error: storedError === '' ? null : this.redact.text(storedError),
              finishedAt: sql`now()`,
              heartbeatAt: sql`now()`,
            })
            .where(eq(runs.id, this.runId))
        })
        lastFinalError = undefined
        break
      } catch (err) {
        lastFinalError = err
        if (attempt < this.options.finishAttempts)
          await delay(Math.min(RETRY_BASE_MS * 2 ** attempt, RETRY_MAX_MS))
      }
    }
    if (lastFinalError !== undefined)
      problems.push(
        `the final state (${finalState}) and metrics could not be written: ${describe(lastFinalError)}`,
      )
    if (problems.length > 0)
      throw new SinkWriteError(`run ${this.runId}: ${problems.join('; ')}`, { cause: this.#lastError })
  }
}

// Full object literals, no spreads: this runs once per request and a spread made it 30× slower.
/** The `requests` row of one outcome; exported for bulk writers (test/bench) that bypass the sink. */
export function toRequestRow(runId: number, o: RequestOutcome, redact: Redactor): NewRequestRow {
  if (o.state === 'ok')
    return {
      runId,
      seq: int(o.seq) ?? 0,
      promptIndex: int(o.promptIndex) ?? 0,
      scheduledAtMs: o.scheduledAt,
      startedAtMs: o.startedAt,
      state: 'ok',
      errorKind: null,
      httpStatus: null,
      message: null,
      ttftMs: o.ttftMs,
      e2eMs: o.e2eMs,
      chunks: int(o.chunks),
      promptTokens: int(o.promptTokens),
      outputTokens: int(o.outputTokens),
      tokensSource: o.tokensSource,
      serverOutputTokens: int(o.serverOutputTokens),
      tokenizerOutputTokens: int(o.tokenizerOutputTokens),
      finishReason: o.finishReason === undefined ? null : redact.text(o.finishReason),
      serverTimings: o.serverTimings ? (o.serverTimings as Record<string, number>) : null,
      connectionRetries: int(o.connectionRetries) ?? 0,
      chunkGapsMs: o.chunkGapsMs,
    }
  return {
    runId,
    seq: int(o.seq) ?? 0,
    promptIndex: int(o.promptIndex) ?? 0,
    scheduledAtMs: o.scheduledAt,
    startedAtMs: o.startedAt,
    state: 'error',
    errorKind: o.error.kind,
    httpStatus: int(o.error.status),
    message: redact.text(o.error.message),
    ttftMs: o.ttftMs ?? null,
    e2eMs: o.e2eMs ?? null,
    chunks: int(o.chunks),
    promptTokens: null,
    outputTokens: null,
    tokensSource: null,
    serverOutputTokens: null,
    tokenizerOutputTokens: null,
    finishReason: null,
    serverTimings: null,
    connectionRetries: int(o.connectionRetries) ?? 0,
    chunkGapsMs: null,
  }
}

/** Integer columns get integers (a fractional count from an engine would refuse the whole batch). */
function int(v: number | undefined): number | null {
  return v === undefined || !Number.isFinite(v) ? null : Math.round(v)
}

/** SQLSTATE class 22 (data exception) or 23 (integrity violation): retrying the same row cannot help. */
function isDataError(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true
  }
  return false
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  // Drizzle wraps driver errors as "Failed query: <sql>"; the cause says what went wrong.
  return err.cause instanceof Error ? `${err.cause.message}` : err.message
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
