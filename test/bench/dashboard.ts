/**
 * Dashboard benchmark: a results history of 10 k runs and 1 M request rows (real metrics, summarizeRun
 * over each run's generated outcomes), served by `bench dashboard` in its own process; then
 * - p50 / p95 latency of every API route over real HTTP, many requests each with parameters drawn at
 *   random (scenario, filters, sort, fingerprint, metric, run ids, pages, compare pairs);
 * - autocannon, 50 connections for 30 s, on the leaderboard route (a mix of scenarios and filters):
 *   errors, timeouts and non-2xx counted; the same on /api/runs (a mix of filters) and /api/runs/:id (30
 *   completed runs), each against the leaderboard's req/s (goal: within 2×);
 * - ingest (issue 14): a --huge-request document (100 k by default, generated chunk by chunk) POSTed
 *   chunked to /api/runs: time, the dashboard process's peak RSS growth (VmRSS sampled every 20 ms; goal
 *   < 200 MB) and the latency of other GETs meanwhile (p99);
 * - that run's page: the first view over HTTP, then the page model uncached in this process (db/queries
 *   and run-series, as the server computes a first view; p95 over --huge-views calls; goal < 1 s).
 *
 *   npm run bench:dashboard [-- --json] [-- --backends pglite,postgres --runs 10000 --requests 1000000
 *                           --iterations 200 --connections 50 --duration 30 --seed 1 --pglite-dir DIR
 *                           --huge 100000 --huge-views 10]
 *
 * --pglite-dir keeps the PGlite database in DIR (seeded only when it holds no runs yet), to measure again
 * without seeding again.
 *
 * Backends: embedded PGlite always; PostgreSQL on DATABASE_URL when set (a fresh database, dropped after),
 * else a throwaway PostgreSQL cluster when the server binaries and the `postgres` user exist (as .ci/run).
 * Goals (issue 7): p95 ≤ 50 ms on every API route; 0 errors under autocannon. Issue 14: the huge run's
 * page < 1 s (p95, uncached), ingest peak RSS growth < 200 MB, /api/runs and /api/runs/:id within 2× the
 * leaderboard's req/s.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { loadRun } from '../../dashboard/data/run.ts'
import { type Database, selectRows } from '../../db/client.ts'
import { exportRun } from '../../db/export.ts'
import { createAlerts, saveRunLimits } from '../../db/gate/alerts.ts'
import { computeChangePoints } from '../../db/gate/change-points.ts'
import { gateStoredRuns } from '../../db/gate/gate.ts'
import { findCandidateRuns } from '../../db/gate/runs.ts'
import { setEnvironmentPrice } from '../../db/prices.ts'
import { workloadKey } from '../../db/queries/procurement.ts'
import { flattenMetrics } from '../../harness/metrics/flatten.ts'
import { summarizeRun } from '../../harness/metrics/run.ts'
import type { MetricRow } from '../../harness/metrics/types.ts'
import { createRandom, type Random } from '../../harness/random.ts'
import type { RequestOutcome } from '../../harness/results.ts'
import { documentChunks } from '../dashboard/fixtures/bench-run-document.ts'
import { type BenchBackend, openBackend } from './backends.ts'
import {
  type OutcomeShape,
  planRuns,
  type RunPlan,
  SCENARIOS,
  TARGETS,
  writeHistory,
} from './history-seed.ts'
import { type LatencySummary, summarizeLatency, timeCalls } from './latency.ts'

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
    huge: { type: 'string', default: '100000' },
    'huge-views': { type: 'string', default: '10' },
  },
})
const HUGE = Number(args.huge)
const HUGE_VIEWS = Number(args['huge-views'])
/** The dashboard's write token in this benchmark (the ingest needs one). */
const TOKEN = 'bench-dashboard-token'
const GOALS_14 = { hugeRunPageP95Ms: 1000, ingestRssGrowthMb: 200, apiRunsVsLeaderboard: 2 }
const RUNS = Number(args.runs)
const REQUESTS = Number(args.requests)
const ITERATIONS = Number(args.iterations)
const CONNECTIONS = Number(args.connections)
const DURATION_S = Number(args.duration)
const SEED = Number(args.seed)
if (REQUESTS < 50_000)
  // The large-run routes need at least one run of 5,000 requests, and large runs hold a tenth of the rows.
  throw new Error(`--requests ${REQUESTS}: at least 50000 (one 5,000-request run among the rest)`)
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

// ─── The seeded history (test/bench/history-seed.ts) ─────────────────────────────────────────────────

/** Runs with 5,000 requests each (the rest share what is left of REQUESTS). */
const LARGE_RUNS = 20
const LARGE_RUN_REQUESTS = 5000
/** Timeouts beside HTTP errors, for the error columns and filters of the pages. */
const OUTCOMES: OutcomeShape = { twoTokenChunks: false, timeouts: true }
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

/** planRuns with exactly REQUESTS requests spread over them. */
function planHistory(random: Random): RunPlan[] {
  const plans = planRuns(random, RUNS)
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

/** Metrics with an SLO, peak memory of local targets and accuracy on quickstart, as the pages show them. */
function metricsOf(random: Random) {
  return (plan: RunPlan, outcomes: RequestOutcome[]): MetricRow[] => {
    const target = plan.meta.target.name
    const rss = PEAK_RSS[target]
    const rows = flattenMetrics({
      ...summarizeRun(outcomes, { slo: { ttftMs: 200, tpotMs: 15 } }),
      ...(rss !== undefined
        ? { peakRssBytes: rss * (0.95 + random.next() * 0.1), peakRssSamplesN: 100 }
        : {}),
    })
    const acc = ACCURACY[target]
    if (acc !== undefined && plan.meta.scenario.name === 'quickstart')
      rows.push({ name: 'acc', value: acc, unit: 'ratio', direction: 'higher', n: 500 })
    return rows
  }
}

/** writeHistory, then ANALYZE (its time included) so the first queries get real plans. */
async function seed(db: Database, plans: RunPlan[], random: Random) {
  const started = performance.now()
  const { runs, requestRows } = await writeHistory(db, plans, {
    random,
    outcomes: OUTCOMES,
    metricsOf: metricsOf(random),
    progress: (written, total) => log(`  seeded ${written} / ${total} runs`),
  })
  await db.execute(sql`analyze`)
  return { runs, requestRows, seconds: (performance.now() - started) / 1000 }
}

/** `bench dashboard --port 0 --db …` in a child process; resolves with its URL. */
function startServer(dbFlag: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'dashboard', '--port', '0', '--db', dbFlag],
    {
      env: { ...process.env, BENCH_TOKEN: TOKEN },
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

interface Latency extends LatencySummary {
  requests: number
}

interface Fixtures {
  series: { fingerprint: string; ids: number[] }[]
  completed: number[]
  large: number[]
  /** Workload keys (12 hex digits) of each scenario, as /api/procurement lists them. */
  workloads: { scenario: string; load: string }[]
}

/** Metrics gated in the seeded history (what a CI gate typically watches). */
const GATED = ['outputTokensPerS', 'ttftMsP95', 'tpotMsP95'] as const
/** Most recent main-branch runs gated per series. */
const GATED_RUNS = 3

/**
 * What the history, alerts and procurement pages read besides runs, produced by the real code paths:
 * the last GATED_RUNS completed main-branch runs of every series gated (percentage method, stored as
 * `bench gate` stores them: limits, and an alert per regression), change points over every series
 * (`bench changepoints`), and an hourly price per environment.
 */
async function seedGateResults(db: Database) {
  const started = performance.now()
  const ids = await selectRows<{ id: number }>(
    db,
    sql`select id from (select id, row_number() over (partition by fingerprint order by started_at desc) as k
      from runs where state = 'completed' and git_branch = 'main') r where k <= ${GATED_RUNS} order by id`,
  )
  let limits = 0
  let alerts = 0
  for (const { id } of ids) {
    const report = await gateStoredRuns(db, await findCandidateRuns(db, { runIds: [id] }), {
      metrics: GATED,
      evaluate: { method: 'percentage' },
      baselineBranch: 'main',
      maxSamples: 25,
    })
    const gated = report.rows.flatMap((r) =>
      r.runId === null ? [] : [{ runId: r.runId, metric: r.metric, verdict: r.verdict }],
    )
    await saveRunLimits(db, gated)
    limits += gated.length
    alerts += (await createAlerts(db, gated)).length
  }
  const changePoints = (await computeChangePoints(db, { metrics: GATED })).reduce(
    (n, s) => n + s.changePoints.length,
    0,
  )
  const environmentIds = await selectRows<{ id: number }>(db, sql`select id from environments order by id`)
  for (const [i, { id }] of environmentIds.entries())
    await setEnvironmentPrice(db, id, { usdPerHour: 0.5 + i * 1.25, updatedBy: 'bench' })
  return {
    limits,
    alerts,
    changePoints,
    prices: environmentIds.length,
    seconds: (performance.now() - started) / 1000,
  }
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
  const loads = await selectRows<{ scenario: string; hash: string; load: unknown }>(
    db,
    sql`select distinct on (scenario_name, scenario_hash, load_index) scenario_name as scenario, scenario_hash as hash, load
      from runs where state = 'completed'`,
  )
  const workloads = loads.map((w) => ({ scenario: w.scenario, load: workloadKey(w.hash, w.load) }))
  return {
    workloads,
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
    '/api/alerts': () =>
      `/api/alerts?state=${pick(['active', 'all', 'acknowledged'])}${maybe(0.3, `&metric=${pick(GATED)}`)}`,
    '/api/procurement': () => {
      const w = pick(f.workloads)
      return `/api/procurement?scenario=${w.scenario}${maybe(0.5, `&load=${w.load}`)}${maybe(0.5, `&sloTtftMs=${pick([200, 500, 1000])}&sloTpotMs=${pick([20, 50])}`)}${maybe(0.3, '&rank=goodput')}`
    },
    '/api/environments': () => '/api/environments',
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
  return { ...summarizeLatency(samples), requests: samples.length }
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
    result[name] = { ...(await timeCalls(() => get(base, next()), ITERATIONS)), requests: ITERATIONS }
    log(`  ${name}: p50 ${result[name].p50Ms.toFixed(1)} ms, p95 ${result[name].p95Ms.toFixed(1)} ms`)
  }
  return result
}

async function load(base: string, paths?: string[]) {
  const list =
    paths ??
    SCENARIOS.flatMap((s) => [
      `/api/leaderboard?scenario=${s}`,
      `/api/leaderboard?scenario=${s}&branch=main&sort=ttftMsP95`,
      `/api/leaderboard?scenario=${s}&engine=llama-cpp`,
    ])
  const r = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: list.map((p) => ({ path: p })),
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

/** The runs list as people filter it: every scenario, with and without a target or a state, two pages. */
function runsPaths(): string[] {
  return SCENARIOS.flatMap((s, i) => [
    `/api/runs?scenario=${s}`,
    `/api/runs?scenario=${s}&target=${TARGETS[i % TARGETS.length]}`,
    `/api/runs?scenario=${s}&state=completed&offset=50`,
  ]).concat(['/api/runs', '/api/runs?limit=100'])
}

/** Run pages of 30 completed runs spread over the history. */
function runPaths(f: Fixtures): string[] {
  const step = Math.max(1, Math.floor(f.completed.length / 30))
  return f.completed
    .filter((_, i) => i % step === 0)
    .slice(0, 30)
    .map((id) => `/api/runs/${id}`)
}

/** Resident set of a process, bytes (Linux /proc). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : Number.NaN
}

/** POSTs the chunks with Transfer-Encoding: chunked, honouring backpressure. */
function postChunked(
  url: string,
  chunks: Iterable<Buffer>,
): Promise<{ status: number; body: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    let bytes = 0
    const req = http.request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    })
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        body += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, bytes }))
    })
    req.on('error', reject)
    const it = chunks[Symbol.iterator]()
    const pump = () => {
      for (;;) {
        const next = it.next()
        if (next.done) {
          req.end()
          return
        }
        bytes += next.value.length
        if (!req.write(next.value)) {
          req.once('drain', pump)
          return
        }
      }
    }
    pump()
  })
}

function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN
}

/**
 * A HUGE-request document POSTed chunked to the running dashboard (process `pid`): its RSS sampled every
 * 20 ms, and another client reading leaderboards and run lists all along (their latency is what "does not
 * block other requests" means).
 */
async function ingestHuge(base: string, pid: number, head: Record<string, unknown>) {
  const rssBefore = rssOf(pid)
  let rssPeak = rssBefore
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssOf(pid))
  }, 20)
  const waits: number[] = []
  let reading = true
  const paths = [...SCENARIOS.map((s) => `/api/leaderboard?scenario=${s}`), '/api/runs?limit=20']
  const reader = (async () => {
    for (let i = 0; reading; i++) {
      const started = performance.now()
      await get(base, paths[i % paths.length]!)
      waits.push(performance.now() - started)
      await new Promise((r) => setTimeout(r, 10))
    }
  })()
  const started = performance.now()
  // A start time no seeded run has: a new run every time.
  const startedAt = new Date(Date.UTC(2030, 0, 1) + Math.floor(Math.random() * 1e9)).toISOString()
  const doc = { ...head, run: { ...(head.run as Record<string, unknown>), startedAt, finishedAt: startedAt } }
  const posted = await postChunked(new URL('/api/runs', base).href, documentChunks(doc, HUGE))
  const seconds = (performance.now() - started) / 1000
  reading = false
  await reader
  clearInterval(sampler)
  if (posted.status !== 201) throw new Error(`ingest: HTTP ${posted.status} ${posted.body.slice(0, 500)}`)
  const other = summarizeLatency(waits)
  return {
    id: (JSON.parse(posted.body) as { id: number }).id,
    requests: HUGE,
    documentMb: posted.bytes / 2 ** 20,
    seconds,
    rssBeforeMb: rssBefore / 2 ** 20,
    rssPeakGrowthMb: (rssPeak - rssBefore) / 2 ** 20,
    otherGets: {
      requests: waits.length,
      p50Ms: other.p50Ms,
      p95Ms: other.p95Ms,
      p99Ms: percentile(waits, 0.99),
      maxMs: other.maxMs,
    },
  }
}

// ─── Main ───────────────────────────────────────────────────────────────────────────────────────────

async function benchBackend(backend: BenchBackend) {
  const wall = performance.now()
  log(`${backend.name}: ${backend.describe}`)
  const random = createRandom(SEED)
  const db = await backend.open()
  let fixtures: Fixtures
  let seeded: Awaited<ReturnType<typeof seed>>
  let head: Record<string, unknown> = {}
  try {
    const [existing] = await selectRows<{ runs: number; requests: number }>(
      db,
      sql`select (select count(*) from runs)::int as runs, (select count(*) from requests)::int as requests`,
    )
    if (existing && existing.runs > 0) {
      seeded = { runs: existing.runs, requestRows: existing.requests, seconds: 0 }
      log(`  reusing ${existing.runs} runs, ${existing.requests} request rows`)
    } else {
      seeded = await seed(db, planHistory(random), random)
      log(
        `  seeded ${seeded.runs} runs, ${seeded.requestRows} request rows in ${seeded.seconds.toFixed(0)} s`,
      )
      const gate = await seedGateResults(db)
      log(
        `  gate: ${gate.limits} limits, ${gate.alerts} alerts, ${gate.changePoints} change points, ${gate.prices} prices in ${gate.seconds.toFixed(0)} s`,
      )
    }
    fixtures = await fixturesOf(db)
    // The head of a real export, for the generated huge document.
    let text = ''
    await exportRun(db, fixtures.completed[0]!, {
      format: 'json',
      write: (chunk) => {
        text += chunk
      },
    })
    const { requests: _rows, requestCounts: _counts, ...rest } = JSON.parse(text) as Record<string, unknown>
    head = rest
  } finally {
    await db.close()
  }
  const { url, child } = await startServer(backend.location)
  const measured = await (async () => {
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
      const autocannonRuns = await load(url, runsPaths())
      log(
        `  autocannon /api/runs: ${autocannonRuns.requestsPerS.toFixed(0)}/s, p99 ${autocannonRuns.latencyP99Ms} ms`,
      )
      const autocannonRun = await load(url, runPaths(fixtures))
      log(
        `  autocannon /api/runs/:id: ${autocannonRun.requestsPerS.toFixed(0)}/s, p99 ${autocannonRun.latencyP99Ms} ms`,
      )
      log(`  ingest: ${HUGE} requests, chunked …`)
      const ingest = await ingestHuge(url, child.pid ?? 0, head)
      log(
        `  ingest: ${ingest.documentMb.toFixed(1)} MB in ${ingest.seconds.toFixed(1)} s, RSS +${ingest.rssPeakGrowthMb.toFixed(0)} MB (from ${ingest.rssBeforeMb.toFixed(0)}), other GETs p99 ${ingest.otherGets.p99Ms.toFixed(0)} ms, max ${ingest.otherGets.maxMs.toFixed(0)} ms`,
      )
      const viewStarted = performance.now()
      await get(url, `/runs/${ingest.id}`)
      const firstViewMs = performance.now() - viewStarted
      const cachedViews = await timeCalls(() => get(url, `/runs/${ingest.id}`), HUGE_VIEWS)
      log(
        `  /runs/${ingest.id} (${HUGE} requests): first view ${firstViewMs.toFixed(0)} ms, then p95 ${cachedViews.p95Ms.toFixed(1)} ms`,
      )
      return {
        backend: backend.name,
        describe: backend.describe,
        seeded,
        routes,
        autocannon: autocannonResult,
        autocannonRuns,
        autocannonRun,
        ingest,
        hugeRun: { id: ingest.id, requests: HUGE, firstViewMs, cachedViews },
      }
    } finally {
      child.kill('SIGINT')
      await new Promise((resolve) => child.once('exit', resolve))
    }
  })()
  // The huge run's page model computed afresh each time (no cache), as the server computes a first view.
  const again = await backend.open()
  let uncached: LatencySummary
  try {
    uncached = await timeCalls(() => loadRun(again, measured.hugeRun.id), HUGE_VIEWS)
    log(`  run page model of the ${HUGE}-request run, uncached: p95 ${uncached.p95Ms.toFixed(0)} ms`)
  } finally {
    await again.close()
  }
  return {
    ...measured,
    hugeRun: { ...measured.hugeRun, uncached },
    wallSeconds: (performance.now() - wall) / 1000,
  }
}

const wanted = (args.backends ?? 'pglite,postgres').split(',').map((b) => b.trim())
const results: Awaited<ReturnType<typeof benchBackend>>[] = []
for (const name of wanted) {
  const backend =
    name === 'pglite' || name === 'postgres'
      ? await openBackend(name, { databasePrefix: 'bench_dash_', pgliteDir: args['pglite-dir'], log })
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
/** Issue 14's goals, each by name (true when met). */
const goals14 = results.map((r) => ({
  backend: r.backend,
  hugeRunPageP95: r.hugeRun.uncached.p95Ms < GOALS_14.hugeRunPageP95Ms,
  ingestRssGrowth: r.ingest.rssPeakGrowthMb < GOALS_14.ingestRssGrowthMb,
  apiRunsReqPerS: r.autocannonRuns.requestsPerS * GOALS_14.apiRunsVsLeaderboard >= r.autocannon.requestsPerS,
  apiRunReqPerS: r.autocannonRun.requestsPerS * GOALS_14.apiRunsVsLeaderboard >= r.autocannon.requestsPerS,
}))
const pass14 = goals14.every((g) => Object.values(g).every((v) => v !== false))
if (args.json) {
  process.stdout.write(
    `${JSON.stringify({ params: { runs: RUNS, requests: REQUESTS, iterations: ITERATIONS, connections: CONNECTIONS, durationS: DURATION_S, seed: SEED, huge: HUGE, hugeViews: HUGE_VIEWS }, goals: GOALS, pass, goals14: GOALS_14, pass14, goals14Met: goals14, results })}\n`,
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
    for (const [name, c] of [
      ['/api/runs', r.autocannonRuns],
      ['/api/runs/:id', r.autocannonRun],
    ] as const)
      console.log(
        `autocannon ${name}: ${c.requestsPerS.toFixed(0)}/s (${(c.requestsPerS / a.requestsPerS).toFixed(2)}× the leaderboard), latency p50 ${c.latencyP50Ms} ms p99 ${c.latencyP99Ms} ms, errors ${c.errors}, non-2xx ${c.non2xx}`,
      )
    const i = r.ingest
    console.log(
      `ingest of a ${i.requests.toLocaleString('en-US')}-request document (${i.documentMb.toFixed(1)} MB, chunked): ${i.seconds.toFixed(1)} s, dashboard RSS +${i.rssPeakGrowthMb.toFixed(0)} MB at peak (from ${i.rssBeforeMb.toFixed(0)} MB); other GETs meanwhile (${i.otherGets.requests}): p50 ${i.otherGets.p50Ms.toFixed(0)} ms, p99 ${i.otherGets.p99Ms.toFixed(0)} ms, max ${i.otherGets.maxMs.toFixed(0)} ms`,
    )
    const h = r.hugeRun
    console.log(
      `run page of that run: first view ${h.firstViewMs.toFixed(0)} ms over HTTP, cached p95 ${h.cachedViews.p95Ms.toFixed(1)} ms; page model uncached p50 ${h.uncached.p50Ms.toFixed(0)} ms, p95 ${h.uncached.p95Ms.toFixed(0)} ms`,
    )
  }
  console.log(
    `\nroute latency over HTTP to \`bench dashboard\` in its own process, ${ITERATIONS} requests per route with parameters drawn at random` +
      `\ngoals: p95 ≤ ${GOALS.p95Ms} ms on every API route, 0 autocannon errors — ${pass ? 'met' : 'NOT met'}` +
      `\nissue 14: huge run page p95 < ${GOALS_14.hugeRunPageP95Ms} ms, ingest RSS growth < ${GOALS_14.ingestRssGrowthMb} MB, /api/runs and /api/runs/:id ≥ 1/${GOALS_14.apiRunsVsLeaderboard} of the leaderboard's req/s — ${pass14 ? 'met' : `NOT met: ${JSON.stringify(goals14)}`}`,
  )
}
