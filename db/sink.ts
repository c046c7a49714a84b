/**
 * PostgresSink: the ResultSink that streams results into the database (PostgreSQL or PGlite).
 *
 * - startRun writes the run row (state `running`) before the first request; while the database is away it
 *   retries for up to `finishWaitMs` (nothing is measured yet, so nothing can be lost), then throws.
 * - record() only buffers; a batch is written when it reaches `batchSize` outcomes or when its oldest
 *   outcome has waited `flushIntervalMs`, one INSERT at a time per run (db/insert-requests.ts), `ON
 *   CONFLICT (run_id, seq) DO NOTHING` so a batch retried after an unseen commit never duplicates.
 *   recordItem() does the same for an accuracy run's items (db/accuracy-items.ts), in the same batches,
 *   journal and replay: everything said here of outcomes holds for items.
 * - serverMetrics() (the endpoint's /metrics over the run, handed over before finish) is written at once in
 *   one transaction (db/server-metrics.ts); while the database is away it spills like a batch: journaled
 *   (redacted, as stored) and written by the replay loop after the rows and before the final state. finish()
 *   waits for it to be stored or journaled before writing the final state, so no reader sees a finished
 *   run whose server metrics are silently missing: a record the database refuses as data is said in the
 *   run's stored error (never thrown: server metrics must not cost the run).
 * - When a write fails because the database is away, the batch — and every later batch, and the metrics
 *   and final state — spills to the run's journal (db/journal.ts: an append-only file, fsync'd per batch)
 *   and is kept in memory; one replay loop per run retries (backoff 0.2 s doubling to 1 s) and writes the
 *   spilled rows in order as soon as the database answers, then deletes the journal and goes back to
 *   writing directly. finish() waits for the replay up to `finishWaitMs` (BENCH_DB_WAIT_S, default 120 s),
 *   saying every 5 s what is pending; if the database is still away then, finish() resolves anyway — the
 *   run's result is known and safe in the journal, which the next command that opens this database writes
 *   (db/client.ts) — and says so on stderr. finish() rejects only for a real loss: rows the database
 *   refused as data (isolated and dropped so they do not block the rest), or a spill that could not be
 *   journaled and never reached the database.
 * - While a run is running its heartbeat is refreshed every HEARTBEAT_INTERVAL_MS; a killed process leaves
 *   a `running` run that the next createDb marks `interrupted` (db/liveness.ts).
 * - Every string stored passes through a Redactor (db/redact.ts): no secret at rest, nor in the journal.
 * @module
 */
import { inArray, sql } from 'drizzle-orm'
import { HarnessError } from '../harness/errors.ts'
import { flattenMetrics } from '../harness/metrics/flatten.ts'
import type { ItemOutcome, RequestOutcome, RunMeta, RunState } from '../harness/results.ts'
import type { ServerMetricsRecord } from '../harness/server-metrics/session.ts'
import type { ResultSink, RunFigures, RunRecorder } from '../harness/sink.ts'
import { toItemRow } from './accuracy-items.ts'
import { analyzeAfterBulkWrite } from './analyze.ts'
import type { Db, DbDriver } from './client.ts'
import { runFingerprint, upsertEnvironment, upsertVariant } from './identity.ts'
import {
  applyFinish,
  describeError as describe,
  type FinishRecord,
  insertIsolating,
  insertItemsIsolating,
  isDataError,
  journalDirOf,
  type RefusedRow,
  RunJournal,
  serverMetricsRefused,
} from './journal.ts'
import { HEARTBEAT_INTERVAL_MS, runWriter } from './liveness.ts'
import { createRedactor, type Redactor } from './redact.ts'
import { toRequestRow } from './request-rows.ts'
import { type NewAccuracyItemRow, type NewRequestRow, runs } from './schema.ts'
import { insertServerMetrics, storedServerMetrics } from './server-metrics.ts'

export interface PostgresSinkOptions {
  /** Outcomes per INSERT. @default 500 */
  batchSize?: number
  /** Longest an outcome waits in memory before its batch is written (or journaled), ms. @default 250 */
  flushIntervalMs?: number
  /** How often running runs refresh heartbeat_at, ms. @default 1000 */
  heartbeatIntervalMs?: number
  /**
   * How long finish() waits for an away database to take what was journaled, ms. @default BENCH_DB_WAIT_S
   * × 1000 when set, else 120 000 (a CI job waits two minutes for its database, then leaves the journal).
   */
  finishWaitMs?: number
  /**
   * Directory of this database's journals (db/journal.ts), or false to keep spilled rows in memory only.
   * @default journalDirOf(db) when db is a Database from createDb, else false
   */
  journalDir?: string | false
  /** Told about each streak of failed writes (they are retried). @default one line on stderr per streak */
  onError?: (error: Error) => void
  /** Progress while waiting for the database, and where a journal is left. @default a line on stderr */
  onNotice?: (line: string) => void
  /** Source of secret values to redact, and of BENCH_HOME / BENCH_DB_WAIT_S. @default process.env */
  env?: NodeJS.ProcessEnv
}

/** finish() could not store everything: the run's outcomes or final state are lost, not merely delayed. */
export class SinkWriteError extends Error {
  override name = 'SinkWriteError'
}

/** Default finish() wait for an away database, s (BENCH_DB_WAIT_S overrides). */
const DEFAULT_FINISH_WAIT_S = 120
const REPLAY_BASE_MS = 100
const REPLAY_MAX_MS = 1_000
const PROGRESS_EVERY_MS = 5_000

export function createPostgresSink(db: Db, options: PostgresSinkOptions = {}): ResultSink {
  const batchSize = options.batchSize ?? 500
  const flushIntervalMs = options.flushIntervalMs ?? 250
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS
  const env = options.env ?? process.env
  // A bad BENCH_DB_WAIT_S is reported by startRun, inside the caller's clean-up (a throw here would leave
  // the caller's database open).
  const waitOrError = options.finishWaitMs ?? finishWaitFromEnv(env)
  const finishWaitMs = typeof waitOrError === 'number' ? waitOrError : DEFAULT_FINISH_WAIT_S * 1000
  const journalDir =
    options.journalDir ??
    (isDatabase(db) ? journalDirOf({ driver: db.driver, location: db.location }, env) : false)
  const onError =
    options.onError ??
    ((error: Error) => process.stderr.write(`bench: result database write failed: ${error.message}\n`))
  const onNotice = options.onNotice ?? ((line: string) => process.stderr.write(`${line}\n`))

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
      if (typeof waitOrError !== 'number') throw waitOrError
      const redact = createRedactor(env, [meta.scenario.source, meta.engineOptions])
      const clean: RunMeta = {
        ...meta,
        scenario: { ...meta.scenario, source: redact.value(meta.scenario.source ?? {}) },
        engineOptions: redact.value(meta.engineOptions),
        ...(meta.label !== undefined ? { label: redact.text(meta.label) } : {}),
      }
      // Nothing is measured before the run row exists: while the database is away, wait for it (same budget).
      const row = await untilReachable(
        async () => {
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
              fingerprint: runFingerprint(clean, meta.engineOptions),
              gitCommit: clean.git?.commit ?? null,
              gitBranch: clean.git?.branch ?? null,
              gitMergeBase: clean.git?.mergeBase ?? null,
              state: 'running',
              startedAt: new Date(clean.startedAtIso),
              // Lets a command on this host see at once that the run's process is gone (db/liveness.ts).
              ...runWriter(),
            })
            .returning({ id: runs.id, startedAt: runs.startedAt })
          return row
        },
        `run ${clean.scenario.name} / ${clean.target.name}: the run row`,
        finishWaitMs,
        onNotice,
      )
      if (!row) throw new Error('inserting the run row returned no id')
      const writer = new RunWriter(db, row.id, redact, {
        batchSize,
        flushIntervalMs,
        finishWaitMs,
        journalDir,
        identity: { startedAt: row.startedAt.toISOString(), scenario: clean.scenario.name },
        onError,
        onNotice,
      })
      track(writer)
      return {
        runId: String(row.id),
        record: (outcome) => writer.record(outcome),
        recordItem: (item) => writer.recordItem(item),
        serverMetrics: (record) => writer.serverMetrics(record),
        finish: async (state, metrics, error) => {
          try {
            await writer.finish(state, metrics, error)
            // PGlite never analyzes on its own (db/analyze.ts, issue 14); with the run's row count, only a run
            // large against what the statistics know pays for ANALYZE, not every small run of a matrix.
            await analyzeAfterBulkWrite(db, writer.recorded)
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
      // but what they recorded is written, or journaled for the next start.
      await Promise.allSettled([...live.values()].map((w) => w.drain()))
      live.clear()
    },
  }
}

interface WriterOptions {
  batchSize: number
  flushIntervalMs: number
  finishWaitMs: number
  journalDir: string | false
  /** What replay checks the run row against (db/journal.ts). */
  identity: { startedAt: string; scenario: string }
  onError: (error: Error) => void
  onNotice: (line: string) => void
}

class RunWriter {
  #pending: NewRequestRow[] = []
  /** Accuracy items not yet taken for writing (written with the outcomes' batches). */
  #pendingItems: NewAccuracyItemRow[] = []
  /** performance.now() of the oldest outcome not yet taken for writing. */
  #oldestAt: number | undefined
  #timer: NodeJS.Timeout | undefined
  #timerDueAt = Number.POSITIVE_INFINITY
  #flushing: Promise<void> | undefined
  #finished = false
  #rejected: RefusedRow[] = []
  #lastError: unknown
  /** Rows handed over while the database was away, in order, not yet committed (also in #journal). */
  #spilled: NewRequestRow[] = []
  /** Items handed over while the database was away, in order, not yet committed (also in #journal). */
  #spilledItems: NewAccuracyItemRow[] = []
  /** Server metrics handed over while the database was away, as stored (also in #journal). */
  #spilledServer: ServerMetricsRecord[] = []
  /** serverMetrics() hand-overs in order; settles once each is stored, spilled or refused. Never rejects. */
  #serverChain: Promise<void> = Promise.resolve()
  /** Why the database refused the run's server metrics as data (said in the run's stored error). */
  #serverRefused: string | undefined
  /** The final state, when it could not be written directly; written by the replay loop after the rows. */
  #spilledFinish: FinishRecord | undefined
  #journal: RunJournal | undefined
  #segments = 0
  #replaying: Promise<void> | undefined
  #stopReplay = false
  /** Outcomes written from the spill since the last time the database was away. */
  #recovered = 0
  /** Items written from the spill since the last time the database was away. */
  #recoveredItems = 0
  /** Outcomes taken as rows (written, pending or journaled): how much a finished run added to `requests`. */
  #recorded = 0

  constructor(
    private readonly db: Db,
    readonly runId: number,
    private readonly redact: Redactor,
    private readonly options: WriterOptions,
  ) {}

  /** Outcomes taken as rows so far. */
  get recorded(): number {
    return this.#recorded
  }

  get #spilling(): boolean {
    return (
      this.#spilled.length > 0 ||
      this.#spilledItems.length > 0 ||
      this.#spilledServer.length > 0 ||
      this.#spilledFinish !== undefined
    )
  }

  get #pendingCount(): number {
    return this.#pending.length + this.#pendingItems.length
  }

  record(outcome: RequestOutcome): void {
    if (this.#finished) {
      this.options.onError(
        new Error(`run ${this.runId}: outcome ${outcome.seq} recorded after finish() was dropped`),
      )
      return
    }
    try {
      this.#pending.push(toRequestRow(this.runId, outcome, this.redact))
      this.#recorded++
    } catch (err) {
      this.#rejected.push({ seq: outcome.seq, reason: describe(err) })
      return
    }
    this.#oldestAt ??= performance.now()
    this.#schedule()
  }

  recordItem(item: ItemOutcome): void {
    if (this.#finished) {
      this.options.onError(
        new Error(`run ${this.runId}: item ${item.seq} recorded after finish() was dropped`),
      )
      return
    }
    try {
      this.#pendingItems.push(toItemRow(this.runId, item, this.redact))
    } catch (err) {
      // Counted with the outcomes refused; the reason says it was an item.
      this.#rejected.push({ seq: item.seq, reason: `item: ${describe(err)}` })
      return
    }
    this.#oldestAt ??= performance.now()
    this.#schedule()
  }

  /**
   * Stores the run's server metrics, or spills them (journal + replay loop) while the database is away or
   * spilling; resolves once they are stored, on disk in the journal, or refused. Never rejects.
   */
  serverMetrics(record: ServerMetricsRecord): Promise<void> {
    if (this.#finished) {
      this.options.onError(
        new Error(`run ${this.runId}: server metrics handed over after finish() were dropped`),
      )
      return Promise.resolve()
    }
    let clean: ServerMetricsRecord
    try {
      // Redacted once, here: what is written directly and what is journaled are the same record.
      clean = storedServerMetrics(record, this.redact)
    } catch (err) {
      // A record the redactor cannot walk (not JSON-like): said like a refusal, never thrown.
      this.#serverRefused = serverMetricsRefused(err)
      this.options.onNotice(`bench: run ${this.runId}: ${this.#serverRefused}`)
      return Promise.resolve()
    }
    this.#serverChain = this.#serverChain.then(() => this.#storeServerMetrics(clean))
    return this.#serverChain
  }

  async #storeServerMetrics(record: ServerMetricsRecord): Promise<void> {
    if (!this.#spilling) {
      try {
        await insertServerMetrics(this.db, this.runId, record)
        return
      } catch (err) {
        if (isDataError(err)) {
          this.#serverRefused = serverMetricsRefused(err)
          this.options.onNotice(`bench: run ${this.runId}: ${this.#serverRefused}`)
          return
        }
        this.#noteFailure(err)
      }
    }
    this.#spilledServer.push(record)
    const journal = this.#journalNow()
    this.#startReplay()
    await journal?.appendServerMetrics(record)
  }

  /** Writes when a batch is full or its oldest outcome is due; otherwise sets a timer for when it will be. */
  #schedule(): void {
    if (this.#flushing || this.#pendingCount === 0) return
    const now = performance.now()
    const dueAt =
      (this.#oldestAt ?? now) +
      (this.#pendingCount >= this.options.batchSize ? 0 : this.options.flushIntervalMs)
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
    if (this.#flushing || this.#pendingCount === 0) return
    this.#flushing = this.#flushOnce().then(() => {
      this.#flushing = undefined
      if (!this.#finished) this.#schedule()
    })
  }

  /**
   * Hands one batch over: to the database while it answers; to the spill (journal + replay loop) once a
   * write has failed and until the replay has caught up, so rows stay in order. Never throws.
   */
  async #flushOnce(): Promise<void> {
    const batch = this.#pending.splice(0, this.options.batchSize)
    const items = this.#pendingItems.splice(0, this.options.batchSize)
    this.#oldestAt = this.#pendingCount > 0 ? this.#oldestAt : undefined
    if (batch.length === 0 && items.length === 0) return
    if (this.#spilling) return this.#spill(batch, items)
    try {
      if (batch.length > 0) this.#rejected.push(...(await insertIsolating(this.db, batch)))
      if (items.length > 0) this.#rejected.push(...(await insertItemsIsolating(this.db, items)))
    } catch (err) {
      this.#noteFailure(err)
      // Rows spilled meanwhile (none: #flushing serializes) would be older; this batch goes first. Outcomes
      // already committed before an item insert failed are written again by the replay: a no-op (ON CONFLICT).
      return this.#spill(batch, items)
    }
  }

  #noteFailure(err: unknown): void {
    if (!this.#spilling) {
      const where =
        this.options.journalDir === false ? 'in memory' : `in the journal (${this.options.journalDir})`
      this.options.onError(
        new Error(`run ${this.runId}: ${describe(err)}; keeping results ${where} until it is back`, {
          cause: err,
        }),
      )
    }
    this.#lastError = err
  }

  /** Keeps rows for the replay loop and journals them; resolves once they are on disk. */
  #spill(rows: NewRequestRow[], items: NewAccuracyItemRow[] = []): Promise<void> {
    this.#spilled.push(...rows)
    this.#spilledItems.push(...items)
    const journal = this.#journalNow()
    this.#startReplay()
    if (!journal) return Promise.resolve()
    return Promise.all([
      rows.length > 0 ? journal.appendOutcomes(rows) : undefined,
      items.length > 0 ? journal.appendItems(items) : undefined,
    ]).then(() => {})
  }

  #journalNow(): RunJournal | undefined {
    if (this.options.journalDir === false) return undefined
    this.#journal ??= new RunJournal(
      this.options.journalDir,
      { runId: this.runId, ...this.options.identity },
      ++this.#segments,
    )
    return this.#journal
  }

  #startReplay(): void {
    this.#stopReplay = false
    this.#replaying ??= this.#replayLoop().finally(() => {
      this.#replaying = undefined
    })
  }

  /** Writes the spill in order (rows, then the final state) as soon as the database answers. */
  async #replayLoop(): Promise<void> {
    let failures = 0
    while (!this.#stopReplay) {
      try {
        if (this.#spilled.length > 0) {
          const batch = this.#spilled.slice(0, this.options.batchSize)
          this.#rejected.push(...(await insertIsolating(this.db, batch)))
          this.#spilled.splice(0, batch.length)
          this.#recovered += batch.length
        } else if (this.#spilledItems.length > 0) {
          const batch = this.#spilledItems.slice(0, this.options.batchSize)
          this.#rejected.push(...(await insertItemsIsolating(this.db, batch)))
          this.#spilledItems.splice(0, batch.length)
          this.#recoveredItems += batch.length
        } else if (this.#spilledServer[0]) {
          try {
            await insertServerMetrics(this.db, this.runId, this.#spilledServer[0])
          } catch (err) {
            if (!isDataError(err)) throw err
            this.#serverRefused = serverMetricsRefused(err)
          }
          this.#spilledServer.shift()
        } else if (this.#spilledFinish) {
          await applyFinish(this.db, this.runId, this.#withProblems(this.#spilledFinish))
          this.#spilledFinish = undefined
        } else {
          // Everything handed over is committed: the journal has nothing the database lacks.
          const journal = this.#journal
          this.#journal = undefined
          await journal?.discard()
          this.options.onNotice(
            `bench: run ${this.runId}: the database is back; ${this.#recovered} outcomes` +
              `${this.#recoveredItems > 0 ? ` and ${this.#recoveredItems} items` : ''} written from the journal`,
          )
          this.#recovered = 0
          this.#recoveredItems = 0
          // A write that failed meanwhile has opened a new journal: keep going with it.
          if (!this.#spilling) return
          continue
        }
        failures = 0
      } catch (err) {
        this.#lastError = err
        failures++
        await delay(Math.min(REPLAY_BASE_MS * 2 ** failures, REPLAY_MAX_MS))
      }
    }
  }

  /** The stored error: the run's own, then what the database refused. */
  #withProblems(finish: FinishRecord): FinishRecord {
    const refused =
      this.#rejected.length > 0
        ? `${this.#rejected.length} outcomes were refused by the database (seq ${this.#rejected
            .slice(0, 5)
            .map((r) => `${r.seq}: ${r.reason}`)
            .join('; ')}${this.#rejected.length > 5 ? ' …' : ''})`
        : undefined
    const error = [finish.error, refused, this.#serverRefused].filter((e): e is string => !!e).join('; ')
    return { ...finish, error: error === '' ? null : this.redact.text(error) }
  }

  /**
   * Stops taking outcomes and hands every buffered one over (written, or spilled to the journal), and the
   * server metrics: once it resolves, the final state may be written after them.
   */
  async drain(): Promise<void> {
    this.#finished = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#flushing
    while (this.#pendingCount > 0) await this.#flushOnce()
    await this.#serverChain
  }

  async finish(
    state: Exclude<RunState, 'running'>,
    metrics: RunFigures | undefined,
    error?: string,
  ): Promise<void> {
    await this.drain()
    const finish: FinishRecord = {
      type: 'finish',
      // The state stays what the run was: its metrics were computed from every outcome, in memory.
      state,
      // Redacted before it reaches the journal too: no secret at rest in either place.
      error: error === undefined || error === '' ? null : this.redact.text(error),
      finishedAt: new Date().toISOString(),
      metrics: metrics
        ? (Array.isArray(metrics) ? metrics : flattenMetrics(metrics))
            // NaN/Infinity (e.g. a rate over an empty window) would poison aggregates: such figures are absent.
            .filter((m) => Number.isFinite(m.value))
            .map((m) => ({ ...m, n: Math.round(m.n) }))
        : [],
    }
    let finalRefused: unknown
    if (!this.#spilling) {
      try {
        const { finishedAt: _, ...now } = this.#withProblems(finish)
        await applyFinish(this.db, this.runId, now)
      } catch (err) {
        if (isDataError(err)) finalRefused = err
        else {
          this.#noteFailure(err)
          this.#spilledFinish = finish
        }
      }
    } else this.#spilledFinish = finish
    if (this.#spilledFinish) {
      await this.#journalNow()?.appendFinish(finish)
      this.#startReplay()
      await this.#waitForReplay(state)
    }
    const problems: string[] = []
    if (this.#spilling) {
      const journal = this.#journal
      this.#stopReplay = true
      await journal?.close()
      const what = `${this.#spilled.length} outcomes${this.#spilledItems.length > 0 ? `, ${this.#spilledItems.length} items` : ''}${this.#spilledServer.length > 0 ? ', the server metrics' : ''}${this.#spilledFinish ? `, the metrics and the final state (${state})` : ''}`
      if (journal && journal.error === undefined)
        this.options.onNotice(
          `bench: run ${this.runId}: the database is still unreachable (${describe(this.#lastError)}); its ${what} ` +
            `are safe in ${journal.file} and will be written by the next bench command that opens this database`,
        )
      else
        problems.push(
          `${what} could not be written (last error: ${describe(this.#lastError)})` +
            (journal ? `; journaling to ${journal.file} failed too: ${describe(journal.error)}` : ''),
        )
    }
    if (finalRefused !== undefined)
      problems.push(`the final state (${state}) and metrics were refused: ${describe(finalRefused)}`)
    if (this.#rejected.length > 0)
      problems.push(
        `${this.#rejected.length} outcomes were refused by the database (seq ${this.#rejected
          .slice(0, 5)
          .map((r) => `${r.seq}: ${r.reason}`)
          .join('; ')}${this.#rejected.length > 5 ? ' …' : ''})`,
      )
    if (problems.length > 0)
      throw new SinkWriteError(`run ${this.runId}: ${problems.join('; ')}`, { cause: this.#lastError })
  }

  /** Waits up to finishWaitMs for the replay loop, saying every 5 s what is still pending. */
  async #waitForReplay(state: string): Promise<void> {
    const waitS = Math.round(this.options.finishWaitMs / 1000)
    const startedAt = performance.now()
    const pending = () =>
      `${this.#spilled.length} outcomes${this.#spilledItems.length > 0 ? `, ${this.#spilledItems.length} items` : ''}${this.#spilledServer.length > 0 ? ', the server metrics' : ''}${this.#spilledFinish ? ` and the final state (${state})` : ''}`
    if (this.options.finishWaitMs > 0 && this.#spilling)
      this.options.onNotice(
        `bench: run ${this.runId}: the database is unreachable; waiting up to ${waitS} s (BENCH_DB_WAIT_S) to write ` +
          `${pending()}${this.#journal ? `, kept in ${this.#journal.file}` : ''}`,
      )
    // A ref'd timer: it is what keeps the process alive while waiting.
    let progress: NodeJS.Timeout | undefined
    let expire: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      expire = setTimeout(resolve, this.options.finishWaitMs)
      progress = setInterval(() => {
        const s = Math.round((performance.now() - startedAt) / 1000)
        this.options.onNotice(
          `bench: run ${this.runId}: still waiting for the database (${s}/${waitS} s): ${pending()}`,
        )
      }, PROGRESS_EVERY_MS)
      void this.#replaying?.then(resolve)
      if (!this.#replaying) resolve()
    })
    clearTimeout(expire)
    clearInterval(progress)
  }
}

/**
 * Runs `write` until the database takes it, retrying connection failures (0.2 s doubling to 1 s) for up to
 * waitMs, saying so on the first failure and every 5 s; a data error, or the last failure once the wait is
 * over, is thrown.
 */
async function untilReachable<T>(
  write: () => Promise<T>,
  what: string,
  waitMs: number,
  onNotice: (line: string) => void,
): Promise<T> {
  const startedAt = performance.now()
  let noticeAt = 0
  for (let failures = 1; ; failures++) {
    try {
      return await write()
    } catch (err) {
      const waited = performance.now() - startedAt
      if (isDataError(err) || waited >= waitMs) throw err
      if (waited >= noticeAt) {
        onNotice(
          `bench: ${what}: the database is unreachable (${describe(err)}); retrying for up to ${Math.round((waitMs - waited) / 1000)} s more (BENCH_DB_WAIT_S)`,
        )
        noticeAt = waited + PROGRESS_EVERY_MS
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(REPLAY_BASE_MS * 2 ** failures, REPLAY_MAX_MS)),
      )
    }
  }
}

function isDatabase(db: Db): db is Db & { driver: DbDriver; location: string } {
  const d = db as Partial<{ driver: unknown; location: unknown }>
  return typeof d.driver === 'string' && typeof d.location === 'string'
}

function finishWaitFromEnv(env: NodeJS.ProcessEnv): number | HarnessError {
  const raw = env.BENCH_DB_WAIT_S
  if (raw === undefined || raw.trim() === '') return DEFAULT_FINISH_WAIT_S * 1000
  const s = Number(raw)
  if (!Number.isFinite(s) || s < 0)
    return new HarnessError(
      `BENCH_DB_WAIT_S must be a number of seconds ≥ 0, got "${raw}"; unset it for the default (${DEFAULT_FINISH_WAIT_S})`,
    )
  return s * 1000
}

/** An unref'd pause: a replay loop left waiting must not keep the process alive. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
