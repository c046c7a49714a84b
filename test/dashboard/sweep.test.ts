/**
 * The sweep pages on PGlite, over a sweep made as `bench sweep` makes it (fixtures/sweep-seed.ts: the
 * runner and the real sink against the capacity mock, the CLI's sweeps writers) beside an ordinary run:
 * the model reads every stored step in order with its offered rate and figures, and judges each step as
 * `bench sweep` did (same verdicts, same reasons); the list shows the sweep with its SLO, knee, state and
 * step count; the charts draw the knee at the stored knee and every SLO bound; step runs carry "sweep N
 * step k" on the runs list and their run page, ordinary runs do not; a hostile label is escaped.
 */
import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { latencyMetrics, type SweepChartStep, sweepPanels } from '../../dashboard/charts/sweep.ts'
import { loadSweep, loadSweeps, type SweepModel } from '../../dashboard/data/sweeps.ts'
import { runs } from '../../db/schema.ts'
import { okOutcome, recordRun } from '../db/fixtures/data.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { SEED_SLO, type SeededSweep, seedStoredSweep, seedSweep } from './fixtures/sweep-seed.ts'

const LABEL = '<img src=x onerror=alert(1)>'

describe('sweep pages on pglite', () => {
  let t: TestDatabase
  let seeded: SeededSweep
  let ordinaryRunId: number
  let killedId: number
  let app: ReturnType<typeof createApp>
  let model: SweepModel
  const errors: unknown[] = []

  beforeAll(async () => {
    t = await createTestDatabase('pglite')
    ordinaryRunId = await recordRun(t.db, [okOutcome(0), okOutcome(1)])
    seeded = await seedSweep(t.db, LABEL)
    // Started after the real one: listed first.
    killedId = await seedStoredSweep(t.db, 'killed', { killed: true })
    app = createApp({ db: t.db, auth: {}, logError: (e) => errors.push(e) })
    model = await loadSweep(t.db, seeded.sweepId)
  }, 60_000)
  afterAll(async () => {
    expect(errors, 'no 500s logged').toEqual([])
    await t?.dispose()
  })

  const page = async (path: string, status = 200) => {
    const res = await app.request(path)
    const body = await res.text()
    expect(res.status, `${path}: ${body.slice(0, 300)}`).toBe(status)
    return body
  }

  it('reads every stored step in order, with its rate, and judges it as bench sweep did', async () => {
    const stored = await t.db
      .select({ id: runs.id, step: runs.sweepStep })
      .from(runs)
      .where(eq(runs.sweepId, seeded.sweepId))
      .orderBy(asc(runs.sweepStep))
    const { result } = seeded
    expect(stored.length, 'a run per step').toBe(result.steps.length)
    expect(
      model.steps.map((s) => [s.runId, s.step, s.ratePerS]),
      'steps: run, index, offered rate',
    ).toEqual(result.steps.map((s) => [Number(s.runId), s.index, s.ratePerS]))
    expect(
      model.steps.map((s) => [s.verdict, s.reason]),
      "the dashboard's verdicts and reasons are bench sweep's",
    ).toEqual(result.steps.map((s) => [s.pass ? 'pass' : 'fail', s.reason ?? null]))
    expect(
      model.steps.map((s) => [s.figures.requestsPerS, s.figures.ttftMsP95, s.figures.tpotMsP95]),
      'figures as the sweep measured them',
    ).toEqual(result.steps.map((s) => [s.achievedRps ?? null, s.ttftMsP95 ?? null, s.tpotMsP95 ?? null]))
    expect(
      model.steps.some((s) => s.verdict === 'fail'),
      'at least one step failed',
    ).toBe(true)
    expect(
      [model.sweep.kneeRatePerS, model.sweep.state, model.sweep.end],
      'knee, state and end as stored',
    ).toEqual([result.knee ?? null, 'completed', result.end])
    expect(model.slo, 'the SLO').toEqual(SEED_SLO)
  })

  it('lists the sweep with model, endpoint, SLO, knee, state and step count', async () => {
    const list = await loadSweeps(t.db, { limit: 50, offset: 0 })
    expect(
      list.sweeps.map((s) => [s.id, s.model, s.baseUrl, s.kneeRatePerS, s.state, s.orphaned, s.steps]),
    ).toEqual([
      [killedId, 'mock-model', 'http://127.0.0.1:8000/v1', null, 'running', true, 4],
      [
        seeded.sweepId,
        'mock-model',
        seeded.baseUrl,
        seeded.result.knee ?? null,
        'completed',
        false,
        seeded.result.steps.length,
      ],
    ])
    const html = await page('/sweeps')
    expect(html).toContain(`href="/sweeps/${seeded.sweepId}"`)
    expect(html, 'the SLO').toContain('ttftMsP95 ≤ 500 ms, tpotMsP95 ≤ 25 ms, e2eMsP99 ≤ 5000 ms')
    expect(html, 'label escaped').toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(html, 'no raw label').not.toContain(LABEL)
    const killedRow = html.slice(html.indexOf(`data-sweep-id="${killedId}"`)).split('</tr>')[0]
    expect(killedRow, 'the dead sweep reads interrupted').toContain('state-interrupted')
  })

  it('says a sweep whose process died is over, not running (its last step interrupted, no end stored)', async () => {
    const killed = await loadSweep(t.db, killedId)
    expect(
      [killed.orphaned, killed.sweep.state, killed.steps.at(-1)?.verdict, killed.steps.at(-1)?.reason],
      'orphaned; the last step failed with its run error',
    ).toEqual([true, 'running', 'fail', 'the process writing the run ended'])
    expect(model.orphaned, 'the finished sweep is not').toBe(false)
    const html = await page(`/sweeps/${killedId}`)
    expect(html).toContain("The sweep's process ended during step 4 without recording how the search ended")
    expect(html).not.toContain('still running')
  })

  it('draws the knee at the stored knee and every SLO bound on its metric panel', () => {
    const panels = sweepPanels({
      steps: model.steps.map(
        (s): SweepChartStep => ({
          runId: s.runId,
          step: s.step,
          ratePerS: s.ratePerS!,
          pass: s.verdict === 'pass',
          reason: s.reason,
          figures: s.figures,
        }),
      ),
      slo: model.slo,
      kneeRatePerS: model.sweep.kneeRatePerS,
    })
    expect(
      panels.map((p) => p.key),
      'throughput, TTFT, TPOT, then E2E (bounded)',
    ).toEqual(['throughput', ...latencyMetrics(SEED_SLO)])
    expect(latencyMetrics(SEED_SLO)).toEqual(['ttftMs', 'tpotMs', 'e2eMs'])
    const knee = model.sweep.kneeRatePerS!
    for (const p of panels) {
      const line = p.config.data.datasets.find((d) => d.benchKnee !== undefined)
      expect(
        line?.data.map((pt) => (pt as { x: number }).x),
        `${p.key}: a vertical line at the knee`,
      ).toEqual([knee, knee])
      expect(line?.label, `${p.key}: labelled with its value`).toBe(`knee ${knee} requests/s`)
    }
    for (const bound of SEED_SLO) {
      const panel = panels.find((p) => p.key === bound.metric)!
      const line = panel.config.data.datasets.find((d) => d.benchSlo === bound.name)
      expect(
        line?.data.map((pt) => (pt as { y: number }).y),
        `${bound.name}: horizontal at its bound`,
      ).toEqual([bound.maxMs, bound.maxMs])
    }
    const failed = model.steps.filter((s) => s.verdict === 'fail')
    const crosses = panels[0]!.config.data.datasets.find((d) => d.label === 'failed / stopped step')
    expect(
      crosses?.data.map((pt) => (pt as { label: string }).label),
      'each failed step marked, its reason in the tooltip',
    ).toEqual(
      [...failed]
        .sort((a, b) => a.ratePerS! - b.ratePerS!)
        .map((s) => `step ${s.step + 1} · ${s.ratePerS} requests/s · FAIL: ${s.reason}`),
    )
  })

  it('renders the sweep page (every step in the table with its run link, verdict and reason) and its JSON', async () => {
    const html = await page(`/sweeps/${seeded.sweepId}`)
    for (const s of model.steps) {
      expect(html, `step ${s.step}`).toContain(`data-step="${s.step}" data-verdict="${s.verdict}"`)
      expect(html, `run link of step ${s.step}`).toContain(`<a href="/runs/${s.runId}">run ${s.runId}</a>`)
    }
    for (const key of ['throughput', 'ttftMs', 'tpotMs', 'e2eMs'])
      expect(html, `chart ${key}`).toContain(`data-chart-for="chart-sweep-${key}"`)
    expect(html, 'label escaped').not.toContain(LABEL)
    await page('/sweeps/999999', 404)
    await page('/sweeps/abc', 400)
    // The JSON twins return the same models (dates as ISO text).
    const api = (await (await app.request(`/api/sweeps/${seeded.sweepId}`)).json()) as SweepModel
    expect(api, '/api/sweeps/:id').toEqual(JSON.parse(JSON.stringify(model)))
    type Listed = { sweeps: { id: number }[]; hasMore: boolean }
    const pageOf = async (q: string) => {
      const l = (await (await app.request(`/api/sweeps?${q}`)).json()) as Listed
      return [l.sweeps.map((x) => x.id), l.hasMore]
    }
    expect(await pageOf('limit=1'), '/api/sweeps, newest first').toEqual([[killedId], true])
    expect(await pageOf('limit=1&offset=1'), 'its next page').toEqual([[seeded.sweepId], false])
    expect((await app.request('/api/sweeps/0')).status, 'id 0').toBe(400)
  })

  it('tags step runs "sweep N step k" on the runs list and the run page; ordinary runs not', async () => {
    const list = await page('/runs')
    const tag = (step: number) =>
      `<a class="tag sweep-tag" href="/sweeps/${seeded.sweepId}" title="a step of bench sweep ${seeded.sweepId}">sweep ${seeded.sweepId} step ${step + 1}</a>`
    for (const s of model.steps) expect(list, `runs list: step ${s.step}`).toContain(tag(s.step))
    const first = model.steps[0]!
    expect(await page(`/runs/${first.runId}`), 'run page').toContain(tag(first.step))
    expect(await page(`/runs/${ordinaryRunId}`), 'an ordinary run').not.toContain('sweep-tag')
  })
})
