/**
 * Our own run document (`bench export <id> --format json`, `format: "bench-run"`, `version: 1`) stored as
 * a NEW run of this database: how a run measured on one machine (a GPU box with its own PGlite) reaches the
 * central one, through `bench import FILE`, `bench push` or `POST /api/runs`.
 *
 * - The document is validated whole with its one schema (db/bench-run-document.ts, which the export is
 *   type-checked against); every problem names its path and what to send instead.
 * - New ids; the variant and environment rows are upserted by their identity hashes with the sink's own
 *   functions (db/identity.ts), so a pushed run shares them with runs measured here on the same variant
 *   and machine. Fingerprint, scenario, target, engine, load, git, label, role, state, times, every request
 *   row (chunk gaps included) and every summary metric are kept as sent.
 * - Provenance: runs.imported = { format: 'bench-run', file, sha256: the run key below, importedAt,
 *   document: the document without its request and metric rows, notes }.
 * - Idempotency: the run key is sha256 of the run's identity — fingerprint, scenario name, target name,
 *   load index, invocation id and start time (ms). Label, state, metrics and the source database's id are
 *   not part of it, so re-exporting the same run (from the machine that measured it, or from a database it
 *   was pushed to) gives the same key. A run with the same identity already here (pushed before, or
 *   measured here) is answered with its id and nothing is written.
 * - Secrets: the same Redactor as the sink and the other importers, with this machine's environment.
 * - An accuracy run's items (the document's `items`) are stored as its accuracy_items rows, in the same
 *   transaction.
 * - A sweep step (the document's `sweep` and `run.sweepStep`) is tied to that sweep here, found by its
 *   identity or created (db/import/sweep.ts), in the same transaction.
 * - Requests are inserted in batches (a document may carry 100 k of them), all in one transaction, so a
 *   failure leaves nothing half-stored and readers never see a partial run.
 * @module
 */
import { and, eq, isNull, sql } from 'drizzle-orm'
import { HarnessError } from '../../harness/errors.ts'
import type { EnvironmentInfo, VariantIdentity } from '../../harness/results.ts'
import type { ServerMetricsRecord } from '../../harness/server-metrics/session.ts'
import { insertAccuracyItems, itemRow, logliksFromJson } from '../accuracy-items.ts'
import { analyzeAfterBulkWrite } from '../analyze.ts'
import { BENCH_RUN_FORMAT, type BenchRunDocument, documentSchema } from '../bench-run-document.ts'
import type { Db } from '../client.ts'
import {
  canonicalJson,
  environmentHash,
  sha256Hex,
  upsertEnvironment,
  upsertVariant,
  variantIdentityHash,
} from '../identity.ts'
import { insertRequests } from '../insert-requests.ts'
import { runWriter } from '../liveness.ts'
import { createRedactor, type Redactor } from '../redact.ts'
import { requestRow } from '../request-rows.ts'
import { type ImportedSource, runMetrics, runs } from '../schema.ts'
import { insertServerMetrics } from '../server-metrics.ts'
import { REQUEST_BATCH } from './store.ts'
import { upsertSweep } from './sweep.ts'
import { importedRunColumns } from './types.ts'
import { issueLines } from './zod-issues.ts'

/** A document that cannot be stored; `problems` name each path and the fix. */
export class BenchRunError extends HarnessError {
  override name = 'BenchRunError'
  constructor(readonly problems: string[]) {
    super(`not a valid bench-run document: ${problems.join('; ')}`)
  }
}

/** Problems listed at most (a broken 100 k-row document would otherwise list 100 k of them). */
export const MAX_PROBLEMS = 20

/** A JSON value is a bench-run document when it says so (the rest is checked by parseBenchRun). */
export function looksLikeBenchRun(value: unknown): boolean {
  return (
    value !== null && typeof value === 'object' && (value as { format?: unknown }).format === BENCH_RUN_FORMAT
  )
}

/** Validates a parsed JSON value; throws BenchRunError listing every problem (up to 20) by path. */
export function parseBenchRun(value: unknown): BenchRunDocument {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new BenchRunError([
      '(root): expected a JSON object, the document `bench export <id> --format json` writes',
    ])
  const parsed = documentSchema.safeParse(value)
  const problems = parsed.success ? [] : issueLines(parsed.error)
  if (parsed.success) problems.push(...consistencyProblems(parsed.data))
  if (problems.length > 0 || !parsed.success)
    throw new BenchRunError(
      problems.length > MAX_PROBLEMS
        ? [...problems.slice(0, MAX_PROBLEMS), `and ${problems.length - MAX_PROBLEMS} more`]
        : problems,
    )
  return parsed.data
}

/** What zod cannot see field by field: duplicate keys, a document cut short, a broken lineage. */
export function consistencyProblems(doc: BenchRunDocument): string[] {
  const problems: string[] = []
  const seqs = new Set<number>()
  doc.requests.forEach((r, i) => {
    if (seqs.has(r.seq))
      problems.push(`requests[${i}].seq: ${r.seq} appears more than once; each request needs its own seq`)
    seqs.add(r.seq)
  })
  const itemSeqs = new Set<number>()
  doc.items.forEach((item, i) => {
    if (itemSeqs.has(item.seq))
      problems.push(`items[${i}].seq: ${item.seq} appears more than once; each item needs its own seq`)
    itemSeqs.add(item.seq)
  })
  const names = new Set<string>()
  doc.metrics.forEach((m, i) => {
    if (names.has(m.name))
      problems.push(`metrics[${i}].name: appears more than once; each figure is stored once per run`)
    names.add(m.name)
  })
  const total = doc.requestCounts?.total
  if (total !== undefined && total !== doc.requests.length)
    problems.push(
      `requests: ${doc.requests.length} rows, but requestCounts.total says ${total}: the document was cut short; export the run again`,
    )
  if (doc.variant === null && doc.variantLineage.length > 0)
    problems.push('variantLineage: a lineage without a variant; send variant too, or an empty lineage')
  if (doc.sweep !== null && doc.run.sweepStep === null)
    problems.push(
      'run.sweepStep: a sweep without the step this run is of; send run.sweepStep too, or no sweep',
    )
  if (doc.sweep === null && doc.run.sweepStep !== null)
    problems.push('sweep: run.sweepStep without the sweep it is a step of; send sweep too, or sweepStep null')
  return problems
}

/**
 * The run key (hex sha256): what makes two documents the same run, whichever database exported them.
 * Deliberately without label, state, metrics or the source id (see the module comment).
 */
export function benchRunKey(run: BenchRunDocument['run']): string {
  return sha256Hex(
    canonicalJson({
      format: BENCH_RUN_FORMAT,
      fingerprint: run.fingerprint,
      scenarioName: run.scenarioName,
      targetName: run.targetName,
      loadIndex: run.loadIndex,
      invocationId: run.invocationId,
      startedAt: new Date(run.startedAt).toISOString(),
    }),
  )
}

export interface StoreBenchRunOptions {
  /** Where the document came from, for runs.imported.file: a file's base name, or `POST /api/runs`. */
  source: string
  /** Searched for secret values to redact from what is stored. @default process.env */
  env?: NodeJS.ProcessEnv
  /** Time recorded as the import time. @default now */
  now?: Date
}

export interface StoredBenchRun {
  /** `already-imported`: a run with the same key is here; nothing was written. */
  state: 'imported' | 'already-imported'
  id: number
  scenarioName: string
  targetName: string
  fingerprint: string
  /** Summary figures and request rows written (0 when already imported). */
  metrics: number
  requests: number
  notes: string[]
}

/** What storing a document needs beyond the document: its key, times, redactor, identity rows, notes. */
export interface PreparedBenchRun {
  key: string
  startedAt: Date
  finishedAt: Date | null
  redact: Redactor
  summary: { scenarioName: string; targetName: string; fingerprint: string }
  variant: VariantIdentity | undefined
  environment: EnvironmentInfo | undefined
  notes: string[]
}

export function prepareBenchRun(doc: BenchRunDocument, options: StoreBenchRunOptions): PreparedBenchRun {
  const { run } = doc
  const redact = createRedactor(options.env ?? process.env, [run.scenario, run.engineOptions])
  const variant = doc.variant ? variantIdentity(doc, redact) : undefined
  const environment = doc.environment ? environmentInfo(doc.environment) : undefined
  return {
    key: benchRunKey(run),
    startedAt: new Date(run.startedAt),
    finishedAt: run.finishedAt === null ? null : new Date(run.finishedAt),
    redact,
    summary: { scenarioName: run.scenarioName, targetName: run.targetName, fingerprint: run.fingerprint },
    variant,
    environment,
    notes: provenanceNotes(doc, variant, environment),
  }
}

/** Takes the run key's transaction lock: a second push of the same run waits for the first. */
export async function lockRunKey(tx: Db, key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`bench-run:${key}`}))`)
}

/** The id and state of the run with this document's identity already here, if any. */
export async function existingRun(
  tx: Db,
  run: BenchRunDocument['run'],
  startedAt: Date,
): Promise<{ id: number; state: string; error: string | null } | undefined> {
  // The run's identity, not the key column: also finds the run where it was measured (runs_fingerprint_started_idx).
  const [existing] = await tx
    .select({ id: runs.id, state: runs.state, error: runs.error })
    .from(runs)
    .where(
      and(
        eq(runs.fingerprint, run.fingerprint),
        eq(runs.startedAt, startedAt),
        eq(runs.scenarioName, run.scenarioName),
        eq(runs.targetName, run.targetName),
        eq(runs.loadIndex, run.loadIndex),
        run.invocationId === null ? isNull(runs.invocationId) : eq(runs.invocationId, run.invocationId),
      ),
    )
    .limit(1)
  return existing
}

/** Upserts the variant and environment and inserts the run row as the document has it (or `override`). */
export async function insertRunRow(
  tx: Db,
  doc: BenchRunDocument,
  prep: PreparedBenchRun,
  options: StoreBenchRunOptions,
  override: {
    state?: BenchRunDocument['run']['state'] | 'running'
    error?: string | null
    finishedAt?: Date | null
  } = {},
): Promise<number> {
  const { run } = doc
  const { redact } = prep
  const variantId = prep.variant ? await upsertVariant(tx, prep.variant) : null
  const environmentId = prep.environment ? await upsertEnvironment(tx, prep.environment) : null
  // A sweep step joins its sweep here (found by its identity, or created): the sweep's id differs per database.
  const sweepId =
    doc.sweep !== null && run.sweepStep !== null ? await upsertSweep(tx, doc.sweep, redact) : null
  const { requests: _rows, metrics: _metrics, items: _items, serverMetrics: _server, ...head } = doc
  const imported: ImportedSource = {
    format: BENCH_RUN_FORMAT,
    file: options.source,
    sha256: prep.key,
    importedAt: (options.now ?? new Date()).toISOString(),
    document: redact.value(head),
    notes: prep.notes,
  }
  const finishedAt = override.finishedAt !== undefined ? override.finishedAt : prep.finishedAt
  const error =
    override.error !== undefined ? override.error : run.error === null ? null : redact.text(run.error)
  const [row] = await tx
    .insert(runs)
    .values({
      invocationId: run.invocationId,
      ...importedRunColumns(run, redact),
      variantId,
      environmentId,
      loadIndex: run.loadIndex,
      gitCommit: run.gitCommit,
      gitBranch: run.gitBranch,
      gitMergeBase: run.gitMergeBase,
      state: override.state ?? run.state,
      error,
      startedAt: prep.startedAt,
      finishedAt,
      heartbeatAt: override.state === 'running' ? sql`now()` : (finishedAt ?? prep.startedAt),
      // A run staged while its body streams in is this process's: if the process dies, the next reader on
      // this host sees it gone at once (db/liveness.ts) instead of after a stale heartbeat.
      ...(override.state === 'running' ? runWriter() : {}),
      imported,
      role: run.role,
      sweepId,
      sweepStep: sweepId === null ? null : run.sweepStep,
    })
    .returning({ id: runs.id })
  if (!row) throw new Error('inserting a pushed run returned no id')
  return row.id
}

export async function storeBenchRun(
  db: Db,
  doc: BenchRunDocument,
  options: StoreBenchRunOptions,
): Promise<StoredBenchRun> {
  const prep = prepareBenchRun(doc, options)
  const { summary, notes, redact } = prep
  const stored = await db.transaction(async (tx) => {
    // Two pushes of one run at once: the second waits, then finds the first one's run.
    await lockRunKey(tx, prep.key)
    const existing = await existingRun(tx, doc.run, prep.startedAt)
    if (existing)
      return {
        state: 'already-imported' as const,
        id: existing.id,
        ...summary,
        metrics: 0,
        requests: 0,
        notes: [],
      }
    const id = await insertRunRow(tx, doc, prep, options)
    if (doc.metrics.length > 0)
      await tx.insert(runMetrics).values(doc.metrics.map((m) => ({ ...m, runId: id })))
    for (let i = 0; i < doc.requests.length; i += REQUEST_BATCH)
      await insertRequests(
        tx,
        doc.requests.slice(i, i + REQUEST_BATCH).map((r) => requestRow(id, r, redact)),
      )
    await insertAccuracyItems(
      tx,
      doc.items.map((item) => itemRow(id, { ...item, logliks: logliksFromJson(item.logliks) }, redact)),
    )
    if (doc.serverMetrics !== null)
      await insertServerMetrics(tx, id, serverMetricsRecord(doc.serverMetrics), redact)
    return {
      state: 'imported' as const,
      id,
      ...summary,
      metrics: doc.metrics.length,
      requests: doc.requests.length,
      notes,
    }
  })
  if (stored.state === 'imported') await analyzeAfterBulkWrite(db, stored.requests)
  return stored
}

function provenanceNotes(
  doc: BenchRunDocument,
  variant: VariantIdentity | undefined,
  environment: EnvironmentInfo | undefined,
): string[] {
  const notes: string[] = []
  // Rows hold less than the identity the sink hashed only when a field lost precision (bits is a float4).
  const sentVariantHash = doc.variant?.identityHash
  if (variant && sentVariantHash !== undefined && variantIdentityHash(variant) !== sentVariantHash)
    notes.push(
      "the variant's identity hash differs from the source's: it is stored as a variant row of its own",
    )
  const sentEnvironmentHash = doc.environment?.hash
  if (
    environment &&
    sentEnvironmentHash !== undefined &&
    environmentHash(environment) !== sentEnvironmentHash
  )
    notes.push(
      "the environment's hash differs from the source's: it is stored as an environment row of its own",
    )
  if (doc.run.id !== undefined) notes.push(`run ${doc.run.id} of the database it was exported from`)
  const origin = doc.run.imported
  if (origin && typeof origin.format === 'string' && origin.format !== BENCH_RUN_FORMAT)
    notes.push(
      `originally imported from ${origin.format}${typeof origin.file === 'string' ? ` (${origin.file})` : ''}`,
    )
  return notes
}

/**
 * The identity the sink hashed, rebuilt from the stored rows (absent fields were null there). The sink
 * hashed the redacted identity, which is what the rows hold, so upsertVariant finds the same row.
 */
function variantIdentity(doc: BenchRunDocument, redact: Redactor): VariantIdentity {
  const chain = [doc.variant, ...doc.variantLineage].filter(
    (v): v is NonNullable<BenchRunDocument['variant']> => v !== null,
  )
  let identity: VariantIdentity | undefined
  for (const v of chain.reverse()) {
    const next: VariantIdentity = {
      name: v.name,
      method: v.method,
      format: v.format,
      ...(v.family !== null ? { family: v.family } : {}),
      ...(v.quantLabel !== null ? { quantLabel: v.quantLabel } : {}),
      ...(v.bits !== null ? { bits: v.bits } : {}),
      ...(v.sizeBytes !== null ? { sizeBytes: v.sizeBytes } : {}),
      ...(v.sha256 !== null ? { sha256: v.sha256 } : {}),
      ...(identity ? { parent: identity } : {}),
    }
    identity = next
  }
  if (!identity) throw new Error('variantIdentity called without a variant')
  return redact.value(identity)
}

function environmentInfo(e: NonNullable<BenchRunDocument['environment']>): EnvironmentInfo {
  return {
    cpuModel: e.cpuModel,
    cores: e.cores,
    ramBytes: e.ramBytes,
    gpus: e.gpus.map((g) =>
      g.vramBytes === undefined ? { name: g.name } : { name: g.name, vramBytes: g.vramBytes },
    ),
    os: e.os,
    nodeVersion: e.nodeVersion,
    engineVersions: e.engineVersions,
  }
}

/** The document's server metrics as the writer takes them (a reason absent rather than undefined). */
export function serverMetricsRecord(
  doc: NonNullable<BenchRunDocument['serverMetrics']>,
): ServerMetricsRecord {
  const { reason, ...rest } = doc
  return { ...rest, ...(reason !== undefined ? { reason } : {}) }
}
