/**
 * The `bench-run` document — one run as `bench export <id> --format json` writes it and `bench import`,
 * `bench push` and `POST /api/runs` read it — as one zod schema. db/export.ts checks what it writes
 * against this schema's type (`satisfies Writes<…>`), db/import/bench-run.ts and bench-run-stream.ts
 * validate with it, and dashboard/routes/openapi.ts documents the `POST /api/runs` body from it.
 *
 * The schema says what a reader takes; the export also writes columns no reader needs (database ids,
 * bookkeeping times, the computed tpotMs). Those are listed by name in NOT_READ types below, so a column
 * added to the export and to neither list, or a field the schema requires that the export does not write,
 * fails to type-check. Unknown members are ignored on read (zod strips them), as they always were.
 *
 * Versioning: `version` is raised when a field changes meaning or a required one is added; a field added
 * later is optional here with the value older documents meant (connectionRetries 0, role 'run', an empty
 * variantLineage, no accuracy items), so every document an older export wrote still reads.
 * @module
 */
import { z } from 'zod'
import { runRoles, runStates, serverMetricKinds, variantFormats, variantMethods } from './schema.ts'

/** `format` of the document; with `version`, how a reader knows what it holds. */
export const BENCH_RUN_FORMAT = 'bench-run'
/** Raised when a field changes meaning or a required one is added; new optional fields keep it. */
export const BENCH_RUN_VERSION = 1

const INT4_MAX = 2 ** 31 - 1

const noNul = (s: string) => !s.includes('\0')
const NUL_MESSAGE = 'must not contain NUL characters'
const text = z.string().refine(noNul, NUL_MESSAGE)
const name = text.min(1, 'must not be empty').max(1000, 'at most 1000 characters')
const optionalText = text.nullable()
const int4 = z.number().int().min(0).max(INT4_MAX)
const optionalInt4 = int4.nullable()
const safeCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
/** JSON has no NaN: an export writes the NaN send times of imported requests as null. */
const optionalMs = z.number().nullable()
const isoTime = z.iso.datetime({
  offset: true,
  error: 'expected an ISO 8601 time with a zone, e.g. 2026-11-25T10:00:00.000Z',
})
const jsonObject = z.record(z.string(), z.unknown(), { error: 'expected a JSON object' })
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits (a sha256)')

export const runSchema = z.object({
  /** The run's id in the database it was exported from; kept in the provenance only. */
  id: z.number().int().positive().optional(),
  invocationId: optionalText,
  scenarioName: name,
  scenarioHash: name,
  scenario: z.unknown().refine((v) => v !== undefined && v !== null, 'required: the scenario as run'),
  targetName: name,
  engineKind: name,
  engineVersion: optionalText,
  engineModel: name,
  engineDevice: optionalText,
  engineOptions: jsonObject,
  load: jsonObject,
  loadKind: name,
  loadIndex: int4,
  label: optionalText,
  fingerprint: sha256,
  gitCommit: optionalText,
  gitBranch: optionalText,
  gitMergeBase: optionalText,
  state: z.enum(['running', 'completed', 'failed', 'interrupted']).refine((s) => s !== 'running', {
    message:
      'the run is still running: push it once it has finished (a run whose process died reads as interrupted at the next bench start)',
  }),
  error: optionalText,
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
  imported: jsonObject.nullable().optional(),
  // Absent in documents exported before roles existed: those runs were all ordinary runs.
  role: z.enum(runRoles).default('run'),
  /** The run's step in its sweep (0-based, in the order run; `sweep` says which); null otherwise. */
  sweepStep: optionalInt4.default(null),
})

/** One bound of a sweep's SLO (harness/sweep/slo.ts SweepSlo): a percentile of a metric, at most maxMs. */
export const sweepSloSchema = z.object({
  name,
  metric: name,
  percentile: z.number().positive().max(100),
  maxMs: z.number().positive(),
})

/**
 * The `bench sweep` the run is a step of (the source's `sweeps` row): the importer finds it — same
 * invocation, start, endpoint, model, scenario and target — or creates it, so the steps pushed one by one
 * from one sweep meet again under one sweep.
 */
export const sweepSchema = z.object({
  /** The sweep's id in the database it was exported from; kept in the provenance only. */
  id: z.number().int().positive().optional(),
  invocationId: optionalText,
  scenarioName: name,
  targetName: name,
  baseUrl: name,
  model: name,
  arrivals: name,
  slo: z.array(sweepSloSchema),
  options: jsonObject,
  label: optionalText,
  state: z.enum(runStates),
  end: optionalText,
  kneeRatePerS: z.number().nonnegative().nullable(),
  firstFailingRatePerS: z.number().nonnegative().nullable(),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
})

export const variantSchema = z.object({
  identityHash: sha256.optional(),
  name,
  family: optionalText,
  method: z.enum(variantMethods),
  format: z.enum(variantFormats),
  quantLabel: optionalText,
  bits: z.number().nonnegative().nullable(),
  sizeBytes: safeCount.nullable(),
  sha256: optionalText,
})

export const environmentSchema = z.object({
  hash: sha256.optional(),
  cpuModel: text,
  cores: int4,
  ramBytes: safeCount,
  gpus: z.array(z.object({ name: text, vramBytes: safeCount.optional() })),
  os: text,
  nodeVersion: text,
  engineVersions: z.record(z.string(), text),
})

export const metricSchema = z.object({
  name: name.max(200, 'at most 200 characters'),
  value: z.number({ error: 'expected a finite number' }),
  unit: text,
  direction: z.enum(['higher', 'lower', 'none']),
  n: safeCount,
})

/** One request row of the document (also checked one by one by db/import/bench-run-stream.ts). */
export const requestSchema = z.object({
  seq: int4,
  state: z.enum(['ok', 'error']),
  promptIndex: int4,
  errorKind: optionalText,
  httpStatus: z.number().int().min(0).max(999).nullable(),
  message: optionalText,
  scheduledAtMs: optionalMs,
  startedAtMs: optionalMs,
  ttftMs: optionalMs,
  e2eMs: optionalMs,
  chunks: optionalInt4,
  promptTokens: optionalInt4,
  outputTokens: optionalInt4,
  tokensSource: z.enum(['server', 'tokenizer', 'chunks']).nullable(),
  serverOutputTokens: optionalInt4,
  tokenizerOutputTokens: optionalInt4,
  finishReason: optionalText,
  serverTimings: z.record(z.string(), z.number()).nullable(),
  // Absent in documents exported before it was recorded: those requests were never retried.
  connectionRetries: z.number().int().min(0).max(1000).default(0),
  chunkGapsMs: z.array(z.number()).nullable(),
})

/** One item of an accuracy run (db/accuracy-items.ts; absent in documents exported before items existed). */
export const itemSchema = z.object({
  seq: int4,
  itemId: name,
  subject: name,
  itemIndex: int4,
  answer: int4,
  predicted: optionalInt4,
  correct: z.boolean().nullable(),
  // Absent before acc_norm was stored.
  predictedNorm: optionalInt4.default(null),
  /** Natural-log scores; -Infinity, Infinity and NaN as text (JSON has none of them). */
  logliks: z.array(z.union([z.number(), z.enum(['-Infinity', 'Infinity', 'NaN'])])).nullable(),
  generated: optionalText,
  startedAtMs: z.number(),
  durationMs: z.number(),
  errorKind: optionalText,
  message: optionalText,
})

/**
 * The serving engine's /metrics over the run (harness/server-metrics ServerMetricsRecord; absent for runs
 * that read none, and in documents exported before they were stored).
 */
export const serverMetricsSchema = z.object({
  url: text,
  state: z.enum(['ok', 'unavailable']),
  reason: text.optional(),
  samples: safeCount,
  rows: z
    .array(
      z.object({
        name: name.max(200, 'at most 200 characters'),
        labels: z.record(z.string(), text),
        kind: z.enum(serverMetricKinds),
        // JSON has no NaN or ±Inf: such values are null, as in the database.
        before: z.number().nullable(),
        after: z.number().nullable(),
        delta: z.number().nullable(),
        sumDelta: z.number().nullable(),
        max: z.number().nullable(),
      }),
    )
    .max(10_000, 'at most 10000 series'),
})

/** What the document says of the run's requests (checked against the rows: a cut-short document is refused). */
export const requestCountsSchema = z.object({ total: safeCount }).loose()

export const documentSchema = z.object({
  format: z.literal(BENCH_RUN_FORMAT, {
    error: `expected "${BENCH_RUN_FORMAT}": send the document \`bench export <id> --format json\` writes`,
  }),
  version: z.literal(BENCH_RUN_VERSION, {
    error: `expected ${BENCH_RUN_VERSION}, the version this bench reads: export the run with a bench of the same version`,
  }),
  run: runSchema,
  variant: variantSchema.nullable(),
  /** The variants `variant` derives from, nearest first (absent before lineage was exported). */
  variantLineage: z.array(variantSchema).default([]),
  environment: environmentSchema.nullable(),
  metrics: z.array(metricSchema),
  requestCounts: requestCountsSchema.optional(),
  /** The sweep the run is a step of (absent for other runs, and before sweeps were exported). */
  sweep: sweepSchema.nullable().default(null),
  /** An accuracy run's items, before `requests` (so a streamed import holds them with the head). */
  items: z.array(itemSchema).default([]),
  /** The serving engine's metrics over the run, before `requests` (absent: none were read). */
  serverMetrics: serverMetricsSchema.nullable().default(null),
  requests: z.array(requestSchema),
})

/** A document as read (defaults filled). */
export type BenchRunDocument = z.infer<typeof documentSchema>
/** A document as a writer may send it (fields with a default may be left out). */
export type BenchRunDocumentIn = z.input<typeof documentSchema>

/**
 * Columns the export writes that no reader takes (zod drops them on read): database ids, which differ in
 * every database; bookkeeping times; tpotMs, computed from the row (METRICS.md) for people reading the file.
 */
export type NotRead = {
  /** sweepId: the sweep travels whole as the document's `sweep`. */
  run: 'variantId' | 'environmentId' | 'heartbeatAt' | 'sweepId'
  variant: 'id' | 'parentId' | 'createdAt'
  environment: 'id' | 'createdAt'
  metric: 'runId'
  request: 'runId' | 'tpotMs'
  item: 'runId'
}

/** T as JSON.stringify writes it: Dates become ISO strings. */
export type AsJson<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? AsJson<U>[]
    : T extends object
      ? { [K in keyof T]: AsJson<T[K]> }
      : T

/**
 * The type a writer's value `T` must satisfy to be the part `Read` of the document (`value satisfies
 * Writes<typeof value, Read, NotRead[…]>`): T itself when T, as JSON, is what the schema reads and has no
 * member besides the schema's and `notRead`; otherwise a type naming each stray member, so tsc reports it.
 */
export type Writes<T, Read, notRead extends PropertyKey = never> = [
  Exclude<keyof T, keyof Read | notRead>,
] extends [never]
  ? AsJson<T> extends Read
    ? T
    : Read
  : {
      [K in Exclude<
        keyof T,
        keyof Read | notRead
      >]: 'not in db/bench-run-document.ts: add it to the schema or to NotRead'
    }
