/**
 * Results database benchmark, on real PostgreSQL and on embedded PGlite:
 * - ingest: request rows per second written through the real sink (db/sink.ts: batched INSERT … unnest),
 *   first one run streaming at a time (×1), then several at once (×N, the sink's headroom);
 * - bulk load of the rest of a seeded history (10 k runs, 1 M request rows by default) with real metrics
 *   (summarizeRun over each run's generated outcomes);
 * - p50 / p95 latency of the leaderboard, history, compare (with per-request samples) and run-list
 *   queries (db/queries), many iterations with parameters drawn at random.
 *
 *   npm run bench:db [-- --json] [-- --backends postgres,pglite --runs 10000 --requests 1000000
 *                     --sink-requests 200000 --sink-concurrency 4 --sink-batch-size N --iterations 300 --seed 1
 *                     --maintenance vacuum|analyze|none --keep]
 *
 * PostgreSQL: DATABASE_URL when set (a fresh database is created on it and dropped after), else a
 * throwaway PostgreSQL 15 cluster in a temporary directory, as .ci/run starts one (needs root and the
 * `postgres` user). Goals (issue 4): ≥ 50 k request rows/s into PostgreSQL through the sink; p95 ≤ 50 ms.
 * The full default run takes about 1.5–2 min on PostgreSQL and 2.5–3 min on PGlite on 2 cores.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { createDb, type Database } from '../../db/client.ts'
import { runFingerprint, upsertEnvironment, upsertVariant } from '../../db/identity.ts'
import { insertRequests } from '../../db/insert-requests.ts'
import { compareRuns, historySeries, leaderboard, listRuns } from '../../db/queries/index.ts'
import { type NewRequestRow, type NewRun, runs } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { flattenMetrics } from '../../harness/metrics/flatten.ts'
import { percentile } from '../../harness/metrics/percentile.ts'
import { summarizeRun } from '../../harness/metrics/run.ts'
import type { MetricRow } from '../../harness/metrics/types.ts'
import { createRandom, type Random } from '../../harness/random.ts'
import type { EnvironmentInfo, RequestOutcome, RunMeta, VariantIdentity } from '../../harness/results.ts'
import { freshPgliteDir } from '../helpers/db.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    backends: { type: 'string', default: 'postgres,pglite' },
    runs: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '1000000' },
    'sink-requests': { type: 'string', default: '200000' },
    'sink-concurrency': { type: 'string', default: '4' },
    /** Outcomes per INSERT of the sink; default: the sink's own default. */
    'sink-batch-size': { type: 'string' },
    iterations: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    /**
     * What runs between loading and querying: `vacuum` (VACUUM ANALYZE: what autovacuum does on a live
     * PostgreSQL; PGlite has no autovacuum), `analyze` (statistics only), `none`.
     */
    maintenance: { type: 'string', default: 'vacuum' },
    /** Keep the seeded database (PGlite directory, or the database created on DATABASE_URL) for EXPLAIN. */
    keep: { type: 'boolean', default: false },
  },
})
const RUNS = Number(args.runs)
const REQUESTS = Number(args.requests)
const SINK_REQUESTS = Math.min(Number(args['sink-requests']), REQUESTS)
const SINK_CONCURRENCY = Number(args['sink-concurrency'])
const ITERATIONS = Number(args.iterations)
const SEED = Number(args.seed)
const BACKENDS = args.backends.split(',').map((b) => b.trim()) as ('postgres' | 'pglite')[]
const GOALS = { ingestRowsPerS: 50_000, p95Ms: 50 }
const log = (line: string) => process.stderr.write(`${line}\n`)
// A closed pipe (`| head`) or a signal must still stop the throwaway cluster and remove temporary files.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
const cleanups = new Set<() => Promise<void>>()
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(signal, () => {
    void Promise.allSettled([...cleanups].map((c) => c())).finally(() => process.exit(130))
  })

// ─── The seeded history ─────────────────────────────────────────────────────────────────────────────

const SCENARIOS = ['chat-short', 'long-context', 'endpoint-sweep', 'ci-gate', 'quickstart']
const TARGETS = ['tiny-f32', 'tiny-q8', 'tiny-q4', 'tiny-pruned', 'remote-a']
const LOADS: RunMeta['load'][] = [
  { kind: 'concurrent', concurrency: 1, requests: 100 },
  { kind: 'concurrent', concurrency: 8, requests: 100 },
]
const FEATURE_BRANCHES = Array.from({ length: 10 }, (_, i) => `feature-${i}`)
const HISTORY_DAYS = 120
const environment: EnvironmentInfo = {
  cpuModel: 'Bench CPU @ 2.0GHz',
  cores: 2,
  ramBytes: 24 * 1024 ** 3,
  gpus: [],
  os: 'Linux bench x64',
  nodeVersion: process.version,
  engineVersions: { 'node-llama-cpp': '3.21.1' },
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
          sha256: Buffer.from(target).toString('hex').padEnd(64, '0'),
          parent: baseVariant,
        }

interface RunPlan {
  meta: RunMeta
  state: 'completed' | 'failed' | 'interrupted'
  requests: number
  viaSink: boolean
}

/** Runs in time order over HISTORY_DAYS; the first `sinkRuns` carry SINK_REQUESTS requests together. */
function planRuns(random: Random): RunPlan[] {
  const sinkRuns = Math.max(SINK_CONCURRENCY, Math.round(SINK_REQUESTS / 5_000))
  const start = Date.parse('2026-07-01T00:00:00Z')
  const stepMs = (HISTORY_DAYS * 86_400_000) / RUNS
  const rest = REQUESTS - SINK_REQUESTS
  const plans: RunPlan[] = []
  for (let i = 0; i < RUNS; i++) {
    const scenario = SCENARIOS[random.int(0, SCENARIOS.length - 1)] as string
    const target = TARGETS[random.int(0, TARGETS.length - 1)] as string
    const loadIndex = random.int(0, LOADS.length - 1)
    // The engine is upgraded two thirds of the way through: a second fingerprint for every series.
    const engineVersion = i < (RUNS * 2) / 3 ? '1.4.0' : '1.5.0'
    const branch =
      random.next() < 0.8 ? 'main' : (FEATURE_BRANCHES[random.int(0, FEATURE_BRANCHES.length - 1)] as string)
    const roll = random.next()
    const viaSink = i < sinkRuns
    const variant = variantOf(target)
    plans.push({
      meta: {
        scenario: { name: scenario, hash: `hash-${scenario}`, source: { name: scenario } },
        target: { name: target },
        engine: {
          kind: 'openai',
          engineVersion,
          model: target,
          capabilities: {
            logprobs: false,
            scoreChoices: false,
            tokenize: false,
            memory: false,
            draft: false,
          },
        },
        engineOptions: { kind: 'openai', model: target, api: 'chat' },
        load: LOADS[loadIndex] as RunMeta['load'],
        loadIndex,
        startedAtIso: new Date(start + i * stepMs).toISOString(),
        clockOrigin: 0,
        environment,
        git: { commit: (0x100000 + i).toString(16).padStart(40, '0'), branch },
        ...(variant ? { variant } : {}),
      },
      state: roll < 0.94 ? 'completed' : roll < 0.97 ? 'failed' : 'interrupted',
      requests: viaSink ? Math.floor(SINK_REQUESTS / sinkRuns) + (i < SINK_REQUESTS % sinkRuns ? 1 : 0) : 0,
      viaSink,
    })
  }
  // Spread the remaining rows over the other runs in proportion to random weights (20 … 140), exactly.
  const others = plans.filter((p) => !p.viaSink)
  const weights = others.map(() => random.int(20, 140))
  const total = weights.reduce((a, b) => a + b, 0)
  let assigned = 0
  others.forEach((p, i) => {
    p.requests = Math.floor(((weights[i] as number) * rest) / total)
    assigned += p.requests
  })
  for (let i = 0; assigned < rest; i++, assigned++) (others[i % others.length] as RunPlan).requests++
  return plans
}

/** Outcomes shaped like a streamed chat run: gamma TTFT, 16–64 tokens, some two-token chunks, 1 % errors. */
function outcomesOf(random: Random, n: number, concurrency: number): RequestOutcome[] {
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
        error: { kind: 'http', status: 503, message: 'Service Unavailable' },
      })
      continue
    }
    const ttftMs = random.gamma(4, 20 * concurrency)
    const outputTokens = random.int(16, 64)
    const gaps: number[] = []
    for (let produced = 1; produced < outputTokens; ) {
      const burst = random.next() < 0.1 && produced + 2 <= outputTokens ? 2 : 1
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

// ─── Backends ───────────────────────────────────────────────────────────────────────────────────────

interface Backend {
  db: Database
  describe: string
  dispose(): Promise<void>
}

async function openBackend(name: 'postgres' | 'pglite'): Promise<Backend> {
  if (name === 'pglite') {
    const dir = await freshPgliteDir()
    const db = await createDb({ dataDir: dir })
    return {
      db,
      describe: `PGlite ${dir}`,
      async dispose() {
        await db.close()
        if (args.keep) log(`kept ${dir}`)
        else rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  if (process.env.DATABASE_URL) {
    const admin = process.env.DATABASE_URL
    const name = `bench_perf_${randomBytes(6).toString('hex')}`
    const sqlAdmin = postgres(admin, { max: 1, onnotice: () => {} })
    await sqlAdmin.unsafe(`create database ${name}`)
    await sqlAdmin.end()
    const url = new URL(admin)
    url.pathname = `/${name}`
    const db = await createDb({ url: url.toString() })
    return {
      db,
      describe: `PostgreSQL (DATABASE_URL, database ${name})`,
      async dispose() {
        await db.close()
        if (args.keep) {
          log(`kept ${url.toString()}`)
          return
        }
        const cleanup = postgres(admin, { max: 1, onnotice: () => {} })
        await cleanup.unsafe(`drop database if exists ${name} with (force)`)
        await cleanup.end()
      },
    }
  }
  const cluster = await startThrowawayPostgres()
  const db = await createDb({ url: cluster.url })
  return {
    db,
    describe: `PostgreSQL ${cluster.version} (throwaway cluster, fsync off)`,
    async dispose() {
      await db.close()
      cluster.stop()
    },
  }
}

/** initdb + pg_ctl start in a temporary directory, as .ci/run does; fsync off (a benchmark, not storage). */
async function startThrowawayPostgres(): Promise<{ url: string; version: string; stop: () => void }> {
  const bin = execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1'])
    .toString()
    .trim()
  if (!bin)
    throw new Error(
      'no PostgreSQL server binaries under /usr/lib/postgresql; set DATABASE_URL or pass --backends pglite',
    )
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-pg-'))
  const user = Number(execFileSync('id', ['-u', 'postgres']).toString())
  const group = Number(execFileSync('id', ['-g', 'postgres']).toString())
  chownSync(dir, user, group)
  const port = await freePort()
  const asPostgres = (cmd: string, cmdArgs: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...cmdArgs], { stdio: 'pipe' })
  asPostgres('initdb', ['-D', `${dir}/data`, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
  asPostgres('pg_ctl', [
    '-D',
    `${dir}/data`,
    '-l',
    `${dir}/log`,
    '-w',
    '-t',
    '30',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    'start',
  ])
  const version =
    /\d+(\.\d+)+/.exec(execFileSync(path.join(bin, 'postgres'), ['--version']).toString())?.[0] ?? '?'
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    version,
    stop() {
      try {
        asPostgres('pg_ctl', ['-D', `${dir}/data`, '-m', 'immediate', '-w', 'stop'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

// ─── Phases ─────────────────────────────────────────────────────────────────────────────────────────

interface IngestRate {
  /** Runs streaming at the same time. */
  concurrency: number
  runs: number
  rows: number
  seconds: number
  rowsPerS: number
  /** CPU time of this process per wall second, % of one core: near 100 means the client was the limit. */
  clientCpuPct: number
}

/**
 * Streams the sink runs' outcomes through createPostgresSink: the first fifth one run at a time (what a
 * single `bench run` target produces), the rest SINK_CONCURRENCY runs at a time (headroom).
 */
async function ingestThroughSink(db: Database, plans: RunPlan[], random: Random): Promise<IngestRate[]> {
  const work = plans
    .filter((p) => p.viaSink)
    .map((p) => {
      const outcomes = outcomesOf(
        random,
        p.requests,
        p.meta.load.kind === 'concurrent' ? p.meta.load.concurrency : 1,
      )
      return { plan: p, outcomes, metrics: summarizeRun(outcomes) }
    })
  const single = Math.max(1, Math.floor(work.length / 5))
  return [
    await streamRuns(db, work.slice(0, single), 1),
    await streamRuns(db, work.slice(single), SINK_CONCURRENCY),
  ]
}

async function streamRuns(
  db: Database,
  work: { plan: RunPlan; outcomes: RequestOutcome[]; metrics: ReturnType<typeof summarizeRun> }[],
  concurrency: number,
): Promise<IngestRate> {
  const sink = createPostgresSink(
    db,
    args['sink-batch-size'] ? { batchSize: Number(args['sink-batch-size']) } : {},
  )
  let rows = 0
  let next = 0
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const worker = async () => {
    while (next < work.length) {
      const item = work[next++]
      if (!item) break
      const recorder = await sink.startRun(item.plan.meta)
      // Outcomes arrive in slices, the event loop turning between them as it does while requests stream.
      for (let i = 0; i < item.outcomes.length; i += 250) {
        for (const o of item.outcomes.slice(i, i + 250)) recorder.record(o)
        await yieldToLoop()
      }
      await recorder.finish(item.plan.state, item.metrics)
      rows += item.outcomes.length
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  await sink.close()
  return {
    concurrency,
    runs: work.length,
    rows,
    seconds,
    rowsPerS: rows / seconds,
    clientCpuPct: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
  }
}

/** Writes the other runs directly: run rows, request rows (one unnest INSERT per 10 k), metric rows. */
async function bulkLoad(db: Database, plans: RunPlan[], random: Random) {
  const environmentId = await upsertEnvironment(db, environment)
  const variantIds = new Map<string, number>()
  for (const target of TARGETS) {
    const v = variantOf(target)
    if (v) variantIds.set(target, await upsertVariant(db, v))
  }
  const rest = plans.filter((p) => !p.viaSink)
  const started = performance.now()
  let requestRows = 0
  let metricRows = 0
  for (let i = 0; i < rest.length; i += 500) {
    const chunk = rest.slice(i, i + 500)
    const values: NewRun[] = chunk.map((p) => {
      const startedAt = new Date(p.meta.startedAtIso)
      return {
        scenarioName: p.meta.scenario.name,
        scenarioHash: p.meta.scenario.hash,
        scenario: p.meta.scenario.source,
        targetName: p.meta.target.name,
        variantId: variantIds.get(p.meta.target.name) ?? null,
        environmentId,
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
      const runId = ids[k] as number
      const outcomes = outcomesOf(
        random,
        p.requests,
        p.meta.load.kind === 'concurrent' ? p.meta.load.concurrency : 1,
      )
      for (const o of outcomes) batch.push(requestRow(runId, o))
      if (p.state !== 'interrupted')
        for (const m of flattenMetrics(summarizeRun(outcomes))) metrics.push({ ...m, runId })
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
    if ((i / 500) % 4 === 3) log(`  bulk: ${i + chunk.length} / ${rest.length} runs`)
  }
  return { runs: rest.length, requestRows, metricRows, seconds: (performance.now() - started) / 1000 }
}

function requestRow(runId: number, o: RequestOutcome): NewRequestRow {
  if (o.state === 'error')
    return {
      runId,
      seq: o.seq,
      state: 'error',
      promptIndex: o.promptIndex,
      errorKind: o.error.kind,
      httpStatus: o.error.status ?? null,
      message: o.error.message,
      scheduledAtMs: o.scheduledAt,
      startedAtMs: o.startedAt,
      chunkGapsMs: null,
    }
  return {
    runId,
    seq: o.seq,
    state: 'ok',
    promptIndex: o.promptIndex,
    scheduledAtMs: o.scheduledAt,
    startedAtMs: o.startedAt,
    ttftMs: o.ttftMs,
    e2eMs: o.e2eMs,
    chunks: o.chunks,
    promptTokens: o.promptTokens ?? null,
    outputTokens: o.outputTokens,
    tokensSource: o.tokensSource,
    finishReason: o.finishReason ?? null,
    chunkGapsMs: o.chunkGapsMs,
  }
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

interface Latency {
  p50Ms: number
  p95Ms: number
  maxMs: number
  iterations: number
}

async function timeQueries(db: Database, random: Random) {
  const completed = (await db.execute(
    sql`select id, fingerprint, git_branch from runs where state = 'completed' order by id`,
  )) as unknown
  const rows = (Array.isArray(completed) ? completed : (completed as { rows: unknown[] }).rows) as {
    id: number
    fingerprint: string
    git_branch: string | null
  }[]
  const bySeries = new Map<string, number[]>()
  for (const r of rows) bySeries.set(r.fingerprint, [...(bySeries.get(r.fingerprint) ?? []), r.id])
  const series = [...bySeries.entries()].filter(([, ids]) => ids.length >= 2)
  const pick = <T>(xs: readonly T[]): T => xs[random.int(0, xs.length - 1)] as T
  const metrics = ['outputTokensPerS', 'requestsPerS', 'ttftMsP50', 'ttftMsP95', 'tpotMsP95', 'errorRate']

  const cases: Record<string, () => Promise<unknown>> = {
    leaderboard: () =>
      leaderboard(db, { scenario: pick(SCENARIOS), ...(random.next() < 0.25 ? { branch: 'main' } : {}) }),
    history: () => {
      const [fingerprint] = pick(series)
      return historySeries(db, {
        fingerprint,
        metric: pick(metrics),
        ...(random.next() < 0.25 ? { branch: 'main' } : {}),
      })
    },
    compare: () => {
      const [, ids] = pick(series)
      const a = pick(ids)
      let b = pick(ids)
      while (b === a) b = pick(ids)
      return compareRuns(db, a, b, { chunkGaps: random.next() < 0.25 })
    },
    'runs list': () =>
      listRuns(db, {
        limit: 50,
        ...(random.next() < 0.5 ? { scenario: pick(SCENARIOS) } : { target: pick(TARGETS) }),
        ...(random.next() < 0.3 ? { branch: 'main' } : {}),
      }),
  }
  const result: Record<string, Latency> = {}
  for (const [name, run] of Object.entries(cases)) {
    for (let i = 0; i < Math.min(20, ITERATIONS); i++) await run()
    const samples: number[] = []
    for (let i = 0; i < ITERATIONS; i++) {
      const t0 = performance.now()
      await run()
      samples.push(performance.now() - t0)
    }
    samples.sort((x, y) => x - y)
    result[name] = {
      p50Ms: percentile(samples, 50),
      p95Ms: percentile(samples, 95),
      maxMs: samples.at(-1) ?? 0,
      iterations: ITERATIONS,
    }
  }
  return { queries: result, series: series.length }
}

// ─── Main ───────────────────────────────────────────────────────────────────────────────────────────

interface BackendResult {
  backend: string
  describe: string
  ingest: Awaited<ReturnType<typeof ingestThroughSink>>
  bulk: Awaited<ReturnType<typeof bulkLoad>>
  totals: { runs: number; requests: number; runMetrics: number }
  queries: Record<string, Latency>
  fingerprints: number
  wallSeconds: number
}

async function benchBackend(name: 'postgres' | 'pglite'): Promise<BackendResult> {
  const wall = performance.now()
  const random = createRandom(SEED)
  const plans = planRuns(random)
  const backend = await openBackend(name)
  cleanups.add(backend.dispose)
  try {
    log(`${name}: ${backend.describe}`)
    const ingest = await ingestThroughSink(backend.db, plans, random)
    for (const i of ingest)
      log(
        `  sink, ${i.concurrency} run${i.concurrency > 1 ? 's' : ''} at a time: ${i.rows} request rows in ${i.seconds.toFixed(1)} s (${Math.round(i.rowsPerS)} rows/s, client CPU ${Math.round(i.clientCpuPct)} % of a core)`,
      )
    const bulk = await bulkLoad(backend.db, plans, random)
    log(
      `  bulk: ${bulk.runs} runs, ${bulk.requestRows} request rows, ${bulk.metricRows} metric rows in ${bulk.seconds.toFixed(1)} s`,
    )
    if (args.maintenance !== 'none')
      await backend.db.execute(args.maintenance === 'analyze' ? sql`analyze` : sql`vacuum analyze`)
    const count = async (table: string) => {
      const r = (await backend.db.execute(sql.raw(`select count(*)::int as n from ${table}`))) as unknown
      return ((Array.isArray(r) ? r : (r as { rows: { n: number }[] }).rows)[0] as { n: number }).n
    }
    const totals = {
      runs: await count('runs'),
      requests: await count('requests'),
      runMetrics: await count('run_metrics'),
    }
    const timed = await timeQueries(backend.db, random)
    for (const [q, l] of Object.entries(timed.queries))
      log(`  ${q}: p50 ${l.p50Ms.toFixed(2)} ms, p95 ${l.p95Ms.toFixed(2)} ms`)
    return {
      backend: name,
      describe: backend.describe,
      ingest,
      bulk,
      totals,
      queries: timed.queries,
      fingerprints: timed.series,
      wallSeconds: (performance.now() - wall) / 1000,
    }
  } finally {
    cleanups.delete(backend.dispose)
    await backend.dispose()
  }
}

const results: BackendResult[] = []
for (const name of BACKENDS) results.push(await benchBackend(name))

const queryNames = Object.keys(results[0]?.queries ?? {})
/** The sink's capacity: several runs streaming at once (one run alone rarely produces 50 k requests/s). */
const sinkCapacity = (r: BackendResult) => Math.max(...r.ingest.map((i) => i.rowsPerS))
const pass = results.every(
  (r) =>
    (r.backend !== 'postgres' || sinkCapacity(r) >= GOALS.ingestRowsPerS) &&
    Object.values(r.queries).every((q) => q.p95Ms <= GOALS.p95Ms),
)
if (args.json) {
  process.stdout.write(
    `${JSON.stringify({
      params: {
        runs: RUNS,
        requests: REQUESTS,
        sinkRequests: SINK_REQUESTS,
        sinkConcurrency: SINK_CONCURRENCY,
        sinkBatchSize: args['sink-batch-size'] ? Number(args['sink-batch-size']) : 'default',
        iterations: ITERATIONS,
        maintenance: args.maintenance,
        seed: SEED,
      },
      goals: GOALS,
      pass,
      results,
    })}\n`,
  )
} else {
  const header = [
    'backend',
    'sink rows/s ×1',
    `sink rows/s ×${SINK_CONCURRENCY}`,
    'bulk rows/s',
    ...queryNames.flatMap((q) => [`${q} p50`, `${q} p95`]),
    'runs',
    'requests',
    'wall s',
  ]
  const rows = results.map((r) => [
    r.backend,
    ...r.ingest.map((i) => Math.round(i.rowsPerS).toLocaleString('en-US')),
    Math.round(r.bulk.requestRows / r.bulk.seconds).toLocaleString('en-US'),
    ...queryNames.flatMap((q) => [
      r.queries[q]?.p50Ms.toFixed(2) ?? '-',
      r.queries[q]?.p95Ms.toFixed(2) ?? '-',
    ]),
    r.totals.runs.toLocaleString('en-US'),
    r.totals.requests.toLocaleString('en-US'),
    r.wallSeconds.toFixed(0),
  ])
  const all = [header, ...rows]
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)))
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')
  console.log([line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n'))
  console.log(
    `\nquery times in ms over ${ITERATIONS} iterations each (parameters drawn at random, after ${args.maintenance === 'none' ? 'no maintenance' : args.maintenance === 'analyze' ? 'ANALYZE' : 'VACUUM ANALYZE'}); sink rows/s: ${SINK_REQUESTS.toLocaleString('en-US')} request rows through createPostgresSink, the first fifth one run at a time (×1), the rest ${SINK_CONCURRENCY} runs at a time` +
      `\ngoals: ≥ ${GOALS.ingestRowsPerS.toLocaleString('en-US')} rows/s into PostgreSQL through the sink (best of ×1 and ×${SINK_CONCURRENCY}), p95 ≤ ${GOALS.p95Ms} ms — ${pass ? 'met' : 'NOT met'}`,
  )
}
