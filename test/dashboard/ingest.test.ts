/**
 * `POST /api/runs`: a run exported from another database, stored behind the bearer token — 201 with the
 * new id, visible at once on the run page and the leaderboard (no stale cache); 200 with the same id when
 * sent again; 401 / 403 without the token; 400 naming the problems; 413 past the size limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import type { RunModel } from '../../dashboard/data/run.ts'
import { exportRun } from '../../db/export.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { summarizeRun } from '../../harness/metrics/index.ts'
import { okOutcome, runMeta } from '../db/fixtures/data.ts'
import { seedRuns } from '../db/fixtures/seed.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'

const TOKEN = 'ingest-token-0123'
const auth = { authorization: `Bearer ${TOKEN}` }

describe.each(dbBackends())('POST /api/runs on %s', (backend) => {
  let source: TestDatabase
  let central: TestDatabase
  let document: string
  let seededId: number
  beforeAll(async () => {
    ;[source, central] = await Promise.all([createTestDatabase(backend), createTestDatabase(backend)])
    ;[seededId] = (await seedRuns(central.db, [{ tag: 5, startedAtIso: '2026-11-20T10:00:00Z' }])) as [number]
    const sink = createPostgresSink(source.db)
    const recorder = await sink.startRun(
      runMeta({
        target: { name: 'gpu-box' },
        startedAtIso: '2026-11-25T10:00:00.000Z',
        environment: {
          cpuModel: 'EPYC',
          cores: 64,
          ramBytes: 2 ** 38,
          gpus: [{ name: 'H100', vramBytes: 2 ** 36 }],
          os: 'Linux',
          nodeVersion: 'v20.20.2',
          engineVersions: {},
        },
      }),
    )
    const outcomes = [0, 1, 2].map((seq) => okOutcome(seq, { chunkGapsMs: [0.1, 2.5] }))
    for (const o of outcomes) recorder.record(o)
    await recorder.finish('completed', summarizeRun(outcomes))
    await sink.close()
    document = ''
    await exportRun(source.db, Number(recorder.runId), {
      format: 'json',
      write: (chunk) => {
        document += chunk
      },
    })
  })
  afterAll(async () => {
    await Promise.all([source?.dispose(), central?.dispose()])
  })

  const post = (app: ReturnType<typeof createApp>, body: string, headers: Record<string, string> = auth) =>
    app.request('http://dash.example:8787/api/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    })
  const problems = async (res: Response) => ((await res.json()) as { problems: string[] }).problems
  const leaderboardIds = async (app: ReturnType<typeof createApp>) =>
    (
      (await (await app.request('/api/leaderboard?scenario=db-test')).json()) as { rows: { runId: number }[] }
    ).rows.map((r) => r.runId)

  let pushedId: number
  it('stores the run (201) and shows it at once on the run page and the leaderboard', async () => {
    const app = createApp({ db: central.db, auth: { token: TOKEN } })
    expect(await leaderboardIds(app), 'before: the run measured here').toEqual([seededId])
    const res = await post(app, document)
    const body = (await res.json()) as { id: number; url: string; state: string }
    expect([res.status, body.state], 'created').toEqual([201, 'created'])
    pushedId = body.id
    expect(body.url, 'url of the run page').toBe(`http://dash.example:8787/runs/${pushedId}`)
    expect(res.headers.get('location'), 'location').toBe(body.url)
    // Read right after the write: within the cache's version TTL, so only invalidation makes it show.
    expect((await leaderboardIds(app)).sort(), 'after: both').toEqual([seededId, pushedId].sort())
    const run = (await (await app.request(`/api/runs/${pushedId}`)).json()) as RunModel
    const sent = JSON.parse(document) as { run: { fingerprint: string } }
    expect(
      [run.detail.run.fingerprint, run.detail.run.targetName, run.detail.run.imported?.format],
      'run as sent, marked as pushed',
    ).toEqual([sent.run.fingerprint, 'gpu-box', 'bench-run'])
    expect(run.detail.requests.total, 'requests').toBe(3)
    const page = await app.request(`/runs/${pushedId}`)
    expect([page.status, (await page.text()).includes('Imported from bench-run')], 'page').toEqual([
      200,
      true,
    ])
  })

  it('answers a repeat with the id it has (200), writing nothing', async () => {
    const app = createApp({ db: central.db, auth: { token: TOKEN } })
    const res = await post(app, document)
    expect([res.status, await res.json()], 'same id').toEqual([
      200,
      { id: pushedId, url: `http://dash.example:8787/runs/${pushedId}`, state: 'exists' },
    ])
    const listed = (await (await app.request('/api/runs')).json()) as { runs: { id: number }[] }
    expect(listed.runs.map((r) => r.id).sort(), 'two runs in all').toEqual([seededId, pushedId].sort())
  })

  it('needs the token: 401 without or with a wrong one, 403 when none is configured', async () => {
    const app = createApp({ db: central.db, auth: { token: TOKEN } })
    expect((await post(app, document, {})).status, 'no header').toBe(401)
    expect((await post(app, document, { authorization: 'Bearer nope' })).status, 'wrong').toBe(401)
    const closed = await post(createApp({ db: central.db, auth: {} }), document)
    expect([closed.status, (await problems(closed))[0]], 'none configured').toEqual([
      403,
      expect.stringContaining('BENCH_TOKEN'),
    ])
  })

  it('refuses what is not a run document with 400, naming each problem', async () => {
    const app = createApp({ db: central.db, auth: { token: TOKEN } })
    const notJson = await post(app, '{"format": "bench-run", <script>')
    expect([notJson.status, await problems(notJson)], 'not JSON').toEqual([
      400,
      [
        'body: not valid JSON: the document ends early (cut short?) (at byte 32); send the document `bench export <id> --format json` writes',
      ],
    ])
    const doc = JSON.parse(document)
    doc.run.startedAt = 'yesterday'
    doc.requests[1].chunkGapsMs = ['<b>']
    delete doc.metrics
    const invalid = await post(app, JSON.stringify(doc))
    const text = await invalid.text()
    expect(invalid.status, 'invalid').toBe(400)
    expect((JSON.parse(text) as { problems: string[] }).problems, 'every problem by path').toEqual([
      expect.stringMatching(/^run\.startedAt: expected an ISO 8601 time/),
      expect.stringMatching(/^metrics: /),
      expect.stringMatching(/^requests\[1\]\.chunkGapsMs\[0\]: .*expected number/),
    ])
    expect(text.includes('<b>'), 'input not echoed').toBe(false)
  })

  it('refuses a body past the limit with 413, saying what the limit is', async () => {
    const app = createApp({ db: central.db, auth: { token: TOKEN }, maxIngestBytes: 1024 })
    expect(document.length, 'the document is larger than the limit').toBeGreaterThan(1024)
    for (const headers of [auth, { ...auth, 'content-length': String(Buffer.byteLength(document)) }]) {
      const res = await post(app, document, headers)
      expect([res.status, await problems(res)], `413 (${Object.keys(headers).join(', ')})`).toEqual([
        413,
        [
          'body: larger than the 1024 bytes this dashboard takes for one run; push a run with fewer requests, or start the dashboard with a larger maxIngestBytes',
        ],
      ])
    }
  })
})
