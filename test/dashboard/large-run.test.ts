/**
 * Issue 14, the dashboard's side: a large run's page on a database without statistics answers in bounded
 * time (no per-request re-aggregation in the plan); missing statistics are gathered; a page the database
 * does not answer in time is a 503 while other pages are still served; bad dates are a 400 naming the
 * parameter.
 */
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { loadRun } from '../../dashboard/data/run.ts'
import { analyzeAfterBulkWrite, analyzeIfMissing } from '../../db/analyze.ts'
import { selectRows } from '../../db/client.ts'
import { insertRequests } from '../../db/insert-requests.ts'
import { tokenBucketsQuery } from '../../db/queries/run-series.ts'
import { requestRow } from '../../db/request-rows.ts'
import type { NewRequestRow } from '../../db/schema.ts'
import { createRedactor } from '../../harness/redact.ts'
import { okOutcome, recordRun } from '../db/fixtures/data.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'

/** Requests of the large run: enough that a per-row re-aggregation takes minutes on PGlite. */
const LARGE = 20_000

/** Request rows through the one codec (db/request-rows.ts); columns not given are stored null. */
function requestRows(runId: number, from: number, count: number): NewRequestRow[] {
  const redact = createRedactor({})
  return Array.from({ length: count }, (_, k) => {
    const seq = from + k
    return requestRow(
      runId,
      {
        seq,
        state: 'ok',
        promptIndex: seq % 7,
        httpStatus: 200,
        scheduledAtMs: seq * 5,
        startedAtMs: seq * 5 + 0.5,
        ttftMs: 20 + (seq % 50),
        e2eMs: 400 + (seq % 300),
        chunks: 16,
        promptTokens: 32,
        outputTokens: 16,
        tokensSource: 'server',
        serverOutputTokens: 16,
        finishReason: 'length',
      },
      redact,
    )
  })
}

/** A run of one request through the sink, in `t`'s database. */
const recordRunIn = (t: TestDatabase) => recordRun(t.db, [okOutcome(0)])

interface PlanNode {
  'Node Type': string
  'Parent Relationship'?: string
  'Subplan Name'?: string
  Plans?: PlanNode[]
}

/**
 * Aggregates of an EXPLAIN (FORMAT JSON) plan that run once per row of something else: below the inner
 * side of a nested loop or in a SubPlan, with no Materialize or Hash in between (those keep a result).
 */
function perRowAggregates(node: PlanNode, perRow = false): string[] {
  const here =
    node['Node Type'] === 'Aggregate' && perRow ? [`${node['Node Type']} ${node['Subplan Name'] ?? ''}`] : []
  const keeps = node['Node Type'] === 'Materialize' || node['Node Type'] === 'Hash'
  return [
    ...here,
    ...(node.Plans ?? []).flatMap((child) => {
      const relation = child['Parent Relationship']
      const rerun = relation === 'SubPlan' || (node['Node Type'] === 'Nested Loop' && relation === 'Inner')
      const childPerRow = relation === 'InitPlan' ? false : keeps ? false : perRow || rerun
      return perRowAggregates(child, childPerRow)
    }),
  ]
}

describe.each(dbBackends())('a large run on %s', (backend) => {
  let t: TestDatabase
  let runId: number
  beforeAll(async () => {
    t = await createTestDatabase(backend)
    // Through the sink (which analyzes at its finish while the table is tiny), then 20 k rows more behind
    // its back: the statistics say a handful of rows, as after a large run on a database never analyzed.
    runId = await recordRun(t.db, [okOutcome(0)])
    for (let from = 1; from <= LARGE; from += 5000)
      await insertRequests(t.db, requestRows(runId, from, Math.min(5000, LARGE - from + 1)))
  }, 60_000)
  afterAll(async () => {
    await t?.dispose()
  })

  it('answers the run page in bounded time: the origin is aggregated once, not once per request', async () => {
    // The plan alone (EXPLAIN, not run): with the per-row plan, running it would hold PGlite's thread for
    // minutes and no test timeout could fire.
    const [explained] = await selectRows<{ 'QUERY PLAN': unknown }>(
      t.db,
      sql`explain (format json) ${tokenBucketsQuery(runId)}`,
    )
    const raw = explained?.['QUERY PLAN']
    const doc = (typeof raw === 'string' ? JSON.parse(raw) : raw) as [{ Plan: PlanNode }]
    expect(
      perRowAggregates(doc[0].Plan),
      "aggregates re-run per row (a nested loop's inner side, a SubPlan)",
    ).toEqual([])

    const started = performance.now()
    const model = await loadRun(t.db, runId)
    const ms = performance.now() - started
    expect(model.detail.requests.total, 'every request counted').toBe(LARGE + 1)
    expect(model.outputTokensPerSecond.length, 'a bucket per second').toBeGreaterThan(90)
    // ~0.3 s here on PGlite; minutes with the per-row plan.
    expect(ms, 'run page model, ms').toBeLessThan(5000)
  }, 60_000)

  it('gathers the statistics a table is missing (reltuples < 0) and leaves analyzed ones alone', async () => {
    const fresh = await createTestDatabase(backend)
    try {
      const reltuples = async () =>
        Number(
          (
            await selectRows<{ n: number }>(
              fresh.db,
              sql`select reltuples::float8 as n from pg_class where relname = 'requests' and relkind = 'r'`,
            )
          )[0]?.n,
        )
      expect(await reltuples(), 'a new database: never analyzed').toBeLessThan(0)
      expect(await analyzeIfMissing(fresh.db), 'tables analyzed').toContain('requests')
      expect(await reltuples(), 'after').toBeGreaterThanOrEqual(0)
      expect(await analyzeIfMissing(fresh.db), 'a second time: nothing to do').toEqual([])
      // After a bulk write of known size: only when it is many rows against what the statistics know.
      await insertRequests(fresh.db, requestRows((await recordRunIn(fresh)) as number, 1, 2000))
      expect(await analyzeAfterBulkWrite(fresh.db, 999), 'few rows').toBe(false)
      expect(await analyzeAfterBulkWrite(fresh.db, 2000), 'many against the rows known').toBe(true)
      expect(await reltuples(), 'statistics follow').toBeGreaterThanOrEqual(2000)
      expect(await analyzeAfterBulkWrite(fresh.db, 100), 'a small share').toBe(false)
    } finally {
      await fresh.dispose()
    }
  }, 60_000)
})

describe('bad dates and out-of-range parameters', () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase('pglite')
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it('answers 400 naming the parameter, never 500', async () => {
    const errors: unknown[] = []
    const app = createApp({ db: t.db, auth: {}, logError: (e) => errors.push(e) })
    const fp = 'ab'.repeat(32)
    const cases: [string, string][] = [
      ['/api/runs?since=0000-01-01', 'since'],
      ['/api/runs?until=0000-01-01', 'until'],
      ['/runs?since=0000-01-01', 'since'],
      ['/runs?until=0000-01-01T00:00:00Z', 'until'],
      [`/history?fingerprint=${fp}&since=0000-01-01`, 'since'],
      [`/api/history?fingerprint=${fp}&until=0000-01-01`, 'until'],
      ['/api/runs?since=1899-12-31T23:59:59Z', 'since'],
      ['/api/runs?until=2021-02-31', 'until'],
      ['/api/runs?since=2026-13-01', 'since'],
    ]
    for (const [path, parameter] of cases) {
      const res = await app.request(path)
      const text = await res.text()
      expect(res.status, path).toBe(400)
      expect(text, `${path}: names the parameter`).toContain(`${parameter}: `)
    }
    expect(errors, 'nothing reached the 500 handler').toEqual([])
    expect((await app.request('/api/runs?since=1900-01-01&until=9999-12-31T23:59:59Z')).status).toBe(200)
  })
})

describe.each(dbBackends())('a page the database does not answer in time on %s', (backend) => {
  let t: TestDatabase
  beforeAll(async () => {
    // PGlite as `bench dashboard` runs it: in a worker thread, so this thread stays free to answer.
    t = await createTestDatabase(backend, backend === 'pglite' ? { embeddedHost: 'worker' } : {})
    await recordRun(t.db, [okOutcome(0)])
  }, 60_000)
  afterAll(async () => {
    await t?.dispose()
  })

  it('is a 503 within the deadline, and other pages are still served', async () => {
    const app = createApp({ db: t.db, auth: {}, queryTimeoutMs: 300, cache: false })
    expect((await app.request('/api/runs')).status, 'before').toBe(200)
    // A slow statement holding the runs table: PGlite's one connection sleeps; PostgreSQL's lock blocks
    // every reader of runs.
    const slow = t.db.transaction(async (tx) => {
      await tx.execute(sql`lock table runs in access exclusive mode`)
      await tx.execute(sql`select pg_sleep(2)`)
    })
    await new Promise((r) => setTimeout(r, 100))
    const started = performance.now()
    const [api, page, openapi] = await Promise.all([
      app.request('/api/runs'),
      app.request('/runs'),
      app.request('/api/openapi.json'),
    ])
    const ms = performance.now() - started
    expect([api.status, page.status], '503 for both').toEqual([503, 503])
    expect(api.headers.get('retry-after'), 'retry-after').toBe('1')
    expect(((await api.json()) as { problems: string[] }).problems[0]).toMatch(/did not answer within 0.3 s/)
    expect(await page.text(), 'an HTML page saying so').toMatch(/Service unavailable/)
    expect(openapi.status, 'a page without the database').toBe(200)
    expect(ms, 'answered at the deadline, not after the slow statement').toBeLessThan(1500)
    await slow
    expect((await app.request('/api/runs')).status, 'after').toBe(200)
  }, 30_000)
})
