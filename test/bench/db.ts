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
import { performance } from 'node:perf_hooks'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import type { Database } from '../../db/client.ts'
import { compareRuns, historySeries, leaderboard, listRuns } from '../../db/queries/index.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { flattenMetrics } from '../../harness/metrics/flatten.ts'
import { summarizeRun } from '../../harness/metrics/run.ts'
import { createRandom, type Random } from '../../harness/random.ts'
import type { RequestOutcome } from '../../harness/results.ts'
import { openBackend } from './backends.ts'
import {
  concurrencyOf,
  type OutcomeShape,
  outcomesOf,
  planRuns,
  type RunPlan,
  SCENARIOS,
  TARGETS,
  writeHistory,
} from './history-seed.ts'
import { type LatencySummary, timeCalls } from './latency.ts'

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
const BACKENDS = args.backends.split(',').map((b) => b.trim())
const GOALS = { ingestRowsPerS: 50_000, p95Ms: 50 }
const log = (line: string) => process.stderr.write(`${line}\n`)
// A closed pipe (`| head`) or a signal must still stop the throwaway cluster and remove temporary files.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
const cleanups = new Set<() => Promise<void>>()
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(signal, () => {
    void Promise.allSettled([...cleanups].map((c) => c())).finally(() => process.exit(130))
  })

// ─── The seeded history (test/bench/history-seed.ts) ─────────────────────────────────────────────────

/** Some chunks carry two tokens, so TPOT and chunk gaps differ as they do on real servers. */
const OUTCOMES: OutcomeShape = { twoTokenChunks: true, timeouts: false }

interface SinkPlan extends RunPlan {
  viaSink: boolean
}

/** planRuns; the first `sinkRuns` carry SINK_REQUESTS requests together, the other runs the rest. */
function planHistory(random: Random): SinkPlan[] {
  const sinkRuns = Math.max(SINK_CONCURRENCY, Math.round(SINK_REQUESTS / 5_000))
  const rest = REQUESTS - SINK_REQUESTS
  const plans = planRuns(random, RUNS).map((p, i): SinkPlan => {
    const viaSink = i < sinkRuns
    const requests = viaSink
      ? Math.floor(SINK_REQUESTS / sinkRuns) + (i < SINK_REQUESTS % sinkRuns ? 1 : 0)
      : 0
    return { ...p, requests, viaSink }
  })
  // Spread the remaining rows over the other runs in proportion to random weights (20 … 140), exactly.
  const others = plans.filter((p) => !p.viaSink)
  const weights = others.map(() => random.int(20, 140))
  const total = weights.reduce((a, b) => a + b, 0)
  let assigned = 0
  others.forEach((p, i) => {
    p.requests = Math.floor(((weights[i] as number) * rest) / total)
    assigned += p.requests
  })
  for (let i = 0; assigned < rest; i++, assigned++) (others[i % others.length] as SinkPlan).requests++
  return plans
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
async function ingestThroughSink(db: Database, plans: SinkPlan[], random: Random): Promise<IngestRate[]> {
  const work = plans
    .filter((p) => p.viaSink)
    .map((p) => {
      const outcomes = outcomesOf(random, p.requests, concurrencyOf(p.meta), OUTCOMES)
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

/** Writes the other runs directly (history-seed.ts writeHistory), with their real metrics. */
function bulkLoad(db: Database, plans: SinkPlan[], random: Random) {
  return writeHistory(
    db,
    plans.filter((p) => !p.viaSink),
    {
      random,
      outcomes: OUTCOMES,
      metricsOf: (_plan, outcomes) => flattenMetrics(summarizeRun(outcomes)),
      progress: (written, total) => log(`  bulk: ${written} / ${total} runs`),
    },
  )
}

interface Latency extends LatencySummary {
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
  for (const [name, run] of Object.entries(cases))
    result[name] = { ...(await timeCalls(run, ITERATIONS)), iterations: ITERATIONS }
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

async function benchBackend(name: string): Promise<BackendResult> {
  const wall = performance.now()
  const random = createRandom(SEED)
  const plans = planHistory(random)
  const backend = await openBackend(name, { databasePrefix: 'bench_perf_', keep: args.keep, log })
  if (!backend)
    throw new Error(
      'no PostgreSQL server binaries under /usr/lib/postgresql (or no `postgres` user); set DATABASE_URL or pass --backends pglite',
    )
  const db = await backend.open()
  const dispose = async () => {
    await db.close()
    await backend.dispose()
  }
  cleanups.add(dispose)
  try {
    log(`${name}: ${backend.describe}`)
    const ingest = await ingestThroughSink(db, plans, random)
    for (const i of ingest)
      log(
        `  sink, ${i.concurrency} run${i.concurrency > 1 ? 's' : ''} at a time: ${i.rows} request rows in ${i.seconds.toFixed(1)} s (${Math.round(i.rowsPerS)} rows/s, client CPU ${Math.round(i.clientCpuPct)} % of a core)`,
      )
    const bulk = await bulkLoad(db, plans, random)
    log(
      `  bulk: ${bulk.runs} runs, ${bulk.requestRows} request rows, ${bulk.metricRows} metric rows in ${bulk.seconds.toFixed(1)} s`,
    )
    if (args.maintenance !== 'none')
      await db.execute(args.maintenance === 'analyze' ? sql`analyze` : sql`vacuum analyze`)
    const count = async (table: string) => {
      const r = (await db.execute(sql.raw(`select count(*)::int as n from ${table}`))) as unknown
      return ((Array.isArray(r) ? r : (r as { rows: { n: number }[] }).rows)[0] as { n: number }).n
    }
    const totals = {
      runs: await count('runs'),
      requests: await count('requests'),
      runMetrics: await count('run_metrics'),
    }
    const timed = await timeQueries(db, random)
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
    cleanups.delete(dispose)
    await dispose()
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
