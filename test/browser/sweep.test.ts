/**
 * The sweep pages in a real browser (Debian's Chromium via playwright-core, the real server on 127.0.0.1,
 * port 0, over PGlite holding a sweep of known figures written as `bench sweep` writes one,
 * test/dashboard/fixtures/sweep-seed.ts seedStoredSweep — knee 8/s, 16/s over the TPOT bound, 12/s stopped early):
 * no console error; every panel inked; in each chart as Chart.js holds it (Chart.getChart) the knee is a
 * vertical line at the stored knee, placed at that rate's pixel, and each SLO bound a horizontal line at
 * its value on its metric's panel; a failed step's tooltip (charts.js) gives its reason; every step is a
 * row of the table linking to its run, whose page links back; the list escapes a hostile label.
 * Screenshot: test-results/sweep.png.
 */
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSweep, type SweepModel } from '../../dashboard/data/sweeps.ts'
import { type RunningDashboard, startDashboard } from '../../dashboard/server.ts'
import { SEED_SLO, seedStoredSweep } from '../dashboard/fixtures/sweep-seed.ts'
import {
  type Browser,
  canvasInk,
  hasChromium,
  inChromium,
  launchBrowser,
  SCREENSHOTS,
} from '../helpers/browser.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

const LABEL = '<img src=x onerror=alert(1)>'

interface ChartLines {
  id: string
  knee: { xs: number[]; pixelXs: number[]; expectedPixel: number; label: string } | null
  slo: { name: string; ys: number[]; pixelYs: number[]; expectedPixel: number; hidden: boolean }[]
  /** Texts charts.js wrote beside points (benchTag). */
  tags: string[]
}

describe.skipIf(!hasChromium)(inChromium('sweep pages'), () => {
  let t: TestDatabase
  let sweepId: number
  let model: SweepModel
  let server: RunningDashboard
  let browser: Browser

  beforeAll(async () => {
    t = await createTestDatabase('pglite')
    ;[sweepId, browser] = await Promise.all([seedStoredSweep(t.db, LABEL), launchBrowser()])
    model = await loadSweep(t.db, sweepId)
    server = await startDashboard({ db: t.db, auth: {}, port: 0 })
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await t?.dispose()
  })

  const visit = (route: string) => browser.visit(new URL(route, server.url))

  it('draws the knee and the SLO bounds, marks failed steps with their reason, and lists every step', async () => {
    const { page, problems } = await visit(`/sweeps/${sweepId}`)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'sweep.png'), fullPage: true })
    expect(problems, 'console and network').toEqual([])
    const ink = await canvasInk(page)
    expect(ink.map((c) => c.id)).toEqual([
      'chart-sweep-throughput',
      'chart-sweep-ttftMs',
      'chart-sweep-tpotMs',
      'chart-sweep-e2eMs',
    ])
    for (const c of ink) expect(c.inked, `pixels drawn on ${c.id}`).toBeGreaterThan(500)

    const lines = (await page.evaluate(`[...document.querySelectorAll('canvas')].map((canvas) => {
      const chart = window.Chart.getChart(canvas)
      const meta = (i) => chart.getDatasetMeta(i)
      const k = chart.data.datasets.findIndex((d) => d.benchKnee !== undefined)
      const knee = k < 0 ? null : {
        xs: chart.data.datasets[k].data.map((p) => p.x),
        pixelXs: meta(k).data.map((e) => Math.round(e.x)),
        expectedPixel: Math.round(chart.scales.x.getPixelForValue(chart.data.datasets[k].benchKnee)),
        label: chart.legend.legendItems[k].text,
      }
      const slo = chart.data.datasets.flatMap((d, i) => d.benchSlo === undefined ? [] : [{
        name: d.benchSlo,
        ys: d.data.map((p) => p.y),
        pixelYs: meta(i).data.map((e) => Math.round(e.y)),
        expectedPixel: Math.round(chart.scales.y.getPixelForValue(d.data[0].y)),
        hidden: meta(i).hidden === true || !chart.isDatasetVisible(i),
      }])
      return { id: canvas.id, knee, slo, tags: (chart.$benchTags ?? []).map((t) => t.text) }
    })`)) as ChartLines[]
    const knee = model.sweep.kneeRatePerS
    expect(knee, 'the stored knee').toBe(8)
    for (const chart of lines) {
      expect(chart.knee?.xs, `${chart.id}: the knee line at the stored knee`).toEqual([knee, knee])
      expect(chart.knee?.pixelXs, `${chart.id}: drawn vertical, at the knee's pixel`).toEqual([
        chart.knee!.expectedPixel,
        chart.knee!.expectedPixel,
      ])
      expect(chart.knee?.label, `${chart.id}: labelled with its value`).toBe(`knee ${knee} requests/s`)
      expect(chart.tags, `${chart.id}: the knee's rate written beside the line`).toEqual([`knee ${knee}/s`])
    }
    const bounds = lines.flatMap((c) => c.slo.map((s) => ({ id: c.id, ...s })))
    expect(
      bounds.map((b) => [b.id, b.name, b.ys]),
      'each SLO bound on its panel, horizontal at its value',
    ).toEqual(SEED_SLO.map((s) => [`chart-sweep-${s.metric}`, s.name, [s.maxMs, s.maxMs]]))
    for (const b of bounds) {
      expect(b.hidden, `${b.name} shown`).toBe(false)
      expect(b.pixelYs, `${b.name} drawn at its value's pixel`).toEqual([b.expectedPixel, b.expectedPixel])
    }

    expect(
      model.steps.map((s) => [s.ratePerS, s.verdict, s.reason]),
      'verdicts and reasons, hand-computed',
    ).toEqual([
      [4, 'pass', null],
      [8, 'pass', null],
      [16, 'fail', 'tpotMsP95 30.0 ms > 25 ms'],
      [12, 'fail', 'stopped early: over-saturated (TTFT rising: median 800 ms)'],
    ])
    // The tooltip charts.js builds for the first failed step's cross on the TPOT panel: its reason.
    const failed = model.steps[3]!
    const title = await page.evaluate(`(() => {
      const chart = window.Chart.getChart('chart-sweep-tpotMs')
      const d = chart.data.datasets.findIndex((x) => x.label === 'failed / stopped step')
      const i = chart.data.datasets[d].data.findIndex((p) => p.href === '/runs/${failed.runId}')
      const el = chart.getDatasetMeta(d).data[i]
      chart.tooltip.setActiveElements([{ datasetIndex: d, index: i }], { x: el.x, y: el.y })
      chart.update()
      return chart.tooltip.title
    })()`)
    expect(title, 'tooltip title').toEqual([
      `step ${failed.step + 1} · ${failed.ratePerS} requests/s · FAIL: ${failed.reason}`,
    ])

    const rows = await page.$$eval('#sweep-steps tbody tr', (trs) =>
      trs.map((tr) => ({
        step: tr.getAttribute('data-step'),
        verdict: tr.getAttribute('data-verdict'),
        href: tr.querySelector('td:last-child a')?.getAttribute('href'),
      })),
    )
    expect(rows, 'every step, in order, linking to its run').toEqual(
      model.steps.map((s) => ({ step: String(s.step), verdict: s.verdict, href: `/runs/${s.runId}` })),
    )
    // Through to a step's run page, which links back to its sweep.
    await page.click(`#sweep-steps a[href="/runs/${failed.runId}"]`)
    await page.waitForURL(new RegExp(`/runs/${failed.runId}$`))
    expect(await page.textContent('a.sweep-tag'), 'run page tag').toBe(
      `sweep ${sweepId} step ${failed.step + 1}`,
    )
    expect(problems, 'console and network after the click').toEqual([])
    await page.close()
  })

  it('lists the sweep with its label as text', async () => {
    const { page, problems } = await visit('/sweeps')
    expect(problems, 'console and network').toEqual([])
    const row = page.locator(`#sweeps tr[data-sweep-id="${sweepId}"]`)
    expect(await row.locator('td').last().textContent(), 'the label, as text').toBe(LABEL)
    expect(await page.locator('#sweeps img').count(), 'no element from the label').toBe(0)
    expect(await row.locator('td').nth(5).textContent(), 'knee').toBe(String(model.sweep.kneeRatePerS))
    expect(await row.locator('td').nth(7).textContent(), 'steps').toBe(String(model.steps.length))
    await page.close()
  })
})
