/**
 * The sink's journal: where a run's outcomes, metrics and final state go while the database is away, and
 * how they reach the database once it is back (db/sink.ts during and at the end of the run,
 * replayJournals on the next start of any command that opens the same database, db/client.ts).
 *
 * Where: one directory per database, mode 0700 —
 * - embedded (PGlite) directory D: `D/journal` (next to D/pgdata and D/lock);
 * - PostgreSQL: `$BENCH_HOME/journal/<host>_<port>_<database>`, BENCH_HOME defaulting to `.bench` under the
 *   working directory (where the embedded database lives by default).
 *
 * What: one file per run and spill, `run-<runId>-<pid>-<n>.jsonl`, mode 0600, JSON lines:
 *   {"type":"run","version":3,"runId":12,"startedAt":"…","scenario":"…","pid":…,"host":"…"}
 *   {"type":"outcome","seq":7,"row":{…the requests row, already redacted…}}
 *   {"type":"item","seq":3,"row":{…the accuracy_items row of an accuracy run, already redacted…}}
 *   {"type":"server-metrics","record":{"url":"…","state":"ok","samples":2,"rows":[…]}}
 *   {"type":"finish","state":"completed","error":null,"finishedAt":"…","metrics":[…]}
 * The server-metrics record is the run's /metrics over the run (harness/server-metrics) as
 * db/server-metrics.ts stores it: redacted, non-finite numbers null. A writer journals it before the
 * finish line, and replay stores it before the final state: a run never reads as finished while its
 * server metrics are on their way.
 * Lines are appended in batches and each batch is fdatasync'd before the next: what was journaled survives
 * a kill -9 (and a power cut). A torn last line (killed mid-write) is ignored.
 *
 * Replay is idempotent: outcomes go in with ON CONFLICT (run_id, seq) DO NOTHING, metrics with ON CONFLICT
 * (run_id, name) DO NOTHING, the final state is set with the journaled finishedAt — replaying a file twice
 * changes nothing (items likewise, ON CONFLICT (run_id, seq); server metrics as one transaction keyed by the
 * run, ON CONFLICT (run_id) DO NOTHING on run_server_scrapes, the series written only with a new scrape
 * row). Version 3 added server-metrics lines, version 2 item lines; version-1 and -2 files still replay. A
 * file is deleted only once everything in it is committed. A file whose run row does not match (other id, start time or scenario: a different database at the same address) is renamed
 * `*.unmatched` and left for a person to look at.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { type FileHandle, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { eq, sql } from 'drizzle-orm'
import type { RunState } from '../harness/results.ts'
import type { ServerMetricsRecord } from '../harness/server-metrics/session.ts'
import { insertAccuracyItems, type JsonLoglik, logliksFromJson, logliksToJson } from './accuracy-items.ts'
import type { Db, DbDriver } from './client.ts'
import { insertRequests } from './insert-requests.ts'
import {
  type NewAccuracyItemRow,
  type NewRequestRow,
  type NewRunMetricRow,
  runMetrics,
  runs,
} from './schema.ts'
import { insertServerMetrics } from './server-metrics.ts'

/** Written in new files; 2 added `item` lines, 3 `server-metrics` lines. */
const JOURNAL_VERSION = 3
/**
 * Versions replay reads: a version-1 file (before items) holds outcomes and a finish only, a version-2 one
 * no server metrics (they were not journaled then).
 */
const READABLE_VERSIONS: readonly number[] = [1, 2, 3]

export interface JournalHeader {
  type: 'run'
  version: number
  runId: number
  /** The run row's started_at (ISO): replay checks it to be sure the row is the same run. */
  startedAt: string
  scenario: string
  pid: number
  host: string
}

export interface FinishRecord {
  type: 'finish'
  state: Exclude<RunState, 'running'>
  error: string | null
  /** When the run ended (ISO), stored as finished_at whenever the record is applied. */
  finishedAt: string
  metrics: Omit<NewRunMetricRow, 'runId'>[]
}

interface OutcomeRecord {
  type: 'outcome'
  seq: number
  row: NewRequestRow
}

interface ItemRecord {
  type: 'item'
  seq: number
  /** The row, its log-likelihoods as logliksToJson writes them (-Infinity survives JSON). */
  row: Omit<NewAccuracyItemRow, 'logliks'> & { logliks?: JsonLoglik[] | null }
}

interface ServerMetricsLine {
  type: 'server-metrics'
  /** As stored (storedServerMetrics): redacted, non-finite numbers null. */
  record: ServerMetricsRecord
}

/** Files this process is still writing: replay leaves them alone. */
const activeJournals = new Set<string>()

/** Where the journals of a database go (see the module comment). */
export function journalDirOf(
  db: { driver: DbDriver; location: string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (db.driver !== 'postgres') return path.join(db.location, 'journal')
  const home = path.resolve(env.BENCH_HOME || '.bench')
  let name = 'postgres'
  try {
    const u = new URL(db.location)
    name = `${u.hostname || 'localhost'}_${u.port || '5432'}_${decodeURIComponent(u.pathname.slice(1)) || 'postgres'}`
  } catch {
    // An unparsable URL could not have been opened; keep a fixed name rather than fail here.
  }
  return path.join(home, 'journal', name.replace(/[^A-Za-z0-9._-]/g, '_'))
}

/**
 * An append-only journal file of one run. Opened lazily on the first append; appends are chained (one
 * write + fdatasync each) and never reject: a failure is kept in `error` and later appends are skipped,
 * the caller still holding the rows in memory.
 */
export class RunJournal {
  readonly file: string
  error: unknown
  #handle: FileHandle | undefined
  #chain: Promise<void>
  #closed = false

  constructor(
    dir: string,
    header: Omit<JournalHeader, 'type' | 'version' | 'pid' | 'host'>,
    segment: number,
  ) {
    const file = path.join(dir, `run-${header.runId}-${process.pid}-${segment}.jsonl`)
    this.file = file
    activeJournals.add(file)
    const full: JournalHeader = {
      type: 'run',
      version: JOURNAL_VERSION,
      ...header,
      pid: process.pid,
      host: os.hostname(),
    }
    this.#chain = (async () => {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      this.#handle = await open(file, 'a', 0o600)
      await this.#handle.write(`${JSON.stringify(full)}\n`)
      await this.#handle.datasync()
      // The new directory entry must survive a power cut too.
      const dirHandle = await open(dir, 'r')
      try {
        await dirHandle.sync()
      } finally {
        await dirHandle.close()
      }
    })().catch((err: unknown) => {
      this.error = err
    })
  }

  /** Appends outcome rows; resolves once they are on disk (or the journal has failed). */
  appendOutcomes(rows: readonly NewRequestRow[]): Promise<void> {
    return this.#append(rows.map((row): OutcomeRecord => ({ type: 'outcome', seq: row.seq, row })))
  }

  /** Appends accuracy item rows; resolves once they are on disk (or the journal has failed). */
  appendItems(rows: readonly NewAccuracyItemRow[]): Promise<void> {
    return this.#append(
      rows.map(
        (row): ItemRecord => ({
          type: 'item',
          seq: row.seq,
          row: { ...row, logliks: logliksToJson(row.logliks) },
        }),
      ),
    )
  }

  /** Appends a run's server metrics, already as stored (redacted); resolves once on disk (or failed). */
  appendServerMetrics(record: ServerMetricsRecord): Promise<void> {
    return this.#append([{ type: 'server-metrics', record } satisfies ServerMetricsLine])
  }

  appendFinish(record: FinishRecord): Promise<void> {
    return this.#append([record])
  }

  #append(records: readonly unknown[]): Promise<void> {
    const text = records.map((r) => `${JSON.stringify(r)}\n`).join('')
    this.#chain = this.#chain.then(async () => {
      if (this.error !== undefined || this.#closed || !this.#handle) return
      try {
        await this.#handle.write(text)
        await this.#handle.datasync()
      } catch (err) {
        this.error = err
      }
    })
    return this.#chain
  }

  /** Stops writing and keeps the file (for replay later). */
  async close(): Promise<void> {
    await this.#chain
    this.#closed = true
    await this.#handle?.close().catch(() => {})
    this.#handle = undefined
    activeJournals.delete(this.file)
  }

  /** Everything in the file is committed: closes and deletes it. */
  async discard(): Promise<void> {
    await this.close()
    await unlink(this.file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
  }
}

/** Outcome rows that the database refused as data (kept out so the rest can be written). */
export type RefusedRow = { seq: number; reason: string }

/**
 * Inserts rows (ON CONFLICT DO NOTHING); a row refused as data is isolated and returned instead of
 * blocking the others. Throws when the database cannot be reached.
 */
export async function insertIsolating(db: Db, rows: readonly NewRequestRow[]): Promise<RefusedRow[]> {
  const refused: RefusedRow[] = []
  try {
    await insertRequests(db, [...rows])
  } catch (err) {
    if (!isDataError(err)) throw err
    for (const row of rows) {
      try {
        await insertRequests(db, [row])
      } catch (rowErr) {
        if (!isDataError(rowErr)) throw rowErr
        refused.push({ seq: row.seq, reason: describeError(rowErr) })
      }
    }
  }
  return refused
}

/** insertIsolating for accuracy item rows (refused ones are returned with seq `item <seq>`'s number). */
export async function insertItemsIsolating(
  db: Db,
  rows: readonly NewAccuracyItemRow[],
): Promise<RefusedRow[]> {
  const refused: RefusedRow[] = []
  try {
    await insertAccuracyItems(db, rows)
  } catch (err) {
    if (!isDataError(err)) throw err
    for (const row of rows) {
      try {
        await insertAccuracyItems(db, [row])
      } catch (rowErr) {
        if (!isDataError(rowErr)) throw rowErr
        refused.push({ seq: row.seq, reason: `item: ${describeError(rowErr)}` })
      }
    }
  }
  return refused
}

/** Writes metrics and the final state in one transaction; finishedAt undefined = the database's now(). */
export async function applyFinish(
  db: Db,
  runId: number,
  finish: {
    state: FinishRecord['state']
    error: string | null
    finishedAt?: string
    metrics: FinishRecord['metrics']
  },
): Promise<void> {
  const finishedAt = finish.finishedAt === undefined ? sql`now()` : new Date(finish.finishedAt)
  await db.transaction(async (tx) => {
    if (finish.metrics.length > 0)
      await tx
        .insert(runMetrics)
        .values(finish.metrics.map((m) => ({ ...m, runId })))
        .onConflictDoNothing({ target: [runMetrics.runId, runMetrics.name] })
    await tx
      .update(runs)
      .set({ state: finish.state, error: finish.error, finishedAt, heartbeatAt: sql`now()` })
      .where(eq(runs.id, runId))
  })
}

export interface ReplayedJournal {
  file: string
  runId: number
  outcomes: number
  /** Accuracy items written. */
  items: number
  /** Server-metrics records in the file (0 or 1; one already stored is left as it is). */
  serverMetrics: number
  /** The final state written, when the journal had one. */
  state?: FinishRecord['state']
  refused: number
}

export interface ReplaySummary {
  replayed: ReplayedJournal[]
  /** Files left in place: a live writer's, unmatched, or not written because of an error. */
  skipped: { file: string; reason: string }[]
}

/**
 * Writes every journal in `dir` to the database and deletes each once committed. Journals another live
 * process on this host is writing are left alone. Rethrows nothing per file: a file that cannot be written
 * now (database away again) stays for the next start and is listed in `skipped`.
 */
export async function replayJournals(
  db: Db,
  dir: string,
  options: { log?: (line: string) => void; batchSize?: number } = {},
): Promise<ReplaySummary> {
  const log = options.log ?? (() => {})
  const batchSize = options.batchSize ?? 500
  const summary: ReplaySummary = { replayed: [], skipped: [] }
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort(byRunThenSegment)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return summary
    throw err
  }
  for (const name of names) {
    const file = path.join(dir, name)
    if (activeJournals.has(file)) {
      summary.skipped.push({ file, reason: 'being written by this process' })
      continue
    }
    try {
      const parsed = parseJournal(await readFile(file, 'utf8'))
      if (typeof parsed === 'string') {
        await setAside(file, parsed, summary, log)
        continue
      }
      const { header, outcomes, items, serverMetrics, finish } = parsed
      if (header.host === os.hostname() && header.pid !== process.pid && processAlive(header.pid)) {
        summary.skipped.push({ file, reason: `process ${header.pid} is still writing it` })
        continue
      }
      const [row] = await db
        .select({ startedAt: runs.startedAt, scenario: runs.scenarioName })
        .from(runs)
        .where(eq(runs.id, header.runId))
      if (
        !row ||
        row.startedAt.getTime() !== Date.parse(header.startedAt) ||
        row.scenario !== header.scenario
      ) {
        await setAside(
          file,
          `run ${header.runId} (${header.scenario}, started ${header.startedAt}) is not in this database`,
          summary,
          log,
        )
        continue
      }
      const refused: RefusedRow[] = []
      for (let i = 0; i < outcomes.length; i += batchSize)
        refused.push(...(await insertIsolating(db, outcomes.slice(i, i + batchSize))))
      const refusedItems: RefusedRow[] = []
      for (let i = 0; i < items.length; i += batchSize)
        refusedItems.push(...(await insertItemsIsolating(db, items.slice(i, i + batchSize))))
      // Before the final state: a finished run's server metrics are there, or why not is in its error.
      const refusedServer: string[] = []
      for (const record of serverMetrics)
        try {
          await insertServerMetrics(db, header.runId, record)
        } catch (err) {
          if (!isDataError(err)) throw err
          refusedServer.push(serverMetricsRefused(err))
        }
      if (finish) {
        const problems = [
          ...(refused.length > 0 ? [`${refused.length} outcomes were refused by the database`] : []),
          ...(refusedItems.length > 0 ? [`${refusedItems.length} items were refused by the database`] : []),
          ...refusedServer,
        ]
        const error = [finish.error, ...problems].filter((e): e is string => !!e).join('; ')
        await applyFinish(db, header.runId, { ...finish, error: error === '' ? null : error })
      }
      await unlink(file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err
      })
      const done: ReplayedJournal = {
        file,
        runId: header.runId,
        outcomes: outcomes.length,
        items: items.length,
        serverMetrics: serverMetrics.length,
        ...(finish ? { state: finish.state } : {}),
        refused: refused.length + refusedItems.length + refusedServer.length,
      }
      summary.replayed.push(done)
      log(
        `bench: wrote journal ${file} to the database: run ${header.runId}, ${outcomes.length} outcomes` +
          `${items.length > 0 ? `, ${items.length} items` : ''}` +
          `${serverMetrics.length > 0 ? `, server metrics${refusedServer.length > 0 ? ' (refused)' : ''}` : ''}` +
          `${finish ? `, final state ${finish.state}` : ', no final state (the run was cut short)'}` +
          `${refused.length + refusedItems.length > 0 ? `, ${refused.length + refusedItems.length} refused` : ''}`,
      )
    } catch (err) {
      summary.skipped.push({ file, reason: describeError(err) })
      log(`bench: journal ${file} not written yet (kept for the next start): ${describeError(err)}`)
    }
  }
  return summary
}

/** The records of a journal file, or why it cannot be replayed. */
export function parseJournal(text: string):
  | {
      header: JournalHeader
      outcomes: NewRequestRow[]
      items: NewAccuracyItemRow[]
      /** In file order (a writer journals one per run). */
      serverMetrics: ServerMetricsRecord[]
      finish?: FinishRecord
    }
  | string {
  const lines = text.split('\n')
  // Every complete line ends with a newline: the last piece is empty, or a line cut short by a kill (ignored).
  lines.pop()
  const records: unknown[] = []
  for (const [i, line] of lines.entries()) {
    try {
      records.push(JSON.parse(line))
    } catch {
      return `line ${i + 1} is not JSON`
    }
  }
  const header = records[0] as JournalHeader | undefined
  if (header?.type !== 'run' || typeof header.runId !== 'number') return 'no run header on its first line'
  if (!READABLE_VERSIONS.includes(header.version))
    return `journal version ${String(header.version)} (this bench reads ${READABLE_VERSIONS.join(' and ')})`
  const outcomes: NewRequestRow[] = []
  const items: NewAccuracyItemRow[] = []
  const serverMetrics: ServerMetricsRecord[] = []
  let finish: FinishRecord | undefined
  for (const r of records.slice(1) as (OutcomeRecord | ItemRecord | ServerMetricsLine | FinishRecord)[]) {
    if (r.type === 'outcome') outcomes.push({ ...r.row, runId: header.runId })
    else if (r.type === 'item')
      items.push({ ...r.row, logliks: logliksFromJson(r.row.logliks), runId: header.runId })
    else if (r.type === 'server-metrics') serverMetrics.push(r.record)
    else if (r.type === 'finish') finish = r
  }
  return { header, outcomes, items, serverMetrics, ...(finish ? { finish } : {}) }
}

async function setAside(
  file: string,
  reason: string,
  summary: ReplaySummary,
  log: (line: string) => void,
): Promise<void> {
  await rename(file, `${file}.unmatched`)
  summary.skipped.push({ file, reason })
  log(`bench: journal ${file} cannot be written to this database (${reason}); renamed to ${file}.unmatched`)
}

/** run-<id>-<pid>-<n>.jsonl in run and segment order. */
function byRunThenSegment(a: string, b: string): number {
  const key = (n: string) => (n.match(/\d+/g) ?? []).map(Number)
  const [ka, kb] = [key(a), key(b)]
  for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
    const d = (ka[i] ?? 0) - (kb[i] ?? 0)
    if (d !== 0) return d
  }
  return a.localeCompare(b)
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** SQLSTATE class 22 (data exception) or 23 (integrity violation): retrying the same row cannot help. */
export function isDataError(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true
  }
  return false
}

/** What a run's stored error says when the database refused its server metrics as data. */
export function serverMetricsRefused(err: unknown): string {
  return `its server metrics were refused by the database: ${describeError(err)}`
}

export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  // Drizzle wraps driver errors as "Failed query: <sql>"; the cause says what went wrong.
  return err.cause instanceof Error ? `${err.cause.message}` : err.message
}
