/**
 * The procurement page and API through app.request, on each backend: goodput at the reader's SLO worked
 * out by hand from METRICS.md over hand-picked request timings (fixtures/procurement-seed.ts) and checked
 * against the harness's own summary of the seeded history; targets, loads and SLO chosen by parameters;
 * prices written with the bearer token (403 without one configured, 401 without or with a wrong one, 404
 * for an unknown environment, 400 naming usdPerHour) and shown at once with the $-figures and ranking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import type { ProcurementModel, RankedTarget } from '../../dashboard/data/procurement.ts'
import type { RunModel } from '../../dashboard/data/run.ts'
import { type EnvironmentWithPrice, pricesOf, setEnvironmentPrice } from '../../db/prices.ts'
import { getJson } from '../helpers/app-json.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { BUY_SCENARIO, type SeededBuy, seedProcurement } from './fixtures/procurement-seed.ts'
import { HOSTILE_TARGET, type SeededHistory, seedDashboardHistory } from './fixtures/seed.ts'

const TOKEN = 'procurement-token'

describe.each(dbBackends())('procurement on %s', (backend) => {
  let t: TestDatabase
  let history: SeededHistory
  let buy: SeededBuy
  let app: ReturnType<typeof createApp>
  const errors: unknown[] = []
  /** Environment ids of the two machines of scenario `buy`. */
  let cpu: number
  let gpu: number
  const fp: Record<string, string> = {}

  beforeAll(async () => {
    t = await createTestDatabase(backend)
    history = await seedDashboardHistory(t.db)
    buy = await seedProcurement(t.db)
    app = createApp({ db: t.db, auth: { token: TOKEN }, logError: (e) => errors.push(e) })
    for (const [key, runId] of Object.entries(buy.runs)) {
      const detail = (await (await app.request(`/api/runs/${runId}`)).json()) as RunModel
      fp[key] = detail.detail.run.fingerprint
      if (key === 'alpha@1') cpu = detail.detail.run.environmentId!
      if (key === 'beta@1') gpu = detail.detail.run.environmentId!
    }
  })
  afterAll(async () => {
    expect(errors, 'no 500s logged').toEqual([])
    await t?.dispose()
  })

  const json = <T>(path: string, status = 200): Promise<T> => getJson<T>(app, path, status)
  const problems = async (path: string, status: number) =>
    (await json<{ problems: string[] }>(path, status)).problems
  const row = (m: ProcurementModel, target: string): RankedTarget => {
    const r = m.rows.find((x) => x.targetName === target)
    if (!r) throw new Error(`no row ${target}`)
    return r
  }
  const put = (
    id: number | string,
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
    on = app,
  ) =>
    on.request(`/api/environments/${id}/price`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })

  const putServing = (
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
  ) =>
    app.request('/api/serving', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(
        typeof body === 'object' && body !== null ? { scenario: BUY_SCENARIO, ...body } : body,
      ),
    })

  it('computes goodput at the scenario SLO from the stored requests, by the METRICS.md definition', async () => {
    const m = await json<ProcurementModel>(`/api/procurement?scenario=${BUY_SCENARIO}`)
    expect(
      m.loads.map((l) => [l.label, l.targets]),
      'workloads, most targets first',
    ).toEqual([
      ['concurrent 1', 3],
      ['concurrent 4', 2],
    ])
    expect(m.load, 'default load').toBe(m.loads[0]!.key)
    expect(m.slo, "the scenario's SLO").toEqual({ ttftMs: 200, tpotMs: 60, e2eMs: null, source: 'scenario' })
    expect(
      m.candidates.map((c) => [c.label, c.selected]),
      'every target of the load, ticked',
    ).toEqual([
      ['alpha', true],
      ['beta', true],
      ['gamma', true],
    ])
    const alpha = row(m, 'alpha')
    // alpha: window 0 → 4000 ms = 4 s. ok requests with ttft ≤ 200 and tpot ≤ 60 (or no tpot): seq 2
    // (100, 50) and seq 4 (50, one token); seq 0 (tpot 100) and seq 1 (ttft 300) miss; seq 3 is an error.
    expect(alpha.figures.goodputRequestsPerS, 'alpha goodput = 2 good / 4 s').toBe(0.5)
    expect(alpha.figures.goodFraction, 'alpha goodFraction = 2 / (4 ok + 1 error)').toBe(0.4)
    expect(alpha.goodput, 'alpha detail').toEqual({
      state: 'computed',
      goodputRequestsPerS: 0.5,
      goodFraction: 0.4,
      good: 2,
      attempted: 5,
      windowMs: 4000,
    })
    expect(alpha.figures.outputTokensPerS, 'alpha throughput = 30 tokens / 4 s').toBe(7.5)
    expect(alpha.figures.outputTokensPerSPerGB, 'alpha per GB = 7.5 / (2e9 / 1e9)').toBe(3.75)
    expect(alpha.figures.memoryMetric, 'alpha memory').toBe('peakRssBytes')
    const beta = row(m, 'beta')
    // beta: window 2 s; seq 0 and 1 good, seq 2 tpot 580/9 ≈ 64.4 > 60, seq 3 ttft 250 > 200.
    expect([beta.figures.goodputRequestsPerS, beta.figures.goodFraction], 'beta: 2 / 2 s, 2 / 4').toEqual([
      1, 0.5,
    ])
    expect([beta.figures.outputTokensPerSPerGB, beta.figures.memoryMetric], 'beta per GB of VRAM').toEqual([
      17 / 8,
      'vramBytes',
    ])
    const gamma = row(m, 'gamma')
    // gamma: window 3 s; seq 0 (150, 40) good, seq 1 tpot 212.5 misses.
    expect([gamma.figures.goodputRequestsPerS, gamma.figures.goodFraction], 'gamma: 1 / 3 s, 1 / 2').toEqual([
      1 / 3,
      0.5,
    ])
    expect(gamma.why.outputTokensPerSPerGB, 'gamma: why no per-GB figure').toMatch(/no peak memory/)
    for (const r of m.rows) {
      expect(r.rank, `${r.label}: unranked without a price`).toBeNull()
      expect(r.unrankedReason, `${r.label}: says why`).toMatch(
        r.targetName === 'beta'
          ? /^unpriced endpoint: the run's environment is the client that ran bench, never priced for a remote endpoint; add serving: \{ hardware, gpu, gpuCount, pricePerHour \}/
          : /no hourly price is entered for its environment/,
      )
    }
    expect(
      m.models.map((x) => [x.key, x.targets]),
      'one model: ranked across hardware and engines',
    ).toEqual([['family:buy-model', 3]])
    expect(m.recommendation.best, 'nothing to recommend by cost').toBeNull()
    expect(m.recommendation.text, 'recommendation says why').toMatch(
      /^No target can be ranked by cost efficiency\. Not ranked, listed last: alpha \(no hourly price/,
    )
  })

  it('follows the SLO the reader sets', async () => {
    const at = async (query: string) =>
      row(await json<ProcurementModel>(`/api/procurement?scenario=${BUY_SCENARIO}&${query}`), 'alpha')
    const loose = await at('sloTtftMs=500&sloTpotMs=100')
    // Every ok request of alpha meets ttft ≤ 500 and tpot ≤ 100: 4 good / 4 s; 4 / 5 attempted.
    expect([loose.figures.goodputRequestsPerS, loose.figures.goodFraction], 'loose SLO').toEqual([1, 0.8])
    const ttftOnly = await at('sloTtftMs=200')
    // No TPOT bound: seq 0, 2, 4 have ttft ≤ 200 → 3 / 4 s.
    expect(ttftOnly.figures.goodputRequestsPerS, 'ttft bound only').toBe(0.75)
    const tight = await at('sloTtftMs=10&sloTpotMs=10')
    expect([tight.figures.goodputRequestsPerS, tight.figures.goodFraction], 'nothing meets it').toEqual([
      0, 0,
    ])
    const m = await json<ProcurementModel>(`/api/procurement?scenario=${BUY_SCENARIO}&sloTpotMs=50.5`)
    expect(m.slo, 'one bound given: the others are none').toEqual({
      ttftMs: null,
      tpotMs: 50.5,
      e2eMs: null,
      source: 'query',
    })
  })

  it('recomputes the stored goodput exactly when asked at the SLO the run was summarized with', async () => {
    // The seeded history was summarized by the harness at ttftMs ≤ 80, tpotMs ≤ 8.
    const m = await json<ProcurementModel>(
      // model=*: the chat targets serve different models, ranked together only when asked.
      '/api/procurement?scenario=chat&sloTtftMs=80&sloTpotMs=8&rank=goodput&model=*',
    )
    expect(m.rows, 'every chat target').toHaveLength(5)
    for (const r of m.rows) {
      const stored = (await json<RunModel>(`/api/runs/${r.runId}`)).detail.metrics
      const value = (name: string) => stored.find((x) => x.name === name)?.value
      expect(r.figures.goodputRequestsPerS, `${r.label}: goodputRequestsPerS`).toBeCloseTo(
        value('goodputRequestsPerS')!,
        12,
      )
      expect(r.figures.goodFraction, `${r.label}: goodFraction`).toBeCloseTo(value('goodFraction')!, 12)
    }
    const ranked = m.rows.map((r) => r.figures.goodputRequestsPerS!)
    expect(ranked, 'ranked by goodput, best first').toEqual([...ranked].sort((a, b) => b - a))
    expect(m.view.branch, 'the default branch, as the leaderboard').toBe('main')
    expect(
      m.rows.map((r) => r.runId),
      'no feature-branch run by default',
    ).not.toContain(history.featureRun)
    const every = await json<ProcurementModel>(
      '/api/procurement?scenario=chat&sloTtftMs=80&sloTpotMs=8&rank=goodput&model=*&branch=*',
    )
    expect(
      every.rows.map((r) => r.runId),
      'branch=*: latest run of each target',
    ).toContain(history.featureRun)
  })

  it('compares the chosen targets of one load and refuses mixing loads', async () => {
    const two = await json<ProcurementModel>(
      `/api/procurement?scenario=${BUY_SCENARIO}&targets=${fp['alpha@1']}&targets=${fp['gamma@1']}`,
    )
    expect(two.rows.map((r) => r.targetName).sort(), 'the two chosen').toEqual(['alpha', 'gamma'])
    expect(
      two.candidates.map((c) => [c.label, c.selected]),
      'beta offered, not ticked',
    ).toEqual([
      ['alpha', true],
      ['beta', false],
      ['gamma', true],
    ])
    const c4 = await json<ProcurementModel>(
      `/api/procurement?scenario=${BUY_SCENARIO}&targets=${fp['beta@4']}`,
    )
    expect(c4.load, 'load follows the targets').toBe(two.loads[1]!.key)
    expect(
      c4.rows.map((r) => [r.targetName, r.figures.outputTokensPerS]),
      'beta at concurrent 4',
    ).toEqual([['beta', 60]])
    const byLoad = await json<ProcurementModel>(
      `/api/procurement?scenario=${BUY_SCENARIO}&load=${two.loads[1]!.key}`,
    )
    expect(byLoad.rows.map((r) => r.targetName).sort(), 'every target of concurrent 4').toEqual([
      'alpha',
      'beta',
    ])

    const mixed = await problems(
      `/api/procurement?scenario=${BUY_SCENARIO}&targets=${fp['alpha@1']}&targets=${fp['beta@4']}`,
      400,
    )
    expect(mixed[0], 'mixed loads').toMatch(
      /^targets: they were measured under different loads \("concurrent 1", "concurrent 4"\)/,
    )
    const wrongLoad = await problems(
      `/api/procurement?scenario=${BUY_SCENARIO}&load=${two.loads[1]!.key}&targets=${fp['gamma@1']}`,
      400,
    )
    expect(wrongLoad[0], 'target of another load').toMatch(
      /^targets: some were measured under "concurrent 1"/,
    )
    expect(
      (await problems(`/api/procurement?scenario=${BUY_SCENARIO}&targets=${'f'.repeat(64)}`, 404))[0],
      'unknown fingerprint',
    ).toBe(`no completed run of scenario "buy" has fingerprint ${'f'.repeat(12)}`)
    expect((await problems(`/api/procurement?scenario=${BUY_SCENARIO}&load=${'0'.repeat(12)}`, 404))[0]).toBe(
      `scenario "buy" has no workload ${'0'.repeat(12)}`,
    )
    expect((await problems('/api/procurement?scenario=nope', 404))[0], 'unknown scenario').toBe(
      'no completed runs of scenario "nope"',
    )
    expect(
      await problems('/api/procurement?sloTtftMs=-5&sloTpotMs=1e9&rank=cheapest&targets=xyz&load=zz', 400),
      'every bad parameter named',
    ).toEqual([
      'load: expected a workload key (12 hex digits, as listed in `loads`)',
      'targets.0: expected a fingerprint (hex)',
      'sloTtftMs: expected milliseconds, e.g. 500 or 12.5',
      'sloTpotMs: expected milliseconds, e.g. 500 or 12.5',
      'rank: Invalid option: expected one of "cost-efficiency"|"throughput-per-gb"|"goodput"|"goodput-per-dollar"',
    ])
    expect(await problems('/api/procurement?sloTtftMs=0', 400), 'zero bound').toEqual([
      'sloTtftMs: must be > 0 ms',
    ])
  })

  it('refuses price writes without a configured token, without the token and with bad input', async () => {
    const readOnly = createApp({ db: t.db, auth: {} })
    const forbidden = await put(cpu, { usdPerHour: 2 }, { authorization: `Bearer ${TOKEN}` }, readOnly)
    expect(forbidden.status, 'no token configured').toBe(403)
    expect(((await forbidden.json()) as { problems: string[] }).problems[0], 'says how').toContain(
      'BENCH_TOKEN',
    )
    expect((await put(cpu, { usdPerHour: 2 }, {})).status, 'no header').toBe(401)
    expect((await put(cpu, { usdPerHour: 2 }, { authorization: 'Bearer wrong' })).status, 'wrong token').toBe(
      401,
    )

    const refused = async (body: unknown) => {
      const res = await put(cpu, body)
      return [res.status, ((await res.json()) as { problems: string[] }).problems]
    }
    expect(await refused({ usdPerHour: -1 }), 'negative').toEqual([
      400,
      ['usdPerHour: must be > 0 (US dollars per hour)'],
    ])
    expect(await refused({ usdPerHour: 0 }), 'zero').toEqual([
      400,
      ['usdPerHour: must be > 0 (US dollars per hour)'],
    ])
    expect(await refused({ usdPerHour: 'NaN' }), 'NaN as text').toEqual([
      400,
      ['usdPerHour: expected a number of US dollars per hour, e.g. 2.5'],
    ])
    expect(await refused({ usdPerHour: null }), 'NaN as JSON.stringify sends it').toEqual([
      400,
      ['usdPerHour: expected a number of US dollars per hour, e.g. 2.5'],
    ])
    expect(await refused('{"usdPerHour": 1e400}'), 'overflows to Infinity').toEqual([
      400,
      ['usdPerHour: expected a number of US dollars per hour, e.g. 2.5'],
    ])
    expect(await refused({ usdPerHour: 1e9 }), 'huge').toEqual([
      400,
      ['usdPerHour: at most 100000 (US dollars per hour)'],
    ])
    expect(await refused({}), 'missing').toEqual([
      400,
      ['usdPerHour: expected a number of US dollars per hour, e.g. 2.5'],
    ])
    expect(await refused({ usdPerHour: 2, note: 'a\u0000b' }), 'control character in the note').toEqual([
      400,
      ['note: must not contain control characters'],
    ])
    expect(await refused('{usdPerHour:'), 'not JSON').toEqual([
      400,
      ['body: expected a JSON object like {"usdPerHour": 2.5}'],
    ])
    const unknown = await put(999_999, { usdPerHour: 2 })
    expect(
      [unknown.status, ((await unknown.json()) as { problems: string[] }).problems],
      'unknown environment',
    ).toEqual([404, ['no environment with id 999999']])
    expect((await put('abc', { usdPerHour: 2 })).status, 'not an id').toBe(400)
    const environments = await json<{ environments: EnvironmentWithPrice[] }>('/api/environments')
    expect(
      environments.environments.filter((e) => e.price !== null),
      'nothing stored by refused writes',
    ).toEqual([])
  })

  it('has the database refuse a price that is not finite and positive, whoever writes it', async () => {
    for (const usdPerHour of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0])
      await expect(setEnvironmentPrice(t.db, cpu, { usdPerHour }), `refused: ${usdPerHour}`).rejects.toThrow()
    expect(await setEnvironmentPrice(t.db, 999_999, { usdPerHour: 1 }), 'no such environment').toBeUndefined()
    expect((await pricesOf(t.db, [cpu, gpu])).size, 'nothing stored').toBe(0)
  })

  it('stores a price with the token and shows it, the $-figures and the ranking at once', async () => {
    // Read first, so the cached model must be invalidated by the write.
    await json<ProcurementModel>(`/api/procurement?scenario=${BUY_SCENARIO}`)
    const res = await put(cpu, { usdPerHour: 2, note: 'spot <price>', by: 'ana' })
    expect(res.status, 'with the token').toBe(200)
    const { price } = (await res.json()) as { price: { environmentId: number; usdPerHour: number } }
    expect([price.environmentId, price.usdPerHour], 'answer').toEqual([cpu, 2])
    // beta's environment: the client machine of an endpoint run. Its price must never reach beta.
    expect((await put(gpu, { usdPerHour: 8 })).status, 'second machine').toBe(200)
    const clientPriced = await json<ProcurementModel>(`/api/procurement?scenario=${BUY_SCENARIO}`)
    expect(
      [row(clientPriced, 'beta').figures.usdPerHour, row(clientPriced, 'beta').rank],
      "beta: the client's $8/h is not its price",
    ).toEqual([null, null])
    expect(
      clientPriced.environments.map((e) => e.id),
      "only native targets' environments are offered for pricing",
    ).toEqual([cpu])
    expect(clientPriced.endpoints, 'beta listed unpriced').toEqual([
      { targetName: 'beta', labels: ['beta'], model: 'buy-model', identity: null },
    ])
    expect((await putServing({ target: 'beta', hardware: 'Buy cloud box', usdPerHour: 8 })).status).toBe(200)

    const m = await json<ProcurementModel>(`/api/procurement?scenario=${BUY_SCENARIO}`)
    const alpha = row(m, 'alpha')
    expect(alpha.figures.usdPerHour, 'alpha price').toBe(2)
    expect(alpha.figures.outputTokensPerSPerUsdHour, 'alpha: 7.5 tokens/s / $2/h').toBe(3.75)
    expect(alpha.figures.outputTokensPerUsd, 'alpha: 7.5 × 3600 / 2 tokens per dollar').toBe(13_500)
    expect(alpha.figures.goodRequestsPerUsd, 'alpha: 0.5 × 3600 / 2 good requests per dollar').toBe(900)
    expect(row(m, 'beta').figures.outputTokensPerSPerUsdHour, 'beta: 17 / 8').toBe(2.125)
    expect(
      m.rows.map((r) => [r.targetName, r.rank, r.value]),
      'cost efficiency: alpha 3.75, gamma 5 / 2, beta 2.125',
    ).toEqual([
      ['alpha', 1, 3.75],
      ['gamma', 2, 2.5],
      ['beta', 3, 2.125],
    ])
    expect(m.recommendation.text, 'recommendation').toBe(
      'By cost efficiency for model buy-model, choose alpha: 3.75 tokens/s per $/h (13,500 output tokens per dollar at $2/h), 1.5× the next, gamma (2.5 tokens/s per $/h).',
    )
    const ranking = async (rank: string) =>
      (await json<ProcurementModel>(`/api/procurement?scenario=${BUY_SCENARIO}&rank=${rank}`)).rows.map(
        (r) => [r.targetName, r.rank],
      )
    expect(await ranking('throughput-per-gb'), 'per GB: alpha 3.75, beta 2.125, gamma none').toEqual([
      ['alpha', 1],
      ['beta', 2],
      ['gamma', null],
    ])
    expect(await ranking('goodput'), 'goodput: beta 1, alpha 0.5, gamma 1/3').toEqual([
      ['beta', 1],
      ['alpha', 2],
      ['gamma', 3],
    ])
    expect(await ranking('goodput-per-dollar'), 'per dollar: alpha 900, gamma 600, beta 450').toEqual([
      ['alpha', 1],
      ['gamma', 2],
      ['beta', 3],
    ])

    const environments = await json<{ environments: (EnvironmentWithPrice & { hardware: string })[] }>(
      '/api/environments',
    )
    const priced = environments.environments.find((e) => e.id === cpu)!
    expect(
      [priced.hardware, priced.price?.usdPerHour, priced.price?.note, priced.price?.updatedBy],
      'listed',
    ).toEqual(['Buy CPU 3.0GHz · 8 cores', 2, 'spot <price>', 'ana'])
    expect(m.rows.map((r) => r.hardware).sort(), 'serving machines in words, cores as cores').toEqual([
      'Buy CPU 3.0GHz · 8 cores',
      'Buy CPU 3.0GHz · 8 cores',
      'Buy cloud box',
    ])
    const body = await (await app.request(`/procurement?scenario=${BUY_SCENARIO}`)).text()
    expect(body, 'recommendation on the page').toContain(
      'By cost efficiency for model buy-model, choose alpha: 3.75 tokens/s per $/h',
    )
    expect(body, 'price on the page').toContain(`data-price="2"`)
    expect(body, 'note escaped').toContain('spot &lt;price&gt;')
    expect(body, 'no raw note').not.toContain('spot <price>')

    // A replaced price takes effect too.
    expect((await put(cpu, { usdPerHour: 4 })).status, 'replace').toBe(200)
    const after = await json<ProcurementModel>(`/api/procurement?scenario=${BUY_SCENARIO}`)
    expect(row(after, 'alpha').figures.outputTokensPerSPerUsdHour, 'alpha: 7.5 / 4').toBe(1.875)
    expect(row(after, 'alpha').figures.usdPerHour, 'note cleared with the new price').toBe(4)
  })

  it('sees a price another process wrote once the data version is read again', async () => {
    const other = createApp({ db: t.db, auth: { token: TOKEN } })
    const alphaPrice = async () =>
      row(await json<ProcurementModel>(`/api/procurement?scenario=${BUY_SCENARIO}`), 'alpha').figures
        .usdPerHour
    const before = await alphaPrice()
    expect(
      (await put(cpu, { usdPerHour: (before ?? 1) + 1 }, undefined, other)).status,
      'written elsewhere',
    ).toBe(200)
    // The version is read at most every 250 ms.
    await new Promise((r) => setTimeout(r, 300))
    expect(await alphaPrice(), 'seen here').toBe((before ?? 1) + 1)
  })

  it('keeps hostile price notes as text and never echoes markup from a refused write', async () => {
    const hostile = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>']
    for (const text of hostile) {
      expect((await put(gpu, { usdPerHour: 3, note: text, by: text })).status, `stored: ${text}`).toBe(200)
      const serving = { target: 'beta', hardware: text, gpu: text, usdPerHour: 8, note: text, by: text }
      expect((await putServing(serving)).status, `serving stored: ${text}`).toBe(200)
    }
    const page = await (await app.request(`/procurement?scenario=${BUY_SCENARIO}`)).text()
    const listed = await (await app.request('/api/environments')).text()
    for (const text of hostile) {
      expect(page.includes(text), `page: ${text}`).toBe(false)
      expect(listed.includes(text), `API: ${text}`).toBe(false)
    }
    expect(page, 'shown escaped').toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;')
    for (const body of [
      { usdPerHour: '<script>alert(1)</script>' },
      { usdPerHour: 1, note: `<script>${'x'.repeat(300)}</script>` },
      { usdPerHour: [1] },
      [],
      '"<script>alert(1)</script>"',
      'null',
    ]) {
      const res = await put(gpu, body)
      const text = await res.text()
      expect(res.status, `refused: ${JSON.stringify(body).slice(0, 40)}`).toBe(400)
      expect(text.includes('<script>'), `not echoed: ${JSON.stringify(body).slice(0, 40)}`).toBe(false)
    }
  })

  it('renders the page with charts, the form and escaped names', async () => {
    const res = await app.request('/procurement?scenario=chat&model=*')
    const body = await res.text()
    expect(res.status, body.slice(0, 300)).toBe(200)
    expect(body, 'hostile target escaped').not.toContain(HOSTILE_TARGET)
    expect(body, 'target checkboxes').toMatch(
      /<input type="checkbox" name="targets" value="[0-9a-f]{64}" checked>/,
    )
    expect(body, 'SLO field').toContain('name="sloTtftMs"')
    expect(body, 'script').toContain('<script src="/public/procurement.js" defer></script>')
    expect(body, 'navigation').toContain('<a href="/procurement" aria-current="page">Procurement</a>')
    expect(body, 'no price yet: no bars, says so').toContain(
      'price their serving machines below (endpoints: a serving identity; native engines: their environment)',
    )
    expect(body, 'trade-off scatter (throughput vs memory)').toContain(
      'id="chart-tradeoff-throughput-memory"',
    )
    const priced = await (await app.request(`/procurement?scenario=${BUY_SCENARIO}`)).text()
    expect(priced, 'bars of the objective').toContain('id="chart-objective"')
    expect(priced, 'cost vs goodput scatter').toContain('id="chart-tradeoff-cost-goodput"')
    expect((await app.request('/procurement?rank=nope')).status, 'bad parameter: 400 page').toBe(400)
    const script = await app.request('/public/procurement.js')
    expect([script.status, script.headers.get('content-type')], 'script served').toEqual([
      200,
      'text/javascript; charset=utf-8',
    ])
  })
})
