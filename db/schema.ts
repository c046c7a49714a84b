/**
 * The database schema: what a run was (variant, environment, scenario, engine, load, git), every request
 * outcome, and the run's summary metrics. TypeScript names are camelCase, SQL names snake_case (given
 * explicitly so no driver setting can change them). Names of measures follow ../shared/METRICS.md.
 * Migrations are generated from this file by drizzle-kit (db/migrations, never hand-edited).
 * @module
 */
import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  check,
  customType,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core'
import { decodeFloat32, encodeFloat32 } from './float32.ts'

/** number[] kept as little-endian float32 bytes (see db/float32.ts for why). */
const float32Array = customType<{ data: number[]; driverData: Uint8Array | string }>({
  dataType: () => 'bytea',
  toDriver: (values) => encodeFloat32(values),
  fromDriver: (bytes) => decodeFloat32(bytes),
})

export const variantMethods = ['base', 'quantized', 'pruned', 'distilled'] as const
export const variantFormats = ['gguf', 'onnx', 'remote'] as const
export const runStates = ['running', 'completed', 'failed', 'interrupted'] as const
export const requestStates = ['ok', 'error'] as const
/** 'run' = an ordinary measurement; 'confirm' = a `bench gate --confirm` re-run, never part of a baseline. */
export const runRoles = ['run', 'confirm'] as const
export const alertStates = ['active', 'acknowledged', 'dismissed'] as const
/** Result formats `bench import` reads: other tools', and our own exported run from another database. */
export const importFormats = ['vllm-bench-serve', 'llama-bench', 'bench-run'] as const
export type ImportFormat = (typeof importFormats)[number]

/** Where an imported run came from, with the original document (runs.imported). */
export interface ImportedSource {
  format: ImportFormat
  /** File name as given to `bench import` (base name only). */
  file: string
  /** sha256 of the file's bytes, hex; for bench-run, the run key (db/import/bench-run.ts). */
  sha256: string
  /** ISO time of the import. */
  importedAt: string
  /** The tool's document as read (NaN/Infinity become null); for llama-bench, this run's own records. */
  document: unknown
  /** How fields were mapped where the tool's definitions differ from ours, and what was left unmapped. */
  notes: string[]
}

/** A model variant: a base model or one derived from it (quantized, pruned, distilled). */
export const variants = pgTable(
  'variants',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** sha256 of the canonical JSON of every identity field below: one row per distinct variant. */
    identityHash: text('identity_hash').notNull(),
    name: text('name').notNull(),
    family: text('family'),
    method: text('method', { enum: variantMethods }).notNull(),
    format: text('format', { enum: variantFormats }).notNull(),
    /** Q4_K_M, Q8_0, AWQ-INT4, GPTQ-INT4, FP8-E4M3, INT8 … */
    quantLabel: text('quant_label'),
    bits: real('bits'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    sha256: text('sha256'),
    parentId: integer('parent_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('variants_identity_hash_key').on(t.identityHash),
    foreignKey({ columns: [t.parentId], foreignColumns: [t.id], name: 'variants_parent_id_fkey' }),
    check('variants_method_check', sql`${t.method} in ('base', 'quantized', 'pruned', 'distilled')`),
    check('variants_format_check', sql`${t.format} in ('gguf', 'onnx', 'remote')`),
  ],
)

/** The machine a run's client (and in-process engine) ran on. */
export const environments = pgTable(
  'environments',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** sha256 of the canonical JSON of every field below: one row per distinct environment. */
    hash: text('hash').notNull(),
    cpuModel: text('cpu_model').notNull(),
    cores: integer('cores').notNull(),
    ramBytes: bigint('ram_bytes', { mode: 'number' }).notNull(),
    /** `[{ name, vramBytes? }]`, empty without a GPU. */
    gpus: jsonb('gpus').$type<{ name: string; vramBytes?: number }[]>().notNull(),
    os: text('os').notNull(),
    nodeVersion: text('node_version').notNull(),
    /** e.g. `{ "node-llama-cpp": "3.21.1", "onnxruntime-node": "1.30.0" }`. */
    engineVersions: jsonb('engine_versions').$type<Record<string, string>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('environments_hash_key').on(t.hash)],
)

/** One target × one load step of one scenario. Written (state running) before its first request. */
/**
 * One `bench sweep`: the search for the highest arrival rate an endpoint serves within its SLOs. Each step
 * is a run (runs.sweep_id, runs.sweep_step); the knee and how the search ended are set when it ends.
 */
export const sweeps = pgTable('sweeps', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  /** The invocation of `bench sweep` (runs.invocation_id of its steps). */
  invocationId: text('invocation_id'),
  /** Scenario and target names of the step runs. */
  scenarioName: text('scenario_name').notNull(),
  targetName: text('target_name').notNull(),
  /** Endpoint swept, without credentials. */
  baseUrl: text('base_url').notNull(),
  model: text('model').notNull(),
  /** 'constant' | 'poisson'. */
  arrivals: text('arrivals').notNull(),
  /** The bounds: [{ name: 'ttftMsP95', metric, percentile, maxMs }]. */
  slo: jsonb('slo').notNull(),
  /** Search and step settings: minRatePerS, maxRatePerS, tolerance, maxSteps, durationS, promptTokens, outputTokens. */
  options: jsonb('options').$type<Record<string, unknown>>().notNull(),
  label: text('label'),
  state: text('state', { enum: runStates }).notNull(),
  /** How the search ended (harness/sweep/search.ts SearchEnd); null while running. */
  end: text('end'),
  /** Highest passing rate, requests/s; null when none passed. */
  kneeRatePerS: doublePrecision('knee_rate_per_s'),
  /** Lowest failing rate above the knee, requests/s. */
  firstFailingRatePerS: doublePrecision('first_failing_rate_per_s'),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
})

export const runs = pgTable(
  'runs',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** Groups the runs started by one `bench run` invocation. */
    invocationId: text('invocation_id'),
    scenarioName: text('scenario_name').notNull(),
    scenarioHash: text('scenario_hash').notNull(),
    /** The scenario as run (validated, defaults filled), secrets redacted. */
    scenario: jsonb('scenario').notNull(),
    targetName: text('target_name').notNull(),
    variantId: integer('variant_id').references(() => variants.id),
    environmentId: integer('environment_id').references(() => environments.id),
    engineKind: text('engine_kind').notNull(),
    engineVersion: text('engine_version'),
    /** File name or served model id (EngineInfo.model). */
    engineModel: text('engine_model').notNull(),
    engineDevice: text('engine_device'),
    /** Engine options as configured; secrets removed by the runner and redacted again by the sink. */
    engineOptions: jsonb('engine_options').$type<Record<string, unknown>>().notNull(),
    load: jsonb('load').notNull(),
    loadKind: text('load_kind').notNull(),
    /** 0-based step of a sweep; 0 otherwise. */
    loadIndex: integer('load_index').notNull(),
    label: text('label'),
    /** Comparability fingerprint: hash(variant sha or model id, engine kind+version+options, scenario hash, environment hash). */
    fingerprint: text('fingerprint').notNull(),
    gitCommit: text('git_commit'),
    gitBranch: text('git_branch'),
    gitMergeBase: text('git_merge_base'),
    state: text('state', { enum: runStates }).notNull(),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /** Last sign of life of the writing process (database clock); stale + running = interrupted. */
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * Process id and host name (os.hostname()) of the process writing the run: a command on that host sees
     * at once that a `running` run's writer is gone (db/liveness.ts); the heartbeat covers other hosts.
     * Null on imported runs and on runs written before these columns existed.
     */
    writerPid: integer('writer_pid'),
    writerHost: text('writer_host'),
    /** Set on runs imported from another tool's results (`bench import`); null for runs measured here. */
    imported: jsonb('imported').$type<ImportedSource>(),
    /** Why the run exists (runRoles); baselines read only 'run'. */
    role: text('role', { enum: runRoles }).notNull().default('run'),
    /** The `bench sweep` this run is a step of, and which step (0-based, in the order run); null otherwise. */
    sweepId: integer('sweep_id').references(() => sweeps.id, { onDelete: 'set null' }),
    sweepStep: integer('sweep_step'),
  },
  (t) => [
    check('runs_state_check', sql`${t.state} in ('running', 'completed', 'failed', 'interrupted')`),
    // Leaderboard: latest comparable completed run per target per scenario.
    index('runs_scenario_target_started_idx').on(t.scenarioName, t.targetName, t.startedAt.desc()),
    // Leaderboard, index-only: every key db/queries/leaderboard.ts reads, in its DISTINCT ON order (the
    // branch last, as a filter). Measured on 10 k runs (npm run bench:db): 9 ms → under 2 ms per call.
    index('runs_leaderboard_idx')
      // NULLS FIRST is what a plain ORDER BY … DESC means; an index that differs is not used for the order.
      .on(
        t.scenarioName,
        t.targetName,
        t.fingerprint,
        t.startedAt.desc().nullsFirst(),
        t.id.desc().nullsFirst(),
        t.gitBranch,
      )
      .where(sql`${t.state} = 'completed'`),
    // History: one fingerprint over time/commits.
    index('runs_fingerprint_started_idx').on(t.fingerprint, t.startedAt.desc()),
    index('runs_started_idx').on(t.startedAt.desc()),
    // Liveness sweep at start-up only ever looks at running runs.
    index('runs_running_heartbeat_idx').on(t.heartbeatAt).where(sql`${t.state} = 'running'`),
    index('runs_state_started_idx').on(t.state, t.startedAt.desc()),
    index('runs_invocation_idx').on(t.invocationId),
    index('runs_sweep_idx').on(t.sweepId, t.sweepStep),
  ],
)

/**
 * One row per measured request outcome. Times are ms relative to the run's clock origin (runs.started_at).
 * Chunk gaps are float32 bytes (4 per gap; db/float32.ts); null on error outcomes. The (run_id, seq)
 * primary key makes a re-flushed batch a no-op.
 */
export const requests = pgTable(
  'requests',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    state: text('state', { enum: requestStates }).notNull(),
    promptIndex: integer('prompt_index').notNull(),
    /** timeout · http · stream · engine · crash · aborted (error outcomes only). */
    errorKind: text('error_kind'),
    httpStatus: integer('http_status'),
    message: text('message'),
    scheduledAtMs: doublePrecision('scheduled_at_ms').notNull(),
    startedAtMs: doublePrecision('started_at_ms').notNull(),
    ttftMs: doublePrecision('ttft_ms'),
    e2eMs: doublePrecision('e2e_ms'),
    chunks: integer('chunks'),
    promptTokens: integer('prompt_tokens'),
    outputTokens: integer('output_tokens'),
    tokensSource: text('tokens_source', { enum: ['server', 'tokenizer', 'chunks'] }),
    serverOutputTokens: integer('server_output_tokens'),
    tokenizerOutputTokens: integer('tokenizer_output_tokens'),
    finishReason: text('finish_reason'),
    serverTimings: jsonb('server_timings').$type<Record<string, number>>(),
    /** Times the request was resent because a reused connection closed before any response byte (0 or 1). */
    connectionRetries: integer('connection_retries').notNull().default(0),
    chunkGapsMs: float32Array('chunk_gaps_ms'),
  },
  (t) => [
    primaryKey({ name: 'requests_pkey', columns: [t.runId, t.seq] }),
    check('requests_state_check', sql`${t.state} in ('ok', 'error')`),
  ],
)

/**
 * One row per item of an accuracy run (runs.load_kind 'accuracy'; harness/results.ts ItemOutcome): what was
 * asked, what the engine chose and from what, so two variants compare item by item (McNemar on item_id).
 * An item that failed keeps its error and has correct null (left out of acc). The (run_id, seq) primary
 * key makes a re-flushed or replayed batch a no-op, as for requests.
 */
export const accuracyItems = pgTable(
  'accuracy_items',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    /** 0-based position among the run's items, in scoring order. */
    seq: integer('seq').notNull(),
    /** `{subject}/{split}/{index}`: the same item in every run. */
    itemId: text('item_id').notNull(),
    subject: text('subject').notNull(),
    /** Position of the item in its subject and split. */
    itemIndex: integer('item_index').notNull(),
    /** 0-based index of the right choice. */
    answer: integer('answer').notNull(),
    /** 0-based index of the chosen one; null when none was chosen (an error, or no letter generated). */
    predicted: integer('predicted'),
    /** null when the item failed (not scored). */
    correct: boolean('correct'),
    /** mmlu-continuation: the acc_norm choice (argmax of loglik / choice length); null otherwise. */
    predictedNorm: integer('predicted_norm'),
    /** loglik mode: natural-log likelihood of each choice, in choice order (float8: ties stay ties). */
    logliks: doublePrecision('logliks').array(),
    /** generate mode: the text generated. */
    generated: text('generated'),
    /** When scoring the item started, ms relative to the run's clock origin. */
    startedAtMs: doublePrecision('started_at_ms').notNull(),
    durationMs: doublePrecision('duration_ms').notNull(),
    /** timeout · http · stream · engine · crash · aborted · capability (failed items only). */
    errorKind: text('error_kind'),
    message: text('message'),
  },
  (t) => [primaryKey({ name: 'accuracy_items_pkey', columns: [t.runId, t.seq] })],
)

/** The run's summary as flat scalars (what the gate, leaderboard and history read). */
export const runMetrics = pgTable(
  'run_metrics',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    /** e.g. `outputTokensPerS`, `ttftMsP95`. */
    name: text('name').notNull(),
    value: doublePrecision('value').notNull(),
    unit: text('unit').notNull(),
    direction: text('direction', { enum: ['higher', 'lower', 'none'] }).notNull(),
    n: integer('n').notNull(),
  },
  (t) => [primaryKey({ name: 'run_metrics_pkey', columns: [t.runId, t.name] })],
)

/** Kinds of a server metric as its `# TYPE` line declares them (harness/server-metrics/parse.ts). */
export const serverMetricKinds = ['counter', 'gauge', 'histogram', 'summary', 'untyped'] as const

/**
 * Whether a run read its serving engine's Prometheus /metrics (harness/server-metrics), one row per run
 * that tried: `ok` with its series in run_server_metrics, or `unavailable` and why (404, timeout, malformed).
 */
export const runServerScrapes = pgTable('run_server_scrapes', {
  runId: integer('run_id')
    .primaryKey()
    .references(() => runs.id, { onDelete: 'cascade' }),
  /** Where they were read, without credentials or query string. */
  url: text('url').notNull(),
  state: text('state', { enum: ['ok', 'unavailable'] }).notNull(),
  /** unavailable: why there are no series; ok: what to know about them (a counter reset), else null. */
  reason: text('reason'),
  /** Gauge samples taken during the run, besides the scrapes before and after. */
  samples: integer('samples').notNull(),
})

/**
 * One series of the serving engine's metrics over a run: counters as after − before, histograms and
 * summaries as the deltas of `_count` (delta) and `_sum` (sum_delta), gauges as before / after / max.
 */
export const runServerMetrics = pgTable(
  'run_server_metrics',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    /** Position of the series in the server's answer (stable order for the run page). */
    seq: integer('seq').notNull(),
    /** e.g. `vllm:prompt_tokens_total`, `llamacpp:tokens_predicted_total`. */
    name: text('name').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    kind: text('kind', { enum: serverMetricKinds }).notNull(),
    /** Value (histogram, summary: `_count`) before and after the run; null: the series was absent. */
    before: doublePrecision('before'),
    after: doublePrecision('after'),
    /** counter, histogram, summary: after − before; null for gauges. */
    delta: doublePrecision('delta'),
    /** histogram, summary: the `_sum`'s delta (mean = sum_delta / delta). */
    sumDelta: doublePrecision('sum_delta'),
    /** gauge, untyped: the largest value seen before, during and after the run. */
    max: doublePrecision('max'),
  },
  (t) => [primaryKey({ name: 'run_server_metrics_pkey', columns: [t.runId, t.seq] })],
)

/** What one gate decision is about and its limits, shared by run_limits and alerts (fresh builders each call). */
function gateDecisionColumns() {
  return {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    metric: text('metric').notNull(),
    method: text('method').notNull(),
    /** The figure compared: the run's value, or the mean of the pooled repetitions. */
    candidate: doublePrecision('candidate'),
    baseline: doublePrecision('baseline'),
    lower: doublePrecision('lower'),
    upper: doublePrecision('upper'),
  }
}

/**
 * What `bench gate` decided for a candidate run and metric: the baseline centre and the decision limits
 * (the band a chart draws), one row per run × metric × method; a later gate of the same run replaces it.
 */
export const runLimits = pgTable(
  'run_limits',
  {
    ...gateDecisionColumns(),
    /** regression · improvement · ok · insufficient-data */
    verdict: text('verdict').notNull(),
    pValue: doublePrecision('p_value'),
    /** Baseline points used. */
    baselineN: integer('baseline_n').notNull(),
    computedAt: timestamp('computed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'run_limits_pkey', columns: [t.runId, t.metric, t.method] })],
)

/** A regression the gate found, with a lifecycle: active → acknowledged or dismissed (who, when, why). */
export const alerts = pgTable(
  'alerts',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    ...gateDecisionColumns(),
    deltaPct: doublePrecision('delta_pct'),
    pValue: doublePrecision('p_value'),
    reason: text('reason').notNull(),
    state: text('state', { enum: alertStates }).notNull().default('active'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    actedBy: text('acted_by'),
    actedAt: timestamp('acted_at', { withTimezone: true }),
    note: text('note'),
  },
  (t) => [
    check('alerts_state_check', sql`${t.state} in ('active', 'acknowledged', 'dismissed')`),
    index('alerts_state_created_idx').on(t.state, t.createdAt.desc()),
    index('alerts_run_idx').on(t.runId),
  ],
)

/**
 * Change points of one series (fingerprint × metric), from `bench changepoints`; recomputing a series
 * replaces all its rows.
 */
export const changePoints = pgTable(
  'change_points',
  {
    fingerprint: text('fingerprint').notNull(),
    metric: text('metric').notNull(),
    /** The first run of the new regime. */
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    /** Position of that run in the series analysed (0 = oldest point). */
    pointIndex: integer('point_index').notNull(),
    /** (after mean / before mean − 1) · 100. */
    changePct: doublePrecision('change_pct').notNull(),
    /** Otava's magnitude, a fraction. */
    magnitude: doublePrecision('magnitude').notNull(),
    pValue: doublePrecision('p_value').notNull(),
    meanBefore: doublePrecision('mean_before').notNull(),
    meanAfter: doublePrecision('mean_after').notNull(),
    computedAt: timestamp('computed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'change_points_pkey', columns: [t.fingerprint, t.metric, t.runId] })],
)

/**
 * What an hour of an environment (the machine a run's client and in-process engine ran on) costs, entered
 * by a person for procurement comparisons (tokens per dollar); one current price per environment, replaced
 * on each write. US dollars per hour, finite and > 0.
 */
export const environmentPrices = pgTable(
  'environment_prices',
  {
    environmentId: integer('environment_id')
      .primaryKey()
      .references(() => environments.id, { onDelete: 'cascade' }),
    usdPerHour: doublePrecision('usd_per_hour').notNull(),
    note: text('note'),
    /** Who entered the price (free text from the writer; not authenticated beyond the bearer token). */
    updatedBy: text('updated_by'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // In PostgreSQL NaN sorts above every number, Infinity included: `< 'Infinity'` also refuses NaN.
    check(
      'environment_prices_usd_per_hour_check',
      sql`${t.usdPerHour} > 0 and ${t.usdPerHour} < 'Infinity'::double precision`,
    ),
  ],
)

/**
 * The machine serving an endpoint target (its hardware, GPUs and hourly price), entered on the dashboard
 * for procurement: an endpoint run's environment is the client that ran bench, never the server. Keyed by
 * scenario and target name (what the procurement page lists); it overrides the `serving` the scenario
 * declared for that target (stored with each run in runs.scenario). US dollars per hour, finite and > 0.
 */
export const servingIdentities = pgTable(
  'serving_identities',
  {
    scenarioName: text('scenario_name').notNull(),
    targetName: text('target_name').notNull(),
    hardware: text('hardware').notNull(),
    gpu: text('gpu'),
    gpuCount: integer('gpu_count'),
    usdPerHour: doublePrecision('usd_per_hour').notNull(),
    note: text('note'),
    /** Who entered it (free text from the writer; not authenticated beyond the bearer token). */
    updatedBy: text('updated_by'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.scenarioName, t.targetName] }),
    check(
      'serving_identities_usd_per_hour_check',
      sql`${t.usdPerHour} > 0 and ${t.usdPerHour} < 'Infinity'::double precision`,
    ),
    check('serving_identities_gpu_count_check', sql`${t.gpuCount} is null or ${t.gpuCount} > 0`),
  ],
)

/**
 * Distributed execution (db/queue): a matrix is one scenario split into jobs (target × load step) that
 * `bench worker` processes claim from graphile-worker's queue (schema graphile_worker, installed by
 * graphile-worker's own migrations); these tables keep what outlives a queue row: each job's outcome,
 * attempts and runs, and the workers' heartbeats.
 */
export const matrixJobStates = ['queued', 'running', 'retrying', 'completed', 'dead'] as const

export const matrices = pgTable('matrices', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  /** runs.invocation_id of every run of the matrix. */
  invocationId: text('invocation_id').notNull(),
  scenarioName: text('scenario_name').notNull(),
  /** The validated scenario the jobs run (workers read it from here, not from a file). */
  scenario: jsonb('scenario').notNull(),
  /** The scenario file as given to `bench enqueue`; relative paths in it resolve against its directory. */
  source: text('source').notNull(),
  baseDir: text('base_dir').notNull(),
  label: text('label'),
  /** Tags a worker must have to claim a job of this matrix, e.g. ['gpu=h100']. */
  requiredTags: jsonb('required_tags').$type<string[]>().notNull(),
  /** Attempts per job before it is dead (a killed worker's attempt counts). */
  maxAttempts: integer('max_attempts').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
})

export const matrixJobs = pgTable(
  'matrix_jobs',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    matrixId: integer('matrix_id')
      .notNull()
      .references(() => matrices.id, { onDelete: 'cascade' }),
    /** 0-based position in the matrix. */
    ordinal: integer('ordinal').notNull(),
    /** The job kind (db/queue/kinds.ts): 'run' is one target × one load step. */
    kind: text('kind').notNull(),
    targetName: text('target_name').notNull(),
    /** Index of the step in the scenario's expanded loads; null for a kind that is not a load step. */
    loadIndex: integer('load_index'),
    /** What the kind needs beyond the matrix (for 'run': the load step). */
    spec: jsonb('spec').notNull(),
    state: text('state', { enum: matrixJobStates }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** graphile_worker job id; its row is deleted once the job completes. */
    queueJobId: bigint('queue_job_id', { mode: 'number' }),
    /** queue_workers.id of the current or last attempt. */
    workerId: text('worker_id'),
    /** Every run any attempt started (a killed attempt's run is interrupted, never completed). */
    runIds: integer('run_ids').array().notNull().default(sql`'{}'::integer[]`),
    /** The one completed run of the job. */
    runId: integer('run_id').references(() => runs.id, { onDelete: 'set null' }),
    lastError: text('last_error'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('matrix_jobs_matrix_ordinal_idx').on(t.matrixId, t.ordinal),
    check(
      'matrix_jobs_state_check',
      sql`${t.state} in ('queued', 'running', 'retrying', 'completed', 'dead')`,
    ),
  ],
)

/** One row per `bench worker` process: its heartbeat lets the others release the jobs of a dead one. */
export const queueWorkers = pgTable(
  'queue_workers',
  {
    /** graphile-worker's pool id: what its locked jobs carry in locked_by. */
    id: text('id').primaryKey(),
    host: text('host').notNull(),
    pid: integer('pid').notNull(),
    tags: jsonb('tags').$type<string[]>().notNull(),
    concurrency: integer('concurrency').notNull(),
    /** 'running' | 'stopped' (exited cleanly) | 'lost' (killed or silent; its jobs were released). */
    state: text('state').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    /** Database clock, refreshed every second while running. */
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
    stoppedAt: timestamp('stopped_at', { withTimezone: true }),
  },
  (t) => [check('queue_workers_state_check', sql`${t.state} in ('running', 'stopped', 'lost')`)],
)

/** A speculative-decoding study's lifecycle: queued (waiting for a worker), running, completed, failed. */
export const specStudyStates = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const

/**
 * One speculative-decoding acceptance study (issue 20, harness/speculative): run by `bench spec` or by a
 * `spec-study` queue job launched from the dashboard. The figures the pages list sit in columns; the rest
 * of the record (baselines, the logprob α summary, the α × K table) in `details`.
 */
export const specStudies = pgTable(
  'spec_studies',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** The study's name (its file's `name`). */
    name: text('name').notNull(),
    /**
     * 'native' (our draft/verify loop on two GGUF models; rows in spec_study_k, _prompts, _positions) or
     * 'endpoint' (deployed servers without and with speculation; rows in spec_endpoint_k, _positions).
     */
    kind: text('kind').notNull(),
    /** The validated study (harness/speculative/study-file.ts), defaults filled. */
    study: jsonb('study').notNull(),
    /** The study file as given (`bench spec <file>`, or the dashboard's catalogue). */
    source: text('source'),
    /** Directory relative model paths resolve against on the worker that runs it. */
    baseDir: text('base_dir'),
    label: text('label'),
    state: text('state', { enum: specStudyStates }).notNull(),
    error: text('error'),
    /** Fraction of the study's phases done, 0..1. */
    progress: real('progress').notNull().default(0),
    /** The phase running now (`native loop, K = 3`). */
    progressMessage: text('progress_message'),
    /** Machine and load average (SpecStudyResult.environment). */
    environment: jsonb('environment'),
    /** c = draft ms per token ÷ target ms per token, pooled over the study's baselines. */
    costRatio: doublePrecision('cost_ratio'),
    /** The α the predicted speedups use (logprob top-1 agreement greedy, mean β sampled). */
    alphaUsed: doublePrecision('alpha_used'),
    optimalK: integer('optimal_k'),
    optimalSpeedup: doublePrecision('optimal_speedup'),
    /** Whether the optimal K's predicted speedup exceeds 1. */
    worthwhile: boolean('worthwhile'),
    /** { promptTokens, baseline, logprob, table } of SpecStudyResult. */
    details: jsonb('details'),
    durationMs: doublePrecision('duration_ms'),
    /** The queue job that runs it (null for `bench spec`). */
    matrixId: integer('matrix_id').references(() => matrices.id, { onDelete: 'set null' }),
    matrixJobId: integer('matrix_job_id').references(() => matrixJobs.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('spec_studies_matrix_job_idx').on(t.matrixJobId),
    check(
      'spec_studies_state_check',
      sql`${t.state} in ('queued', 'running', 'completed', 'failed', 'cancelled')`,
    ),
    check('spec_studies_kind_check', sql`${t.kind} in ('native', 'endpoint')`),
  ],
)

/** One K of a study, summed over its prompts (SpecStudyResult.perK). */
export const specStudyK = pgTable(
  'spec_study_k',
  {
    studyId: integer('study_id')
      .notNull()
      .references(() => specStudies.id, { onDelete: 'cascade' }),
    k: integer('k').notNull(),
    drafted: integer('drafted').notNull(),
    accepted: integer('accepted').notNull(),
    verifySteps: integer('verify_steps').notNull(),
    emitted: integer('emitted').notNull(),
    /** accepted / drafted. */
    acceptanceRate: doublePrecision('acceptance_rate').notNull(),
    /** τ = 1 + accepted / verifySteps. */
    meanAcceptanceLength: doublePrecision('mean_acceptance_length').notNull(),
    /** α̂: the α whose E(α, K) is τ. */
    alphaHat: doublePrecision('alpha_hat').notNull(),
    /** Steps that kept exactly n drafted tokens, n = 0..K. */
    acceptLengths: integer('accept_lengths').array().notNull(),
    tokensPerS: doublePrecision('tokens_per_s').notNull(),
    baselineTokensPerS: doublePrecision('baseline_tokens_per_s').notNull(),
    /** c measured beside this K's runs. */
    costRatio: doublePrecision('cost_ratio').notNull(),
    measuredSpeedup: doublePrecision('measured_speedup').notNull(),
    predictedSpeedup: doublePrecision('predicted_speedup').notNull(),
    /** measured − predicted. */
    error: doublePrecision('error').notNull(),
    predictedFromTau: doublePrecision('predicted_from_tau').notNull(),
    verifyCostRatio: doublePrecision('verify_cost_ratio').notNull(),
    matchesTarget: boolean('matches_target'),
    /** The rest of the row: draft/verify ms, predictedFromMeasuredCosts, node-llama-cpp's figures. */
    details: jsonb('details').notNull(),
  },
  (t) => [primaryKey({ columns: [t.studyId, t.k] })],
)

/** One prompt at one K (SpecStudyResult.perPrompt). */
export const specStudyPrompts = pgTable(
  'spec_study_prompts',
  {
    studyId: integer('study_id')
      .notNull()
      .references(() => specStudies.id, { onDelete: 'cascade' }),
    k: integer('k').notNull(),
    /** 0-based index in the study's prompts. */
    prompt: integer('prompt').notNull(),
    drafted: integer('drafted').notNull(),
    accepted: integer('accepted').notNull(),
    verifySteps: integer('verify_steps').notNull(),
    emitted: integer('emitted').notNull(),
    acceptLengths: integer('accept_lengths').array().notNull(),
    meanAcceptanceLength: doublePrecision('mean_acceptance_length').notNull(),
    tokensPerS: doublePrecision('tokens_per_s').notNull(),
    baselineTokensPerS: doublePrecision('baseline_tokens_per_s').notNull(),
    matchesTarget: boolean('matches_target'),
  },
  (t) => [primaryKey({ columns: [t.studyId, t.k, t.prompt] })],
)

/** Per-position acceptance at one K: rate = steps whose position-th drafted token was kept ÷ steps. */
export const specStudyPositions = pgTable(
  'spec_study_positions',
  {
    studyId: integer('study_id')
      .notNull()
      .references(() => specStudies.id, { onDelete: 'cascade' }),
    k: integer('k').notNull(),
    /** 1..K. */
    position: integer('position').notNull(),
    accepted: integer('accepted').notNull(),
    rate: doublePrecision('rate').notNull(),
  },
  (t) => [primaryKey({ columns: [t.studyId, t.k, t.position] })],
)

/**
 * One K of an endpoint study (harness/speculative/endpoints/study.ts EndpointStudyRow): what the server
 * said it drafted and accepted over the prompts, and the decode speed with speculation against the same
 * target without it. A figure the server does not report is null (never 0): llama-server's per-response
 * timings have no verification steps (so no τ, α̂ or prediction), SGLang's gauges no counts. Per-position
 * acceptance, when served, is in spec_study_positions (rate = accepted at that position ÷ drafts).
 */
export const specEndpointK = pgTable(
  'spec_endpoint_k',
  {
    studyId: integer('study_id')
      .notNull()
      .references(() => specStudies.id, { onDelete: 'cascade' }),
    k: integer('k').notNull(),
    /** Drafted tokens (Δ over the pass). */
    drafted: integer('drafted'),
    accepted: integer('accepted'),
    /** Verification steps (drafts the target checked). */
    drafts: integer('drafts'),
    /** accepted / drafted. */
    acceptanceRate: doublePrecision('acceptance_rate'),
    /** τ = 1 + accepted / drafts (SGLang: its gauge). */
    meanAcceptanceLength: doublePrecision('mean_acceptance_length'),
    /** α̂: the α whose E(α, K) is τ. */
    alphaHat: doublePrecision('alpha_hat'),
    /** Decode tokens/s with speculation at this K (tokens after the first ÷ time after the first). */
    tokensPerS: doublePrecision('tokens_per_s').notNull(),
    /** The same without speculation (the study's `off` endpoint). */
    baselineTokensPerS: doublePrecision('baseline_tokens_per_s').notNull(),
    /** c the prediction used (the study's, measured from the draft alone or given); null: none. */
    costRatio: doublePrecision('cost_ratio'),
    measuredSpeedup: doublePrecision('measured_speedup').notNull(),
    /** E(α̂, K) / (K·c + 1); null without τ or c. */
    predictedSpeedup: doublePrecision('predicted_speedup'),
    /** measured − predicted. */
    error: doublePrecision('error'),
    /** (measured − predicted) / predicted. */
    relativeError: doublePrecision('relative_error'),
    /** Greedy output identical to the output without speculation, prompt for prompt. */
    sameOutput: boolean('same_output').notNull(),
    /** Where the counters come from ('metrics', 'timings', 'gauges'); null: the server reported none. */
    countersSource: text('counters_source'),
    /** The rest: the counters' own description and window, the decode source, the timings cross-check. */
    details: jsonb('details').notNull(),
  },
  (t) => [primaryKey({ columns: [t.studyId, t.k] })],
)

export type Variant = typeof variants.$inferSelect
export type NewVariant = typeof variants.$inferInsert
export type Environment = typeof environments.$inferSelect
export type NewEnvironment = typeof environments.$inferInsert
export type Run = typeof runs.$inferSelect
export type NewRun = typeof runs.$inferInsert
export type RequestRow = typeof requests.$inferSelect
export type NewRequestRow = typeof requests.$inferInsert
export type AccuracyItemRow = typeof accuracyItems.$inferSelect
export type NewAccuracyItemRow = typeof accuracyItems.$inferInsert
export type RunMetricRow = typeof runMetrics.$inferSelect
export type NewRunMetricRow = typeof runMetrics.$inferInsert
export type RunLimitRow = typeof runLimits.$inferSelect
export type AlertRow = typeof alerts.$inferSelect
export type ChangePointRow = typeof changePoints.$inferSelect
export type EnvironmentPriceRow = typeof environmentPrices.$inferSelect
export type Matrix = typeof matrices.$inferSelect
export type MatrixJob = typeof matrixJobs.$inferSelect
export type QueueWorker = typeof queueWorkers.$inferSelect
export type SpecStudy = typeof specStudies.$inferSelect
export type SpecEndpointKRow = typeof specEndpointK.$inferSelect
