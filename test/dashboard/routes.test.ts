/**
 * Every page and API route through app.request (no port) against a seeded database, on each backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import type { CompareModel } from '../../dashboard/data/compare.ts'
import type { HistoryModel } from '../../dashboard/data/history.ts'
import type { LeaderboardModel } from '../../dashboard/data/leaderboard.ts'
import type { RunModel } from '../../dashboard/data/run.ts'
import type { RunsModel } from '../../dashboard/data/runs.ts'
import { getJson } from '../helpers/app-json.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import {
  HOSTILE_LABEL,
  HOSTILE_TARGET,
  REQUESTS_PER_RUN,
  type SeededHistory,
  seedDashboardHistory,
} from './fixtures/seed.ts'

const GPU_BOX = 'Test GPU 24GB · Server CPU ×16'

describe.each(dbBackends())('dashboard routes on %s', (backend) => {
  let t: TestDatabase
  let s: SeededHistory
  let app: ReturnType<typeof createApp>
  const errors: unknown[] = []

  beforeAll(async () => {
    t = await createTestDatabase(backend)
    s = await seedDashboardHistory(t.db)
    app = createApp({ db: t.db, auth: {}, logError: (e) => errors.push(e) })
  })
  afterAll(async () => {
    expect(errors, 'no 500s logged').toEqual([])
    await t?.dispose()
  })

  const json = <T>(path: string, status = 200): Promise<T> => getJson<T>(app, path, status)
  const page = async (path: string, status = 200): Promise<string> => {
    const res = await app.request(path)
    const body = await res.text()
    expect(res.status, `${path}: ${body.slice(0, 300)}`).toBe(status)
    expect(res.headers.get('content-type'), `${path}: HTML`).toMatch(/^text\/html/)
    return body
  }
  const fingerprintOf = async (runId: number) =>
    (await json<RunModel>(`/api/runs/${runId}`)).detail.run.fingerprint

  describe('leaderboard', () => {
    it('ranks the latest run of each target, best throughput first, with what each target is', async () => {
      const m = await json<LeaderboardModel>('/api/leaderboard')
      expect(m.scenario, 'default: the most recently run scenario').toBe('chat')
      expect(
        m.scenarios.map((x) => [x.name, x.completedRuns]),
        'scenarios',
      ).toEqual([
        ['chat', 22],
        ['long', 2],
      ])
      expect(m.rows, 'one row per target').toHaveLength(5)
      const throughput = m.rows.map((r) => r.metrics.outputTokensPerS!.value)
      expect(throughput, 'best first').toEqual([...throughput].sort((a, b) => b - a))
      const q4 = m.rows.find((r) => r.targetName === 'tiny-q4')!
      expect(m.view, 'default: branch main, no confirm re-runs').toMatchObject({
        branch: 'main',
        defaultBranch: 'main',
        fellBack: false,
        role: 'run',
      })
      expect(q4.runId, 'latest tiny-q4 run on main, not the newer feature-branch one').toBe(s.slowRun)
      expect(q4.runsInSeries, 'series length on main').toBe(5)
      const any = await json<LeaderboardModel>('/api/leaderboard?branch=*')
      const anyQ4 = any.rows.find((r) => r.targetName === 'tiny-q4')!
      expect([anyQ4.runId, anyQ4.runsInSeries], 'branch=*: the feature run, every branch').toEqual([
        s.featureRun,
        6,
      ])
      expect([q4.model, q4.method, q4.quant, q4.engine, q4.hardware], 'facets').toEqual([
        'tiny Q4_0',
        'quantized',
        'Q4_0',
        'llama-cpp 3.21.1',
        'Test CPU 2.0GHz ×2',
      ])
      expect(m.rows.find((r) => r.targetName === 'remote-a')?.hardware, 'gpu box').toBe(GPU_BOX)
      expect(m.options, 'filter choices').toEqual({
        branch: ['feature', 'main'],
        engine: ['llama-cpp', 'openai'],
        hardware: ['Test CPU 2.0GHz ×2', GPU_BOX],
        method: ['base', 'quantized'],
        quant: ['Q4_0', 'Q8_0'],
      })
      expect(m.present, 'memory and accuracy present').toEqual(
        expect.arrayContaining(['peakRssBytes', 'acc']),
      )
    })

    it('marks the Pareto fronts and recommends', async () => {
      const m = await json<LeaderboardModel>('/api/leaderboard?scenario=chat&branch=*')
      const id = (target: string) => m.rows.find((r) => r.targetName === target)!.runId
      expect(
        m.pareto.map((p) => p.id),
        'plots',
      ).toEqual(['throughput-memory', 'throughput-accuracy'])
      // Seeded means: q4 fastest and smallest, f32 slowest and most accurate, q8 in between on both.
      const [memory, accuracy] = m.pareto
      expect(memory?.runIds, 'memory plot: targets with peakRssBytes').toHaveLength(3)
      expect(memory?.frontRunIds, 'memory front: q4 beats both').toEqual([id('tiny-q4')])
      expect(accuracy?.frontRunIds, 'accuracy front: all three trade off, by throughput').toEqual([
        id('tiny-f32'),
        id('tiny-q8'),
        id('tiny-q4'),
      ])
      expect(m.recommendation.leastMemory, 'least memory').toMatchObject({
        runId: id('tiny-q4'),
        value: 120 * 1024 ** 2,
      })
      expect(m.recommendation.bestAccuracy, 'best accuracy').toMatchObject({
        runId: id('tiny-f32'),
        value: 0.41,
      })
      // remote-a loses 2 of 40 requests (5 % > 1 %): flagged, so never the best.
      expect(
        m.rows.filter((r) => r.flags.length > 0).map((r) => [r.targetName, r.flags]),
        'flagged rows',
      ).toEqual([['remote-a', ['errors-over-threshold']]])
      const clean = m.rows.filter((r) => r.flags.length === 0)
      const fastest = clean.reduce((a, b) =>
        b.metrics.outputTokensPerS!.value > a.metrics.outputTokensPerS!.value ? b : a,
      )
      expect(m.recommendation.bestThroughput?.runId, 'best throughput').toBe(fastest.runId)
      const quickest = clean.reduce((a, b) =>
        b.metrics.ttftMsP95!.value < a.metrics.ttftMsP95!.value ? b : a,
      )
      expect(m.recommendation.lowestLatency, 'lowest latency on ttftMsP95').toMatchObject({
        runId: quickest.runId,
        metric: 'ttftMsP95',
      })
      expect(m.recommendation.paretoSet, 'pareto set of the first plot').toEqual({
        plot: 'throughput-memory',
        labels: ['tiny-q4'],
      })
      // On main, tiny-q4's latest run is the slow one: slower than q8 and less accurate, so off the front.
      const main = await json<LeaderboardModel>('/api/leaderboard?scenario=chat&branch=main')
      const mainId = (target: string) => main.rows.find((r) => r.targetName === target)!.runId
      expect(main.pareto[1]?.frontRunIds, 'main: accuracy front').toEqual([
        mainId('tiny-f32'),
        mainId('tiny-q8'),
      ])
      // In `long` only tiny-q8 has memory and accuracy: no trade-off there, so throughput against latency.
      const long = await json<LeaderboardModel>('/api/leaderboard?scenario=long')
      expect(
        long.pareto.map((p) => p.id),
        'long: latency plot only',
      ).toEqual(['throughput-latency'])
      const lonely = await json<LeaderboardModel>('/api/leaderboard?scenario=chat&quant=Q4_0')
      expect(lonely.pareto, 'one target: no plot').toEqual([])
    })

    it('filters on engine, hardware, method, quant and branch', async () => {
      const targets = async (q: string) =>
        (await json<LeaderboardModel>(`/api/leaderboard?scenario=chat&${q}`)).rows
          .map((r) => r.targetName)
          .sort()
      expect(await targets('engine=llama-cpp'), 'engine').toEqual(['tiny-f32', 'tiny-q4', 'tiny-q8'])
      expect(await targets(`hardware=${encodeURIComponent(GPU_BOX)}`), 'hardware').toEqual(
        [HOSTILE_TARGET, 'remote-a'].sort(),
      )
      expect(await targets('method=base'), 'method').toEqual(['tiny-f32'])
      expect(await targets('quant=Q8_0'), 'quant').toEqual(['tiny-q8'])
      expect(await targets('branch=feature'), 'branch').toEqual(['tiny-q4'])
      expect(await targets('engine=onnx'), 'nothing matches').toEqual([])
      const m = await json<LeaderboardModel>(
        '/api/leaderboard?scenario=chat&engine=llama-cpp&quant=Q4_0&branch=main',
      )
      expect(
        m.rows.map((r) => r.runId),
        'latest on main',
      ).toEqual([s.slowRun])
      expect(m.totalRows, 'rows before dimension filters').toBe(5)
    })

    it('sorts on any column either way, rows without the figure last', async () => {
      const order = async (q: string) =>
        (await json<LeaderboardModel>(`/api/leaderboard?scenario=chat&${q}`)).rows.map((r) => r.targetName)
      expect(await order('sort=peakRssBytes'), 'least memory first by default').toEqual([
        'tiny-q4',
        'tiny-q8',
        'tiny-f32',
        HOSTILE_TARGET,
        'remote-a',
      ])
      expect((await order('sort=peakRssBytes&dir=desc')).slice(0, 3), 'most memory first').toEqual([
        'tiny-f32',
        'tiny-q8',
        'tiny-q4',
      ])
      expect(await order('sort=target'), 'by name').toEqual([
        HOSTILE_TARGET,
        'remote-a',
        'tiny-f32',
        'tiny-q4',
        'tiny-q8',
      ])
      expect((await order('sort=acc')).slice(0, 3), 'accuracy: best first').toEqual([
        'tiny-f32',
        'tiny-q8',
        'tiny-q4',
      ])
      const p95 = (await json<LeaderboardModel>('/api/leaderboard?scenario=chat&sort=ttftMsP95')).rows.map(
        (r) => r.metrics.ttftMsP95!.value,
      )
      expect(p95, 'ttftMsP95 ascending').toEqual([...p95].sort((a, b) => a - b))
    })

    it('renders the page: charts as JSON blocks, sort links, escaped names', async () => {
      const html = await page('/?scenario=chat&sort=ttftMsP95')
      expect(html, 'throughput chart').toContain('data-chart-for="chart-throughput"')
      expect(html, 'pareto chart').toContain('data-chart-for="chart-pareto-throughput-memory"')
      expect(html, 'hostile target escaped').toContain(
        '&lt;script&gt;alert(&quot;target&quot;)&lt;/script&gt;',
      )
      expect(html, 'never raw').not.toContain(HOSTILE_TARGET)
      expect(html, 'active sort toggles to desc').toContain('sort=ttftMsP95&amp;dir=desc')
      expect(html, 'recommendation').toContain('Best throughput')
      const scripts = html.match(/<script[^>]*>/g) ?? []
      for (const tag of scripts)
        expect(tag, 'no inline script: src or JSON data only').toMatch(
          / src="\/public\/|type="application\/json"/,
        )
    })

    it('answers 404 for an unknown scenario and 400 for a bad parameter', async () => {
      const nf = await json<{ error: string; problems: string[] }>('/api/leaderboard?scenario=nope', 404)
      expect(nf.problems, 'what').toEqual(['no completed runs of scenario "nope"'])
      const bad = await json<{ problems: string[] }>('/api/leaderboard?sort=bogus&dir=up', 400)
      expect(
        bad.problems.map((p) => p.split(':')[0]),
        'each parameter named',
      ).toEqual(['sort', 'dir'])
      expect(await page('/?scenario=nope', 404), 'HTML 404').toContain('no completed runs of scenario')
    })
  })

  describe('history', () => {
    it('returns one figure of a series oldest first, filtered by branch, linked to runs', async () => {
      const fp = await fingerprintOf(s.slowRun)
      const all = await json<HistoryModel>(`/api/history?fingerprint=${fp}&metric=ttftMsP95&branch=*`)
      expect(
        all.points.map((p) => p.runId),
        'every run of the series, oldest first',
      ).toEqual([...s.chat['tiny-q4']!.slice(0, 4), s.slowRun, s.featureRun])
      expect(
        all.lines.map((l) => [l.key, l.totalPoints]),
        'one line per branch, main first',
      ).toEqual([
        ['main', 5],
        ['feature', 1],
      ])
      expect(all.points.at(-1)?.line, 'the feature run on its own line').toBe('feature')
      expect([all.unit, all.direction, all.totalPoints, all.downsampled], 'meta').toEqual([
        'ms',
        'lower',
        6,
        false,
      ])
      expect(all.series, 'series').toMatchObject({
        scenarioName: 'chat',
        targetName: 'tiny-q4',
        completedRuns: 6,
      })
      expect(all.series.metrics, 'metric picker').toEqual(
        expect.arrayContaining(['ttftMsP95', 'outputTokensPerS']),
      )
      expect(all.description, 'catalogue description').toMatch(/^95th percentile/)
      const main = await json<HistoryModel>(`/api/history?fingerprint=${fp}&metric=ttftMsP95`)
      expect(main.points.map((p) => p.runId).at(-1), 'default: main only').toBe(s.slowRun)
      expect(
        main.lines.map((l) => l.key),
        'default: one line',
      ).toEqual(['main'])
      const window = await json<HistoryModel>(
        `/api/history?fingerprint=${fp}&since=2026-11-11T00:00:00Z&until=2026-11-13T00:00:00Z`,
      )
      expect(
        window.points.map((p) => p.runId),
        'time window',
      ).toEqual(s.chat['tiny-q4']!.slice(1, 3))
      const html = await page(`/history?fingerprint=${fp}&metric=ttftMsP95&x=commit`)
      expect(html, 'chart').toContain('data-chart-for="chart-history"')
      expect(html, 'points link to runs').toContain(`"href":"/runs/${s.slowRun}"`)
    })

    it('lists series without a fingerprint; 404 for an unknown one, 400 without one on /api', async () => {
      const { series } = await json<{ series: { targetName: string; completedRuns: number }[] }>(
        '/api/series',
      )
      expect(series, 'chat 5 targets + long 2').toHaveLength(7)
      expect(series.find((x) => x.targetName === 'tiny-q4')?.completedRuns, 'tiny-q4 runs').toBe(6)
      expect(await page('/history'), 'chooser').toContain('Choose a series')
      await json(`/api/history?fingerprint=${'f'.repeat(64)}`, 404)
      const bad = await json<{ problems: string[] }>('/api/history?metric=ttftMsP95', 400)
      expect(bad.problems[0], 'names the parameter').toMatch(/^fingerprint: /)
      await json(`/api/history?fingerprint=${'a'.repeat(64)}&points=3`, 400)
    })

    it('has no points (not an error) for a metric the series lacks', async () => {
      const fp = await fingerprintOf(s.slowRun)
      const m = await json<HistoryModel>(`/api/history?fingerprint=${fp}&metric=vramBytes`)
      expect(m.points, 'empty').toEqual([])
      expect(await page(`/history?fingerprint=${fp}&metric=vramBytes`), 'says so').toContain('has <abbr')
    })
  })

  describe('runs', () => {
    it('lists newest first with filters and paging', async () => {
      const all = await json<RunsModel>('/api/runs')
      expect(all.runs, 'all 25').toHaveLength(25)
      expect(all.hasMore, 'one page').toBe(false)
      const first = await json<RunsModel>('/api/runs?limit=10')
      expect([first.runs.length, first.hasMore], 'page 1').toEqual([10, true])
      const third = await json<RunsModel>('/api/runs?limit=10&offset=20')
      expect([third.runs.length, third.hasMore], 'page 3').toEqual([5, false])
      expect(
        (await json<RunsModel>('/api/runs?state=failed')).runs.map((r) => r.id),
        'state',
      ).toEqual([s.failedRun])
      expect(
        (await json<RunsModel>('/api/runs?scenario=long')).runs.map((r) => r.id),
        'scenario',
      ).toEqual([...s.long].reverse())
      expect(
        (await json<RunsModel>('/api/runs?branch=feature')).runs.map((r) => r.id),
        'branch',
      ).toEqual([s.featureRun])
      const since = await json<RunsModel>('/api/runs?since=2026-11-14T00:00:00Z')
      expect(since.runs.map((r) => r.id).sort(), 'since').toEqual(
        [s.slowRun, s.featureRun, s.failedRun].sort(),
      )
      const html = await page('/runs?scenario=long')
      expect(html, 'compare radios').toContain(`name="a" value="${s.long[0]}"`)
    })

    it('refuses bad filters with every problem listed', async () => {
      const bad = await json<{ problems: string[] }>(
        '/api/runs?limit=0&offset=-1&state=done&since=yesterday',
        400,
      )
      expect(bad.problems.map((p) => p.split(':')[0]).sort(), 'all four').toEqual([
        'limit',
        'offset',
        'since',
        'state',
      ])
      await json('/api/runs?limit=1e309', 400)
      await json('/api/runs?limit=0x10', 400)
      await json('/api/runs?target=a%00b', 400)
    })

    it('shows a run: percentiles, CDFs, tokens per second, errors by kind, identity', async () => {
      const id = s.chat['remote-a']![0]!
      const m = await json<RunModel>(`/api/runs/${id}`)
      expect(m.detail.requests, 'request counts').toEqual({
        total: REQUESTS_PER_RUN,
        ok: REQUESTS_PER_RUN - 2,
        errors: 2,
        errorsByKind: { http: 1, timeout: 1 },
        aborted: 0,
      })
      const ttft = m.percentiles.find((p) => p.name === 'ttftMs')!
      expect([ttft.unit, ttft.n], 'ttftMs row').toEqual(['ms', REQUESTS_PER_RUN - 2])
      expect(Object.keys(ttft.stats), 'every stat').toEqual([
        'Mean',
        'Sd',
        'Min',
        'Max',
        'P50',
        'P90',
        'P95',
        'P99',
        'P999',
      ])
      expect(m.ttftCdf[0], 'CDF starts at the minimum, 0').toEqual({ x: ttft.stats.Min, y: 0 })
      expect(m.ttftCdf.at(-1), 'ends at the maximum, 1').toEqual({ x: ttft.stats.Max, y: 1 })
      const requests = await json<{ requests: { state: string; outputTokens: number | null }[] }>(
        `/api/runs/${id}/requests?limit=100`,
      )
      const tokens = requests.requests.reduce(
        (sum, r) => sum + (r.state === 'ok' ? (r.outputTokens ?? 0) : 0),
        0,
      )
      const bucketed = m.outputTokensPerSecond.reduce((sum, b) => sum + b.tokens, 0)
      expect(bucketed, 'every output token in some second').toBeCloseTo(tokens, 6)
      expect(m.dimensions, 'fingerprint dimensions').toMatchObject({
        engine: 'openai vllm-0.9',
        load: 'concurrent 2',
      })
      expect(m.hardware, 'hardware').toBe(GPU_BOX)
      const html = await page(`/runs/${id}`)
      for (const chart of ['chart-ttft-cdf', 'chart-tpot-cdf', 'chart-tokens-per-second', 'chart-errors'])
        expect(html, chart).toContain(`data-chart-for="${chart}"`)
      expect(html, 'scenario as run, escaped').toContain('seeded &lt;b&gt;scenario&lt;/b&gt;')
    })

    it('escapes a hostile label and error text', async () => {
      const html = await page(`/runs/${s.labelledRun}`)
      expect(html, 'label escaped').toContain('&lt;img src=x onerror=alert(1)&gt;')
      expect(html, 'never raw').not.toContain(HOSTILE_LABEL)
      expect(await page(`/runs/${s.failedRun}`), 'error escaped').toContain('engine crashed &lt;oops&gt;')
      const list = await json<RunsModel>('/api/runs')
      expect(list.runs.find((r) => r.id === s.labelledRun)?.label, 'JSON keeps the value').toBe(HOSTILE_LABEL)
      const raw = await (await app.request('/api/runs')).text()
      expect(raw, 'JSON escapes markup characters').not.toContain('<img')
    })

    it('pages requests and answers 404 / 400', async () => {
      const id = s.chat['remote-a']![0]!
      const pageOf = await json<{ requests: { seq: number; chunkGapsMs: number[] | null }[] }>(
        `/api/runs/${id}/requests?limit=5&offset=2`,
      )
      expect(
        pageOf.requests.map((r) => r.seq),
        'seq 2…6',
      ).toEqual([2, 3, 4, 5, 6])
      expect(pageOf.requests[0]?.chunkGapsMs, 'no gaps unless asked').toBeNull()
      const withGaps = await json<{ requests: { chunkGapsMs: number[] | null; outputTokens: number }[] }>(
        `/api/runs/${id}/requests?limit=1&chunkGaps=true&state=ok`,
      )
      expect(withGaps.requests[0]?.chunkGapsMs?.length, 'one gap per chunk after the first').toBe(
        withGaps.requests[0]!.outputTokens - 1,
      )
      const failed = await json<{ requests: { state: string }[] }>(`/api/runs/${id}/requests?state=error`)
      expect(
        failed.requests.map((r) => r.state),
        'errors only',
      ).toEqual(['error', 'error'])
      await json('/api/runs/999999/requests', 404)
      await json('/api/runs/999999', 404)
      await json('/api/runs/abc', 400)
      await json('/api/runs/0', 400)
      await json(`/api/runs/${2 ** 31}`, 400)
      expect(await page('/runs/999999', 404), 'HTML 404').toContain('no run with id 999999')
      await page('/runs/1.5', 400)
    })
  })

  describe('compare', () => {
    it('tests latency figures on per-request samples and colours only significant changes', async () => {
      const base = s.chat['tiny-q4']![0]!
      const m = await json<CompareModel>(`/api/compare?a=${base}&b=${s.slowRun}`)
      expect(m.comparable, 'same fingerprint').toBe(true)
      const by = (name: string) => m.metrics.find((x) => x.name === name)!
      // The slow run's TTFT was drawn 2.5× larger: clearly worse.
      expect(by('ttftMsP50').significance, 'ttft tested').toMatchObject({
        state: 'tested',
        sample: 'ttftMs',
        baseN: REQUESTS_PER_RUN,
        candidateN: REQUESTS_PER_RUN,
        shift: 'higher',
        significant: true,
      })
      expect(by('ttftMsP50').verdict, 'ttft worse').toBe('worse')
      // TPOT was drawn from the same distribution.
      expect(by('tpotMsP50').significance, 'tpot tested').toMatchObject({
        state: 'tested',
        significant: false,
      })
      expect(by('tpotMsP50').verdict, 'tpot not coloured').toBe('neutral')
      expect(by('outputTokensPerS').significance.state, 'run-level scalar').toBe('not-tested')
      expect(by('outputTokensPerS').verdict, 'never coloured').toBe('neutral')
      expect(by('ttftMsMax').significance.state, 'max is not a location').toBe('not-tested')
      expect(m.cdf.ttftMs.base.at(-1)?.y, 'cdf').toBe(1)
      const html = await page(`/compare?a=${base}&b=${s.slowRun}`)
      expect(html, 'ttft row coloured worse').toMatch(/data-metric="ttftMsP50" data-verdict="worse"/)
      expect(html, 'scalar says not tested').toContain('not tested')
      expect(html, 'overlaid CDFs').toContain('data-chart-for="chart-ttftMs-cdf"')
    })

    it('says when two runs are not comparable', async () => {
      const m = await json<CompareModel>(
        `/api/compare?a=${s.chat['tiny-q4']![0]}&b=${s.chat['remote-a']![0]}`,
      )
      expect(m.comparable, 'different fingerprints').toBe(false)
      expect(m.differsBy.base.join(' '), 'what differs').toContain('engine: llama-cpp 3.21.1')
      expect(
        await page(`/compare?a=${s.chat['tiny-q4']![0]}&b=${s.chat['remote-a']![0]}`),
        'warning',
      ).toContain('Different fingerprints')
    })

    it('shows a picker without both runs, 400 for bad ids, 404 for unknown ones', async () => {
      expect(await page('/compare'), 'picker').toContain('Pick two runs')
      expect(await page('/compare?a=3'), 'half picked').toContain('value="3"')
      await page('/compare?a=x&b=1', 400)
      await json('/api/compare?a=1', 400)
      await json(`/api/compare?a=1&b=999999`, 404)
    })
  })

  describe('static files and headers', () => {
    it('serves Chart.js from node_modules, the glue script, CSS and a favicon', async () => {
      const chart = await app.request('/public/chart.umd.min.js')
      const js = await chart.text()
      expect(chart.status, 'chart.js').toBe(200)
      expect(js, 'UMD build').toContain('Chart')
      expect(js, 'no source map reference').not.toContain('sourceMappingURL')
      const etag = chart.headers.get('etag')!
      expect(
        (await app.request('/public/chart.umd.min.js', { headers: { 'if-none-match': etag } })).status,
        '304',
      ).toBe(304)
      expect((await app.request('/public/charts.js')).headers.get('content-type'), 'glue').toMatch(
        /javascript/,
      )
      expect((await app.request('/public/style.css')).status, 'css').toBe(200)
      expect((await app.request('/favicon.ico')).headers.get('content-type'), 'favicon').toBe('image/svg+xml')
      expect((await app.request('/public/../app.ts')).status, 'no file system access').toBe(404)
    })

    it('sends security headers on pages, API answers and errors', async () => {
      for (const path of ['/', '/api/runs', '/nope', '/api/runs/abc']) {
        const res = await app.request(path)
        const csp = res.headers.get('content-security-policy') ?? ''
        expect(csp, `${path}: CSP`).toContain("script-src 'self'")
        expect(csp, `${path}: no inline`).not.toContain('unsafe-inline')
        expect(res.headers.get('x-content-type-options'), `${path}: nosniff`).toBe('nosniff')
        expect(res.headers.get('x-frame-options'), `${path}: frames`).toBe('DENY')
      }
      expect((await app.request('/', { method: 'HEAD' })).status, 'HEAD').toBe(200)
    })
  })
})
