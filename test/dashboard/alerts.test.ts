/**
 * Gate results on the dashboard, over the seeded history with gate results stored by the real gate
 * (fixtures/gate-seed.ts): the history's limit band, alert and change-point markers and tables; the
 * alerts list and its filters; acknowledge / dismiss behind the bearer token (401, 403, 404, 400 naming
 * the field) and cached reads that follow them at once; the alerts chart builder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { alertsByMetricChart } from '../../dashboard/charts/alerts.ts'
import { lttb } from '../../dashboard/charts/downsample.ts'
import type { AlertsModel } from '../../dashboard/data/alerts.ts'
import { ReadCache } from '../../dashboard/data/cache.ts'
import type { HistoryModel } from '../../dashboard/data/history.ts'
import { acknowledgeAlert } from '../../db/gate/alerts.ts'
import { computeChangePoints } from '../../db/gate/change-points.ts'
import type { AlertListItem } from '../../db/queries/index.ts'
import { seedRuns } from '../db/fixtures/seed.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { type SeededGate, seedGateResults } from './fixtures/gate-seed.ts'
import { type SeededHistory, seedDashboardHistory } from './fixtures/seed.ts'

const TOKEN = 'alerts-test-token'

describe.each(dbBackends())('gate results on the dashboard (%s)', (backend) => {
  let t: TestDatabase
  let s: SeededHistory
  let g: SeededGate
  let app: ReturnType<typeof createApp>
  const errors: unknown[] = []

  beforeAll(async () => {
    t = await createTestDatabase(backend)
    s = await seedDashboardHistory(t.db)
    g = await seedGateResults(t.db, s)
    app = createApp({ db: t.db, auth: { token: TOKEN }, logError: (e) => errors.push(e) })
  })
  afterAll(async () => {
    expect(errors, 'no 500s logged').toEqual([])
    await t?.dispose()
  })

  const json = async <T>(path: string, status = 200, init?: RequestInit, on = app): Promise<T> => {
    const res = await on.request(path, init)
    const body = await res.text()
    expect(res.status, `${init?.method ?? 'GET'} ${path}: ${body.slice(0, 300)}`).toBe(status)
    expect(res.headers.get('content-type'), `${path}: JSON`).toMatch(/^application\/json/)
    return JSON.parse(body) as T
  }
  const html = async (path: string): Promise<string> => {
    const res = await app.request(path)
    const body = await res.text()
    expect(res.status, `${path}: ${body.slice(0, 300)}`).toBe(200)
    return body
  }
  const post = (body?: unknown, headers: Record<string, string> = {}) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const auth = { authorization: `Bearer ${TOKEN}` }
  /** The gate rows stored for a run and metric, in the order the gates ran. */
  const gatedRows = (runId: number, metric: string) =>
    g.steps.flatMap((step) =>
      step.report.rows
        .filter((r) => r.runId === runId && r.metric === metric)
        .map((r) => ({ method: step.method, verdict: r.verdict })),
    )
  const alertsOf = async (query: string) =>
    (await json<AlertsModel>(`/api/alerts${query}`)).alerts.map((a) => a.id)

  describe('history', () => {
    it('carries the stored limit band (one method per run: the latest) and the alert markers', async () => {
      const q4 = s.chat['tiny-q4']!
      // Every branch: the feature-branch run was gated too (the default view shows main only).
      const m = await json<HistoryModel>(
        `/api/history?fingerprint=${g.q4Fingerprint}&metric=ttftMsP95&branch=*`,
      )
      const gated = [q4[2]!, q4[3]!, s.slowRun, s.featureRun]
      expect(
        m.band.map((b) => b.runId),
        'a band point per gated run, in run order',
      ).toEqual(gated)
      for (const runId of gated) {
        const stored = gatedRows(runId, 'ttftMsP95')
        const latest = stored.at(-1)!
        const band = m.band.find((b) => b.runId === runId)!
        expect(
          [band.method, band.lower, band.upper, band.verdict],
          `run ${runId}: the latest gate's limits`,
        ).toEqual([
          latest.method,
          latest.verdict.lowerLimit,
          latest.verdict.upperLimit,
          latest.verdict.verdict,
        ])
      }
      expect(
        gatedRows(s.slowRun, 'ttftMsP95').map((r) => [r.method, r.verdict.verdict]),
        'the slow run was gated twice, a regression both times',
      ).toEqual([
        ['t-test', 'regression'],
        ['percentage', 'regression'],
      ])
      const slowAlerts = g.steps
        .filter((step) => step.runId === s.slowRun)
        .flatMap((step) =>
          step.report.rows
            .filter((r) => r.verdict.verdict === 'regression')
            .map((r, i) => ({ metric: r.metric, id: step.alertIds[i]! })),
        )
        .filter((a) => a.metric === 'ttftMsP95')
        .map((a) => a.id)
      expect(slowAlerts, 'one ttftMsP95 alert per gate of the slow run').toHaveLength(2)
      expect(
        m.alerts.map((a) => [a.id, a.runId, a.state, a.previousRunId]),
        'alerts of the series, oldest first, with the run before',
      ).toEqual(slowAlerts.map((id) => [id, s.slowRun, 'active', q4[3]]))
      expect(m.alerts[0]?.deltaPct, 'Δ% of a 2.5× TTFT').toBeGreaterThan(100)
      expect(
        m.markers.map((k) => [k.kind, k.runId]),
        'an alert marker per alert',
      ).toEqual(slowAlerts.map(() => ['alert', s.slowRun]))
      expect(m.markers[0]?.label, 'marker label').toMatch(/^alert #\d+ \(active\): \+\d+\.\d %, p /)

      const page = await html(`/history?fingerprint=${g.q4Fingerprint}&metric=ttftMsP95`)
      expect(page, 'legend').toContain('id="history-legend"')
      expect(page, 'band drawn').toContain('"label":"upper limit"')
      expect(page, 'markers drawn').toContain('"label":"alerts"')
      expect(page, 'alerts table').toContain('id="history-alerts"')
      expect(page, 'compare with the run before').toContain(`/compare?a=${q4[3]}&amp;b=${s.slowRun}`)
    })

    it('carries the stored change points of the series, drawn and listed', async () => {
      const series = g.changePoints.find(
        (c) => c.fingerprint === g.q4Fingerprint && c.metric === 'chunkGapsMsP99',
      )
      expect(series?.changePoints.length, 'the job found steps in tiny-q4 chunkGapsMsP99').toBeGreaterThan(0)
      const m = await json<HistoryModel>(
        `/api/history?fingerprint=${g.q4Fingerprint}&metric=chunkGapsMsP99&branch=*`,
      )
      expect(
        m.changePoints.map((c) => [c.runId, c.pointIndex]),
        'stored change points',
      ).toEqual(series!.changePoints.map((c) => [c.runId, c.index]))
      expect(
        m.markers.filter((k) => k.kind === 'change-point').map((k) => k.runId),
        'a marker each',
      ).toEqual(series!.changePoints.map((c) => c.runId))
      const page = await html(`/history?fingerprint=${g.q4Fingerprint}&metric=chunkGapsMsP99`)
      expect(page, 'change points drawn').toContain('"label":"change points"')
      expect(page, 'change points table').toContain('id="history-change-points"')
      const mainOnly = await json<HistoryModel>(
        `/api/history?fingerprint=${g.q4Fingerprint}&metric=chunkGapsMsP99&branch=main`,
      )
      expect(
        mainOnly.changePoints.map((c) => c.runId),
        'marks of runs outside the filtered series left out',
      ).toEqual(series!.changePoints.map((c) => c.runId).filter((id) => id !== s.featureRun))
      expect(
        mainOnly.band.map((b) => b.runId),
        'band too',
      ).not.toContain(s.featureRun)
    })

    it('says how to get a band when nothing is stored', async () => {
      const m = await json<HistoryModel>(`/api/history?fingerprint=${g.q4Fingerprint}&metric=ttftMsP50`)
      expect([m.band, m.markers, m.alerts, m.changePoints], 'nothing stored for ttftMsP50').toEqual([
        [],
        [],
        [],
        [],
      ])
      expect(await html(`/history?fingerprint=${g.q4Fingerprint}&metric=ttftMsP50`), 'hint').toContain(
        'No gate results are stored',
      )
    })
  })

  describe('alerts list', () => {
    it('lists active alerts newest first with run, series and limits, filtered by state and metric', async () => {
      const m = await json<AlertsModel>('/api/alerts')
      expect(m.query.state, 'default state').toBe('active')
      expect(
        m.alerts.map((a) => a.id),
        'every alert the gate opened, newest first',
      ).toEqual([...g.alertIds].reverse())
      expect(g.alertIds.length, 'the seed opened several').toBeGreaterThanOrEqual(4)
      expect(m.activeCount, 'active count').toBe(g.alertIds.length)
      const first = m.alerts.find((a) => a.runId === s.slowRun && a.metric === 'ttftMsP95')!
      expect(first, 'joined run').toMatchObject({
        scenarioName: 'chat',
        targetName: 'tiny-q4',
        fingerprint: g.q4Fingerprint,
        state: 'active',
        gitBranch: 'main',
      })
      expect(
        [first.candidate! > first.upper!, first.deltaPct! > 0, typeof first.reason],
        'candidate past the upper limit',
      ).toEqual([true, true, 'string'])
      expect(
        m.counts.reduce((n, c) => n + c.count, 0),
        'counts cover every alert',
      ).toBe(g.alertIds.length)

      const ttft = await json<AlertsModel>('/api/alerts?metric=ttftMsP95')
      expect(
        ttft.alerts.map((a) => a.metric),
        'metric filter',
      ).toEqual(ttft.alerts.map(() => 'ttftMsP95'))
      expect(ttft.alerts.length, 'both gates of the slow run').toBe(2)
      const one = await json<AlertsModel>('/api/alerts?limit=1&state=all')
      expect([one.alerts.length, one.hasMore], 'limit').toEqual([1, true])
      expect(await alertsOf('?state=dismissed'), 'none dismissed yet').toEqual([])

      const bad = await json<{ problems: string[] }>('/api/alerts?state=open&limit=501&metric=a%20b', 400)
      expect(bad.problems.map((p) => p.split(':')[0]).sort(), 'every parameter named').toEqual([
        'limit',
        'metric',
        'state',
      ])

      const page = await html('/alerts')
      expect(page, 'chart').toContain('data-chart-for="chart-alerts"')
      expect(page, 'script').toContain('<script src="/public/alerts.js" defer></script>')
      expect(page.match(/data-alert-action="acknowledge"/g)?.length, 'a button per active alert').toBe(
        g.alertIds.length,
      )
      expect(page, 'link to the series history').toContain(
        `/history?fingerprint=${g.q4Fingerprint}&amp;metric=ttftMsP95`,
      )
      expect(page, 'nav count').toMatch(
        new RegExp(`data-nav-count="activeAlerts"[^>]*>${g.alertIds.length}</span>`),
      )
      const script = await app.request('/public/alerts.js')
      expect([script.status, script.headers.get('content-type')], 'served').toEqual([
        200,
        'text/javascript; charset=utf-8',
      ])
    })
  })

  describe('acknowledge and dismiss', () => {
    it('need the token: 401 without or with a wrong one, 403 with none configured; nothing changes', async () => {
      const id = g.alertIds[0]!
      const missing = await json<{ problems: string[] }>(
        `/api/alerts/${id}/acknowledge`,
        401,
        post({ by: 'x' }),
      )
      expect(missing.problems[0], 'says what is needed').toContain('Authorization: Bearer')
      await json(`/api/alerts/${id}/dismiss`, 401, post({}, { authorization: 'Bearer wrong' }))
      const readOnly = createApp({ db: t.db, auth: {} })
      const refused = await json<{ problems: string[] }>(
        `/api/alerts/${id}/acknowledge`,
        403,
        post({}, auth),
        readOnly,
      )
      expect(refused.problems[0], 'how to enable writes').toContain('BENCH_TOKEN')
      expect(await alertsOf('?state=active'), 'all still active').toContain(id)
    })

    it('validates the id and the body (400 naming the field), and 404s an unknown alert', async () => {
      const id = g.alertIds[0]!
      const problems = async (path: string, body: unknown, status = 400) =>
        (await json<{ problems: string[] }>(path, status, post(body, auth))).problems
      expect(await problems('/api/alerts/abc/acknowledge', {}), 'bad id').toEqual([
        'alert id: expected a whole number',
      ])
      expect(await problems('/api/alerts/0/dismiss', {}), 'id 0').toEqual([
        'alert id: Too small: expected number to be >=1',
      ])
      expect((await problems(`/api/alerts/${id}/acknowledge`, { by: 42 }))[0], 'by not a string').toMatch(
        /^by: /,
      )
      expect(
        await problems(`/api/alerts/${id}/acknowledge`, { note: 'x'.repeat(2001) }),
        'note too long',
      ).toEqual(['note: at most 2000 characters'])
      expect(
        await problems(`/api/alerts/${id}/acknowledge`, { by: 'a\u0000b' }),
        'control character',
      ).toEqual(['by: must not contain control characters'])
      expect(
        (await problems(`/api/alerts/${id}/acknowledge`, { notes: 'typo' }))[0],
        'unknown field named',
      ).toContain('notes')
      expect(await problems(`/api/alerts/${id}/acknowledge`, '{by:'), 'not JSON').toEqual([
        'body: expected a JSON object like {"by": "ana", "note": "bisecting"}',
      ])
      expect((await problems(`/api/alerts/${id}/acknowledge`, [1, 2]))[0], 'not an object').toMatch(
        /expected object/,
      )
      expect(await problems('/api/alerts/999999/acknowledge', {}, 404), 'unknown alert').toEqual([
        'no alert with id 999999',
      ])
      expect(await alertsOf('?state=active'), 'nothing changed').toContain(id)
    })

    it('acknowledge → 200, acknowledged at once in every later read (lists, counts, history)', async () => {
      const [id, other] = [g.alertIds[0]!, g.alertIds[1]!]
      // Warm the cache first: the write must not be hidden by it.
      const before = await json<AlertsModel>('/api/alerts')
      expect(
        before.alerts.map((a) => a.id),
        'active before',
      ).toContain(id)
      const { alert } = await json<{ alert: AlertListItem }>(
        `/api/alerts/${id}/acknowledge`,
        200,
        post({ by: 'ana', note: 'bisecting <b>now</b>' }, auth),
      )
      expect([alert.id, alert.state, alert.actedBy, alert.note], 'answer').toEqual([
        id,
        'acknowledged',
        'ana',
        'bisecting <b>now</b>',
      ])
      expect(new Date(alert.actedAt!).getTime(), 'acted just now').toBeGreaterThan(Date.now() - 60_000)
      const after = await json<AlertsModel>('/api/alerts')
      expect(
        after.alerts.map((a) => a.id),
        'no longer active',
      ).not.toContain(id)
      expect(after.activeCount, 'active count down by one').toBe(before.activeCount - 1)
      expect(await alertsOf('?state=acknowledged'), 'listed as acknowledged').toEqual([id])
      const page = await html('/alerts?state=acknowledged')
      expect(page, 'note escaped').toContain('bisecting &lt;b&gt;now&lt;/b&gt;')
      expect(page, 'no buttons on acted alerts').not.toContain('data-alert-action=')
      expect(page, 'nav count follows').toMatch(
        new RegExp(`data-nav-count="activeAlerts"[^>]*>${before.activeCount - 1}</span>`),
      )
      const history = await json<HistoryModel>(
        `/api/history?fingerprint=${g.q4Fingerprint}&metric=${alert.metric}`,
      )
      expect(history.alerts.find((a) => a.id === id)?.state, 'history shows the new state').toBe(
        'acknowledged',
      )

      // An empty body is allowed: who and why stay empty.
      const dismissed = await json<{ alert: AlertListItem }>(
        `/api/alerts/${other}/dismiss`,
        200,
        post(undefined, auth),
      )
      expect([dismissed.alert.state, dismissed.alert.actedBy, dismissed.alert.note], 'dismissed').toEqual([
        'dismissed',
        null,
        null,
      ])
      expect(await alertsOf('?state=dismissed'), 'listed as dismissed').toEqual([other])
      const all = await json<AlertsModel>('/api/alerts?state=all')
      expect(all.alerts.length, 'all states').toBe(g.alertIds.length)
    })

    it('follows a change made by another process once the version is read again', async () => {
      const id = g.alertIds[2]!
      expect(await alertsOf('?state=active'), 'active, and cached').toContain(id)
      // `bench alerts ack` in another process: the dashboard's cache is not told.
      await acknowledgeAlert(t.db, id, { by: 'cli' })
      // The version is read at most every 250 ms.
      await new Promise((r) => setTimeout(r, 300))
      expect(await alertsOf('?state=active'), 'no longer active').not.toContain(id)
    })
  })
})

describe.each(dbBackends())('history downsampling keeps marked runs (%s)', (backend) => {
  it('a change point the plain LTTB would drop stays among the points', async () => {
    const t = await createTestDatabase(backend)
    try {
      // ttftMsP50 alternates 20/22 for 20 runs, then 30/32: one change point, at the 21st run.
      const at = (i: number) => new Date(Date.UTC(2026, 10, 1) + i * 3_600_000).toISOString()
      const tags = Array.from({ length: 40 }, (_, i) => (i < 20 ? 20 : 30) + (i % 2) * 2)
      const ids = await seedRuns(
        t.db,
        tags.map((tag, i) => ({
          tag,
          startedAtIso: at(i),
          meta: { git: { branch: 'main', commit: `c${i}` } },
        })),
      )
      const [series] = await computeChangePoints(t.db, { metrics: ['ttftMsP50'] })
      expect(
        series?.changePoints.map((c) => c.runId),
        'the job found the step',
      ).toEqual([ids[20]])
      const plain = lttb(
        tags.map((y, i) => ({ x: Date.parse(at(i)), y, runId: ids[i]! })),
        10,
      ).map((p) => p.runId)
      expect(plain, 'without the keep rule LTTB drops it (what this test guards)').not.toContain(ids[20])
      const app = createApp({ db: t.db, auth: {} })
      const m = (await (
        await app.request(`/api/history?fingerprint=${series!.fingerprint}&metric=ttftMsP50&points=10`)
      ).json()) as HistoryModel
      expect(m.downsampled, 'downsampled').toBe(true)
      expect(
        m.points.map((p) => p.runId),
        "LTTB's points plus the marked run, in order",
      ).toEqual(ids.filter((id) => plain.includes(id) || id === ids[20]))
      expect(
        m.markers.map((k) => [k.kind, k.runId]),
        'marker',
      ).toEqual([['change-point', ids[20]]])
    } finally {
      await t.dispose()
    }
  })
})

describe('alertsByMetricChart', () => {
  it('stacks one bar per metric (most alerts first) by state, zero-filled, each segment linked', () => {
    const config = alertsByMetricChart([
      { metric: 'ttftMsP95', state: 'active', count: 1 },
      { metric: 'outputTokensPerS', state: 'active', count: 2 },
      { metric: 'outputTokensPerS', state: 'dismissed', count: 1 },
      { metric: 'ttftMsP95', state: 'acknowledged', count: 2 },
      { metric: 'chunkGapsMsP99', state: 'acknowledged', count: 1 },
    ])
    expect(config.data.labels, 'metrics: 3, 3, 1 alerts; ties by name').toEqual([
      'outputTokensPerS',
      'ttftMsP95',
      'chunkGapsMsP99',
    ])
    expect(
      config.data.datasets.map((d) => [d.label, d.data]),
      'counts per state',
    ).toEqual([
      ['active', [2, 1, 0]],
      ['acknowledged', [0, 2, 1]],
      ['dismissed', [1, 0, 0]],
    ])
    expect(config.data.datasets[1]?.benchLinks?.[2], 'segment link').toBe(
      '/alerts?state=acknowledged&metric=chunkGapsMsP99',
    )
    expect(
      [config.options.indexAxis, config.options.scales?.x?.stacked, config.options.scales?.y?.stacked],
      'horizontal, stacked',
    ).toEqual(['y', true, true])
    expect(alertsByMetricChart([]).data.labels, 'no alerts: no bars').toEqual([])
  })
})

describe('ReadCache.invalidate', () => {
  it('drops versioned entries and the version read at once, and keeps immutable ones', async () => {
    let versionReads = 0
    const cache = new ReadCache({
      version: async () => `v${++versionReads}`,
      versionTtlMs: 60_000,
      now: () => 0,
    })
    let computed = 0
    const compute = async () => ++computed
    expect(await cache.get('k', compute), 'computed').toBe(1)
    expect(await cache.get('k', compute), 'reused within the version').toBe(1)
    expect(await cache.getImmutable('i', async () => 'fixed'), 'immutable').toBe('fixed')
    cache.invalidate()
    expect(await cache.get('k', compute), 'recomputed after invalidate').toBe(2)
    expect(versionReads, 'version read again').toBe(2)
    expect(await cache.getImmutable('i', async () => 'other'), 'immutable kept').toBe('fixed')
  })
})
