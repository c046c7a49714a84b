/**
 * Dashboard benchmark: a results history of 10 k runs and 1 M request rows (real metrics, summarizeRun
 * over each run's generated outcomes), served by `bench dashboard` in its own process; then
 * - p50 / p95 latency of every API route over real HTTP, many requests each with parameters drawn at
 *   random (scenario, filters, sort, fingerprint, metric, run ids, pages, compare pairs);
 * - autocannon, 50 connections for 30 s, on the leaderboard route (a mix of scenarios and filters):
 *   errors, timeouts and non-2xx counted.
 *
 *   npm run bench:dashboard [-- --json] [-- --backends pglite,postgres --runs 10000 --requests 1000000
 *                           --iterations 200 --connections 50 --duration 30 --seed 1 --pglite-dir DIR]
 *
 * --pglite-dir keeps the PGlite database in DIR (seeded only when it holds no runs yet), to measure again
 * without seeding again.
 *
 * Backends: embedded PGlite always; PostgreSQL on DATABASE_URL when set (a fresh database, dropped after),
 * else a throwaway PostgreSQL cluster when the server binaries and the `postgres` user exist (as .ci/run).
 * Goals (issue 7): p95 ≤ 50 ms on every API route; 0 errors under autocannon.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { createDb, type Database, selectRows } from '../../db/client.ts'
import { runFingerprint, upsertEnvironment, upsertVariant } from '../../db/identity.ts'
import { insertRequests } from '../../db/insert-requests.ts'
import { type NewRequestRow, type NewRun, runs } from '../../db/schema.ts'
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
    backends: { type: 'string' },
    runs: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '1000000' },
    iterations: { type: 'string', default: '200' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    'pglite-dir': { type: 'string' },
  },
})
const RUNS = Number(args.runs)
const REQUESTS = Number(args.requests)
const ITERATIONS = Number(args.iterations)
const CONNECTIONS = Number(args.connections)
const DURATION_S = Number(args.duration)
const SEED = Number(args.seed)
const GOALS = { p95Ms: 50, autocannonErrors: 0 }
const CLI = fileURLToPath(new URL('../dashboard/fixtures/dashboard-cli.ts', import.meta.url))
const log = (line: string) => process.stderr.write(`${line}\n`)

interface AutocannonResult {
  requests: { total: number; average: number }
  latency: { p50: number; p97_5: number; p99: number; max: number }
  errors: number
  timeouts: number
  non2xx: number
  duration: number
}
type Autocannon = (options: {
  url: string
  connections: number
  duration: number
  requests?: { path: string }[]
}) => Promise<AutocannonResult>
// autocannon ships no types.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

// ─── The seeded history ─────────────────────────────────────────────────────────────────────────────

const SCENARIOS = ['chat-short', 'long-context', 'endpoint-sweep', 'ci-gate', 'quickstart']
const TARGETS = ['tiny-f32', 'tiny-q8', 'tiny-q4', 'tiny-pruned', 'remote-a']
const LOADS: RunMeta['load'][] = [
  { kind: 'concurrent', concurrency: 1, requests: 100 },
  { kind: 'concurrent', concurrency: 8, requests: 100 },
]
const BRANCHES = ['main', ...Array.from({ length: 10 }, (_, i) => `feature-${i}`)]
/** Runs with 5,000 requests each (the rest share what is left of REQUESTS). */
const LARGE_RUNS = 20
const LARGE_RUN_REQUESTS = 5000
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
const PEAK_RSS: Record<string, number> = {
  'tiny-f32': 320 * 1024 ** 2,
  'tiny-q8': 190 * 1024 ** 2,
  'tiny-q4': 120 * 1024 ** 2,
  'tiny-pruned': 250 * 1024 ** 2,
}
const ACCURACY: Record<string, number> = {
  'tiny-f32': 0.41,
  'tiny-q8': 0.4,
  'tiny-q4': 0.35,
  'tiny-pruned': 0.3,
}

interface RunPlan {
  meta: RunMeta
  state: 'completed' | 'failed' | 'interrupted'
  requests: number
}

function planRuns(random: Random): RunPlan[] {
  const start = Date.parse('2026-07-01T00:00:00Z')
  const stepMs = (HISTORY_DAYS * 86_400_000) / RUNS
  const plans: RunPlan[] = []
  for (let i = 0; i < RUNS; i++) {
    const scenario = SCENARIOS[random.int(0, SCENARIOS.length - 1)]!
    const target = TARGETS[random.int(0, TARGETS.length - 1)]!
    const loadIndex = random.int(0, LOADS.length - 1)
    const engineVersion = i < (RUNS * 2) / 3 ? '1.4.0' : '1.5.0'
    const branch = random.next() < 0.8 ? 'main' : BRANCHES[random.int(1, BRANCHES.length - 1)]!
    const roll = random.next()
    const variant = variantOf(target)
    const remote = target === 'remote-a'
    plans.push({
      meta: {
        scenario: { name: scenario, hash: `hash-${scenario}`, source: { name: scenario } },
        target: { name: target },
        engine: {
          kind: remote ? 'openai' : 'llama-cpp',
          engineVersion,
          model: target,
          capabilities: {
            logprobs: false,
            scoreChoices: false,
            tokenize: false,
            memory: !remote,
            draft: false,
          },
        },
        engineOptions: { kind: remote ? 'openai' : 'llama-cpp', model: target },
        load: LOADS[loadIndex]!,
        loadIndex,
        startedAtIso: new Date(start + i * stepMs).toISOString(),
        clockOrigin: 0,
        environment: remote ? gpuBox : cpuBox,
        git: { commit: (0x100000 + i).toString(16).padStart(40, '0'), branch },
        ...(variant ? { variant } : {}),
      },
      state: roll < 0.94 ? 'completed' : roll < 0.97 ? 'failed' : 'interrupted',
      requests: 0,
    })
  }
  // A few large runs spread over the history, the rest 20 … 180 each, then corrected to the exact total.
  // Large runs hold at most a tenth of the rows, so the small ones can always take up the rest.
  const largeCount = Math.min(LARGE_RUNS, RUNS, Math.floor(REQUESTS / 10 / LARGE_RUN_REQUESTS))
  const large = new Set(Array.from({ length: largeCount }, (_, k) => Math.floor((k * RUNS) / largeCount)))
  let assigned = 0
  plans.forEach((p, i) => {
    p.requests = large.has(i) ? LARGE_RUN_REQUESTS : random.int(20, 180)
    assigned += p.requests
  })
  const small = plans.filter((_, i) => !large.has(i))
  if (small.length > 0 && REQUESTS - largeCount * LARGE_RUN_REQUESTS < small.length)
    throw new Error(
      `--requests ${REQUESTS} is too few for --runs ${RUNS} (each run needs at least one request)`,
    )
  for (let k = 0; assigned !== REQUESTS && small.length > 0; k = (k + 1) % small.length) {
    const p = small[k]!
    const delta = Math.sign(REQUESTS - assigned) * Math.min(Math.abs(REQUESTS - assigned), 40)
    const step = Math.max(delta, 1 - p.requests)
    p.requests += step
    assigned += step
  }
  return plans
}

/** Streamed-chat-shaped outcomes: gamma TTFT, 16–64 tokens, 1 % errors. */
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
        error:
          random.next() < 0.5
            ? { kind: 'http', status: 503, message: 'Service Unavailable' }
            : { kind: 'timeout', message: 'timed out' },
      })
      continue
    }
    const ttftMs = random.gamma(4, 20 * concurrency)
    const outputTokens = random.int(16, 64)
    const gaps: number[] = []
    for (let k = 1; k < outputTokens; k++) gaps.push(random.gamma(8, 1.5))
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
      chunks: outputTokens,
      promptTokens: random.int(64, 512),
      outputTokens,
      tokensSource: 'server',
      finishReason: 'length',
    })
  }
  return outcomes
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

async function insertMetricRows(db: Database, rows: (MetricRow & { runId: number })[]) {
  if (rows.length === 0) return
  await db.execute(sql`
    insert into run_metrics (run_id, name, value, unit, direction, n)
    select * from unnest(
      ${sql.param(rows.map((r) => r.runId))}::int[], ${sql.param(rows.map((r) => r.name))}::text[],
      ${sql.param(rows.map((r) => r.value))}::float8[], ${sql.param(rows.map((r) => r.unit))}::text[],
      ${sql.param(rows.map((r) => r.direction))}::text[], ${sql.param(rows.map((r) => Math.round(r.n)))}::int[])`)
}

/** Writes the plans: run rows 500 at a time, request rows in 10 k batches, metric rows per chunk. */
async function seed(db: Database, plans: RunPlan[], random: Random) {
  const started = performance.now()
  const environmentIds = new Map([
    [cpuBox, await upsertEnvironment(db, cpuBox)],
    [gpuBox, await upsertEnvironment(db, gpuBox)],
  ])
  const variantIds = new Map<string, number>()
  for (const target of TARGETS) {
    const v = variantOf(target)
    if (v) variantIds.set(target, await upsertVariant(db, v))
  }
  let requestRows = 0
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
        environmentId: environmentIds.get(p.meta.environment!) ?? null,
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
      const load = p.meta.load
      const outcomes = outcomesOf(random, p.requests, load.kind === 'concurrent' ? load.concurrency : 1)
      for (const o of outcomes) batch.push(requestRow(runId, o))
      if (p.state !== 'interrupted') {
        const target = p.meta.target.name
        const rss = PEAK_RSS[target]
        const summary = {
          ...summarizeRun(outcomes, { slo: { ttftMs: 200, tpotMs: 15 } }),
          ...(rss !== undefined
            ? { peakRssBytes: rss * (0.95 + random.next() * 0.1), peakRssSamplesN: 100 }
            : {}),
        }
        for (const m of flattenMetrics(summary)) metrics.push({ ...m, runId })
        const acc = ACCURACY[target]
        if (acc !== undefined && p.meta.scenario.name === 'quickstart')
          metrics.push({ runId, name: 'acc', value: acc, unit: 'ratio', direction: 'higher', n: 500 })
      }
      if (batch.length >= 10_000) {
        await insertRequests(db, batch)
        requestRows += batch.length
        batch = []
      }
    }
    await insertRequests(db, batch)
    requestRows += batch.length
    await insertMetricRows(db, metrics)
    if ((i / 500) % 4 === 3) log(`  seeded ${i + chunk.length} / ${plans.length} runs`)
  }
  await db.execute(sql`analyze`)
  return { runs: plans.length, requestRows, seconds: (performance.now() - started) / 1000 }
}

// ─── Backends ───────────────────────────────────────────────────────────────────────────────────────

interface Backend {
  name: 'pglite' | 'postgres'
  describe: string
  /** --db for `bench dashboard`. */
  dbFlag: string
  open(): Promise<Database>
  dispose(): Promise<void>
}

async function pgliteBackend(keep?: string): Promise<Backend> {
  const dir = keep ?? (await freshPgliteDir())
  return {
    name: 'pglite',
    describe: `PGlite ${dir}`,
    dbFlag: dir,
    open: () => createDb({ dataDir: dir }),
    async dispose() {
      if (!keep) rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function postgresBackend(): Promise<Backend | undefined> {
  const admin = process.env.DATABASE_URL
  if (admin) {
    const name = `bench_dash_${randomBytes(6).toString('hex')}`
    const sqlAdmin = postgres(admin, { max: 1, onnotice: () => {} })
    await sqlAdmin.unsafe(`create database ${name}`)
    await sqlAdmin.end()
    const url = new URL(admin)
    url.pathname = `/${name}`
    return {
      name: 'postgres',
      describe: `PostgreSQL (DATABASE_URL, database ${name})`,
      dbFlag: url.toString(),
      open: () => createDb({ url: url.toString() }),
      async dispose() {
        const cleanup = postgres(admin, { max: 1, onnotice: () => {} })
        await cleanup.unsafe(`drop database if exists ${name} with (force)`)
        await cleanup.end()
      },
    }
  }
  const bin = execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1'])
    .toString()
    .trim()
  if (!bin || !existsSync(path.join(bin, 'initdb'))) return undefined
  let user: number
  try {
    user = Number(execFileSync('id', ['-u', 'postgres']).toString())
  } catch {
    return undefined
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-dash-pg-'))
  chownSync(dir, user, Number(execFileSync('id', ['-g', 'postgres']).toString()))
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
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  return {
    name: 'postgres',
    describe: 'PostgreSQL (throwaway cluster, fsync off)',
    dbFlag: url,
    open: () => createDb({ url }),
    async dispose() {
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

/** `bench dashboard --port 0 --db …` in a child process; resolves with its URL. */
function startServer(dbFlag: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'dashboard', '--port', '0', '--db', dbFlag],
    {
      env: { ...process.env, BENCH_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (d) => {
      out += d
      const m = /bench dashboard: (\S+)/.exec(out)
      if (m) resolve({ url: m[1]!, child })
    })
    child.once('exit', (code) => reject(new Error(`bench dashboard exited ${code}`)))
  })
}

// ─── Measurements ───────────────────────────────────────────────────────────────────────────────────

interface Latency {
  p50Ms: number
  p95Ms: number
  maxMs: number
  requests: number
}

interface Fixtures {
  series: { fingerprint: string; ids: number[] }[]
  completed: number[]
  large: number[]
}

async function fixturesOf(db: Database): Promise<Fixtures> {
  const rows = await selectRows<{ id: number; fingerprint: string }>(
    db,
    sql`select id, fingerprint from runs where state = 'completed' order by id`,
  )
  const bySeries = new Map<string, number[]>()
  for (const r of rows) bySeries.set(r.fingerprint, [...(bySeries.get(r.fingerprint) ?? []), r.id])
  const large = await selectRows<{ run_id: number }>(
    db,
    sql`select run_id from requests group by run_id having count(*) >= ${LARGE_RUN_REQUESTS} order by run_id`,
  )
  return {
    series: [...bySeries.entries()]
      .filter(([, ids]) => ids.length >= 2)
      .map(([fingerprint, ids]) => ({ fingerprint, ids })),
    completed: rows.map((r) => r.id),
    large: large.map((r) => r.run_id),
  }
}

function routeCases(f: Fixtures, random: Random): Record<string, () => string> {
  const pick = <T>(xs: readonly T[]): T => xs[random.int(0, xs.length - 1)]!
  const maybe = (p: number, s: string) => (random.next() < p ? s : '')
  const metrics = [
    'outputTokensPerS',
    'requestsPerS',
    'ttftMsP50',
    'ttftMsP95',
    'tpotMsP95',
    'errorRate',
    'peakRssBytes',
  ]
  const sorts = ['outputTokensPerS', 'ttftMsP95', 'tpotMsP50', 'errorRate', 'peakRssBytes', 'target', 'acc']
  return {
    '/api/leaderboard': () =>
      `/api/leaderboard?scenario=${pick(SCENARIOS)}${maybe(0.3, '&branch=main')}${maybe(0.3, `&sort=${pick(sorts)}`)}${maybe(0.2, '&engine=llama-cpp')}${maybe(0.1, '&quant=Q4_0')}`,
    '/api/history': () => {
      const s = pick(f.series)
      return `/api/history?fingerprint=${s.fingerprint}&metric=${pick(metrics)}${maybe(0.25, '&branch=main')}${maybe(0.3, '&x=commit')}${maybe(0.2, '&points=100')}`
    },
    '/api/series': () => `/api/series${maybe(0.5, `?scenario=${pick(SCENARIOS)}`)}`,
    '/api/runs': () =>
      `/api/runs?limit=50${maybe(0.4, `&scenario=${pick(SCENARIOS)}`)}${maybe(0.3, `&target=${pick(TARGETS)}`)}${maybe(0.2, '&state=failed')}${maybe(0.3, `&offset=${random.int(0, 2000)}`)}`,
    '/api/runs/{id}': () => `/api/runs/${pick(f.completed)}`,
    '/api/runs/{id} (5,000 requests, seen before)': () => `/api/runs/${pick(f.large)}`,
    '/api/runs/{id}/requests': () =>
      `/api/runs/${pick(f.completed)}/requests?limit=100${maybe(0.3, '&chunkGaps=true')}${maybe(0.2, '&state=ok')}`,
    '/api/compare': () => {
      const s = pick(f.series)
      const a = pick(s.ids)
      let b = pick(s.ids)
      while (b === a) b = pick(s.ids)
      return `/api/compare?a=${a}&b=${b}`
    },
    '/api/openapi.json': () => '/api/openapi.json',
  }
}

/**
 * The first view of each large run, before anything cached its series: what the route costs when the
 * immutable-run cache cannot help (one sample per large run).
 */
async function timeFirstViews(base: string, f: Fixtures): Promise<Latency> {
  const samples: number[] = []
  for (const id of f.large) {
    const t0 = performance.now()
    const res = await fetch(new URL(`/api/runs/${id}`, base))
    await res.arrayBuffer()
    samples.push(performance.now() - t0)
    if (res.status !== 200) throw new Error(`/api/runs/${id}: HTTP ${res.status}`)
  }
  samples.sort((a, b) => a - b)
  return {
    p50Ms: percentile(samples, 50),
    p95Ms: percentile(samples, 95),
    maxMs: samples.at(-1) ?? 0,
    requests: samples.length,
  }
}

async function get(base: string, path: string): Promise<void> {
  const res = await fetch(new URL(path, base))
  await res.arrayBuffer()
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`)
}

/** Each case a few times, so lazily compiled code paths in the server are not what gets measured. */
async function warmUp(base: string, cases: Record<string, () => string>, skip: (name: string) => boolean) {
  for (const [name, next] of Object.entries(cases)) {
    if (skip(name)) continue
    for (let i = 0; i < Math.min(20, ITERATIONS); i++) await get(base, next())
  }
}

async function timeRoutes(base: string, cases: Record<string, () => string>, first: Record<string, Latency>) {
  const result: Record<string, Latency> = { ...first }
  for (const [name, next] of Object.entries(cases)) {
    for (let i = 0; i < Math.min(20, ITERATIONS); i++) await get(base, next())
    const samples: number[] = []
    for (let i = 0; i < ITERATIONS; i++) {
      const t0 = performance.now()
      await get(base, next())
      samples.push(performance.now() - t0)
    }
    samples.sort((a, b) => a - b)
    result[name] = {
      p50Ms: percentile(samples, 50),
      p95Ms: percentile(samples, 95),
      maxMs: samples.at(-1) ?? 0,
      requests: ITERATIONS,
    }
    log(`  ${name}: p50 ${result[name].p50Ms.toFixed(1)} ms, p95 ${result[name].p95Ms.toFixed(1)} ms`)
  }
  return result
}

async function load(base: string) {
  const paths = SCENARIOS.flatMap((s) => [
    `/api/leaderboard?scenario=${s}`,
    `/api/leaderboard?scenario=${s}&branch=main&sort=ttftMsP95`,
    `/api/leaderboard?scenario=${s}&engine=llama-cpp`,
  ])
  const r = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: paths.map((p) => ({ path: p })),
  })
  return {
    connections: CONNECTIONS,
    durationS: r.duration,
    requests: r.requests.total,
    requestsPerS: r.requests.average,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyMaxMs: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  }
}

// ─── Main ───────────────────────────────────────────────────────────────────────────────────────────

async function benchBackend(backend: Backend) {
  const wall = performance.now()
  log(`${backend.name}: ${backend.describe}`)
  const random = createRandom(SEED)
  const db = await backend.open()
  let fixtures: Fixtures
  let seeded: Awaited<ReturnType<typeof seed>>
  try {
    const [existing] = await selectRows<{ runs: number; requests: number }>(
      db,
      sql`select (select count(*) from runs)::int as runs, (select count(*) from requests)::int as requests`,
    )
    if (existing && existing.runs > 0) {
      seeded = { runs: existing.runs, requestRows: existing.requests, seconds: 0 }
      log(`  reusing ${existing.runs} runs, ${existing.requests} request rows`)
    } else {
      seeded = await seed(db, planRuns(random), random)
      log(
        `  seeded ${seeded.runs} runs, ${seeded.requestRows} request rows in ${seeded.seconds.toFixed(0)} s`,
      )
    }
    fixtures = await fixturesOf(db)
  } finally {
    await db.close()
  }
  const { url, child } = await startServer(backend.dbFlag)
  try {
    const cases = routeCases(fixtures, random)
    await warmUp(url, cases, (name) => name.includes('5,000 requests'))
    const firstViews = await timeFirstViews(url, fixtures)
    log(
      `  /api/runs/{id} (5,000 requests, first view): p50 ${firstViews.p50Ms.toFixed(1)} ms, p95 ${firstViews.p95Ms.toFixed(1)} ms`,
    )
    const routes = await timeRoutes(url, cases, {
      '/api/runs/{id} (5,000 requests, first view)': firstViews,
    })
    log(`  autocannon: ${CONNECTIONS} connections × ${DURATION_S} s on /api/leaderboard …`)
    const autocannonResult = await load(url)
    log(
      `  autocannon: ${autocannonResult.requests} requests, ${autocannonResult.requestsPerS.toFixed(0)}/s, p99 ${autocannonResult.latencyP99Ms} ms, errors ${autocannonResult.errors}, non-2xx ${autocannonResult.non2xx}`,
    )
    return {
      backend: backend.name,
      describe: backend.describe,
      seeded,
      routes,
      autocannon: autocannonResult,
      wallSeconds: (performance.now() - wall) / 1000,
    }
  } finally {
    child.kill('SIGINT')
    await new Promise((resolve) => child.once('exit', resolve))
  }
}

const wanted = (args.backends ?? 'pglite,postgres').split(',').map((b) => b.trim())
const results: Awaited<ReturnType<typeof benchBackend>>[] = []
for (const name of wanted) {
  const backend =
    name === 'pglite'
      ? await pgliteBackend(args['pglite-dir'])
      : name === 'postgres'
        ? await postgresBackend()
        : undefined
  if (!backend) {
    log(
      `${name}: skipped (${name === 'postgres' ? 'no DATABASE_URL and no PostgreSQL server binaries' : 'unknown backend'})`,
    )
    continue
  }
  try {
    results.push(await benchBackend(backend))
  } finally {
    await backend.dispose()
  }
}

/**
 * The first-view row is a stress figure beside the goal: the goal's own sample of run pages is
 * `/api/runs/{id}` over every completed run, where large runs come up as often as they exist.
 */
const inGoal = (route: string) => !route.includes('first view')
const pass = results.every(
  (r) =>
    Object.entries(r.routes).every(([route, l]) => !inGoal(route) || l.p95Ms <= GOALS.p95Ms) &&
    r.autocannon.errors + r.autocannon.timeouts + r.autocannon.non2xx <= GOALS.autocannonErrors,
)
if (args.json) {
  process.stdout.write(
    `${JSON.stringify({ params: { runs: RUNS, requests: REQUESTS, iterations: ITERATIONS, connections: CONNECTIONS, durationS: DURATION_S, seed: SEED }, goals: GOALS, pass, results })}\n`,
  )
} else {
  for (const r of results) {
    console.log(
      `\n${r.backend} — ${r.describe}: ${r.seeded.runs.toLocaleString('en-US')} runs, ${r.seeded.requestRows.toLocaleString('en-US')} request rows`,
    )
    const names = Object.keys(r.routes)
    const width = Math.max(...names.map((n) => n.length))
    console.log(
      `${'route'.padEnd(width)}  ${'p50 ms'.padStart(8)}  ${'p95 ms'.padStart(8)}  ${'max ms'.padStart(8)}`,
    )
    for (const n of names) {
      const l = r.routes[n]!
      console.log(
        `${n.padEnd(width)}  ${l.p50Ms.toFixed(1).padStart(8)}  ${l.p95Ms.toFixed(1).padStart(8)}  ${l.maxMs.toFixed(1).padStart(8)}${inGoal(n) ? '' : '  (stress, not in the goal)'}`,
      )
    }
    const a = r.autocannon
    console.log(
      `autocannon /api/leaderboard, ${a.connections} connections × ${a.durationS} s: ${a.requests.toLocaleString('en-US')} requests (${a.requestsPerS.toFixed(0)}/s), latency p50 ${a.latencyP50Ms} ms p99 ${a.latencyP99Ms} ms, errors ${a.errors}, timeouts ${a.timeouts}, non-2xx ${a.non2xx}`,
    )
  }
  console.log(
    `\nroute latency over HTTP to \`bench dashboard\` in its own process, ${ITERATIONS} requests per route with parameters drawn at random` +
      `\ngoals: p95 ≤ ${GOALS.p95Ms} ms on every API route, 0 autocannon errors — ${pass ? 'met' : 'NOT met'}`,
  )
}
