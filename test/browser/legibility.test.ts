/**
 * Charts legible at quickstart size and at 60 targets (issue 17 item 3), measured in Chromium from the
 * text the page drew, not from pixels: on the leaderboard's throughput bars every row has its tick label
 * (none skipped), each label measured with the tick font lies inside the canvas (none clipped from the
 * left) and below the previous one; the axis titles fit; the Pareto legend lists variant families (a few
 * entries that all fit, never one per target), the front's targets are labelled inside the plot and the
 * rest name themselves on hover. The variant × engine page: every row label shows whole. Quickstart size is
 * the honest seed (26 targets, test/dashboard/fixtures/honest-seed.ts); 60 targets the variant matrix with
 * 50 long-named endpoints (variant-seed.ts). Screenshots: test-results/legible-*.png.
 */
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningDashboard, startDashboard } from '../../dashboard/server.ts'
import { CLEAN_TARGETS, SCENARIO, seedHonestDefaults } from '../dashboard/fixtures/honest-seed.ts'
import { endpointName, MATRIX, seedVariants } from '../dashboard/fixtures/variant-seed.ts'
import { type Browser, hasChromium, inChromium, launchBrowser, SCREENSHOTS } from '../helpers/browser.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

const ENDPOINTS = 50

interface BarMeasure {
  canvasWidth: number
  canvasHeight: number
  labels: string[]
  items: { label: string; left: number; right: number; top: number; bottom: number }[]
  xTitle: { width: number; limit: number }
  hidden: boolean
}

/** The throughput bar chart's tick labels as drawn: each measured with its own font. */
function measureBars(page: Page, id: string): Promise<BarMeasure> {
  return page.evaluate(`(() => {
    const chart = window.Chart.getChart(${JSON.stringify(id)})
    const ctx = chart.ctx
    const y = chart.scales.y
    const items = y.getLabelItems().map((item) => {
      ctx.save()
      ctx.font = item.font.string
      const width = ctx.measureText(String(item.label)).width
      ctx.restore()
      const [x, ty] = item.options.translation
      const left = item.options.textAlign === 'right' ? x - width : item.options.textAlign === 'center' ? x - width / 2 : x
      const h = item.font.lineHeight
      return { label: String(item.label), left, right: left + width, top: ty - h / 2, bottom: ty + h / 2 }
    })
    const title = chart.options.scales.x.title
    ctx.save()
    ctx.font = window.Chart.helpers ? window.Chart.helpers.toFont(title.font).string : '12px sans-serif'
    const lines = Array.isArray(title.text) ? title.text : [title.text]
    const xTitle = { width: Math.max(...lines.map((l) => ctx.measureText(l).width)), limit: chart.width }
    ctx.restore()
    return {
      canvasWidth: chart.width,
      canvasHeight: chart.height,
      labels: chart.data.labels,
      items,
      xTitle,
      hidden: !y.options.display,
    }
  })()`)
}

interface ParetoMeasure {
  width: number
  height: number
  legend: {
    display: boolean
    items: string[]
    boxes: { left: number; top: number; width: number; height: number }[]
  }
  titles: { axis: string; widest: number; limit: number }[]
  front: string[]
  tags: { text: string; left: number; right: number; top: number; bottom: number; measured: number }[]
  area: { left: number; right: number; top: number; bottom: number }
  points: number
}

function measurePareto(page: Page, id: string): Promise<ParetoMeasure> {
  return page.evaluate(`(() => {
    const chart = window.Chart.getChart(${JSON.stringify(id)})
    const ctx = chart.ctx
    const font = (f) => window.Chart.helpers.toFont(f).string
    const titles = ['x', 'y'].map((axis) => {
      const scale = chart.scales[axis]
      const title = scale.options.title
      ctx.save()
      ctx.font = font(title.font)
      const lines = Array.isArray(title.text) ? title.text : [title.text]
      const widest = Math.max(...lines.map((l) => ctx.measureText(l).width))
      ctx.restore()
      // The y title is drawn rotated along the scale: its length must fit the canvas height.
      return { axis, widest, limit: axis === 'x' ? chart.width : chart.height }
    })
    const tags = (chart.$benchTags ?? []).map((t) => {
      ctx.save()
      ctx.font = t.font
      const measured = ctx.measureText(t.text).width
      ctx.restore()
      return { text: t.text, left: t.left, right: t.right, top: t.top, bottom: t.bottom, measured }
    })
    return {
      width: chart.width,
      height: chart.height,
      legend: {
        display: chart.options.plugins.legend.display !== false,
        items: chart.legend.legendItems.map((i) => i.text),
        boxes: chart.legend.legendHitBoxes.map((b) => ({ left: b.left, top: b.top, width: b.width, height: b.height })),
      },
      titles,
      front: chart.data.datasets[0].data.map((p) => p.label),
      tags,
      area: { ...chart.chartArea },
      points: chart.data.datasets.reduce((n, d) => n + d.data.length, 0),
    }
  })()`)
}

/** `short` is `full`, or `full` shortened in the middle (charts.js fitText): both ends kept around a …. */
function abbreviates(short: string, full: string): boolean {
  if (short === full) return true
  const cut = short.indexOf('…')
  if (cut < 0) return false
  const head = short.slice(0, cut)
  const tail = short.slice(cut + 1)
  return head.length + tail.length < full.length && full.startsWith(head) && full.endsWith(tail)
}

function expectBarsLegible(m: BarMeasure, rows: number, what: string) {
  expect(m.labels, `${what}: one bar per row`).toHaveLength(rows)
  expect(m.items, `${what}: every bar has its label (none skipped)`).toHaveLength(rows)
  m.items.forEach((item, i) => {
    expect(item.left, `${what}: label ${i} "${item.label}" not clipped on the left`).toBeGreaterThanOrEqual(0)
    expect(item.right, `${what}: label ${i} inside the canvas`).toBeLessThanOrEqual(m.canvasWidth)
    expect(item.bottom, `${what}: label ${i} inside the canvas`).toBeLessThanOrEqual(m.canvasHeight)
    if (i > 0)
      expect(item.top, `${what}: label ${i} below label ${i - 1}`).toBeGreaterThanOrEqual(
        m.items[i - 1]!.bottom - 0.5,
      )
    // Shortened in the middle, or whole: the ends of the full name stay.
    const full = m.labels[i]!
    if (item.label !== full) {
      const [head, tail] = item.label.split('…')
      expect(
        full.startsWith(head!) && full.endsWith(tail!),
        `${what}: "${item.label}" abbreviates "${full}"`,
      ).toBe(true)
    }
  })
  expect(m.xTitle.width, `${what}: x title fits`).toBeLessThanOrEqual(m.xTitle.limit)
}

function expectParetoLegible(m: ParetoMeasure, what: string, families: string[]) {
  expect(m.legend.display, `${what}: legend shown`).toBe(true)
  expect(m.legend.items, `${what}: legend = front line, families, flagged`).toEqual(families)
  for (const b of m.legend.boxes) {
    expect(b.left, `${what}: legend entry inside`).toBeGreaterThanOrEqual(0)
    expect(b.left + b.width, `${what}: legend entry inside`).toBeLessThanOrEqual(m.width)
    expect(b.top + b.height, `${what}: legend entry inside`).toBeLessThanOrEqual(m.height)
  }
  for (const t of m.titles)
    expect(t.widest, `${what}: ${t.axis} axis title fits`).toBeLessThanOrEqual(t.limit)
  expect(m.front.length, `${what}: a front`).toBeGreaterThan(0)
  expect(m.tags, `${what}: one tag per front target`).toHaveLength(m.front.length)
  for (const label of m.front)
    expect(
      m.tags.some((t) => abbreviates(t.text, label)),
      `${what}: front target "${label}" labelled on the plot (${m.tags.map((t) => t.text).join(', ')})`,
    ).toBe(true)
  for (const t of m.tags) {
    expect(t.right - t.left, `${what}: tag "${t.text}" box holds its text`).toBeGreaterThanOrEqual(
      t.measured - 0.5,
    )
    expect(t.left, `${what}: tag inside the plot`).toBeGreaterThanOrEqual(m.area.left - 0.5)
    expect(t.right, `${what}: tag inside the plot`).toBeLessThanOrEqual(m.area.right + 0.5)
    expect(t.top, `${what}: tag inside the plot`).toBeGreaterThanOrEqual(m.area.top - 0.5)
    expect(t.bottom, `${what}: tag inside the plot`).toBeLessThanOrEqual(m.area.bottom + 0.5)
  }
}

/** Row header cells whose text is cut (wider than the cell shows). */
function clippedRowLabels(page: Page, selector: string): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})]
    .filter((el) => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().width === 0)
    .map((el) => el.textContent)`)
}

/** How far the page is wider than the window (px); tables scroll inside their own box. */
function pageOverflow(page: Page): Promise<number> {
  return page.evaluate('Math.max(0, document.documentElement.scrollWidth - window.innerWidth)')
}

describe.skipIf(!hasChromium)(inChromium('charts legible at quickstart size and at 60 targets'), () => {
  let t: TestDatabase
  let server: RunningDashboard
  let browser: Browser

  beforeAll(async () => {
    delete process.env.BENCH_DEFAULT_BRANCH
    t = await createTestDatabase('pglite')
    await seedHonestDefaults(t.db)
    await seedVariants(t.db, { endpoints: ENDPOINTS })
    server = await startDashboard({ db: t.db, auth: {}, port: 0 })
    browser = await launchBrowser()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await t?.dispose()
  })

  const visit = (route: string) => browser.visit(new URL(route, server.url))

  it('quickstart size (26 targets): every bar labelled, none clipped; Pareto legend of families, front labelled', async () => {
    const { page, problems } = await visit(`/?scenario=${SCENARIO}`)
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'legible-quickstart-leaderboard.png'),
      fullPage: true,
    })
    expect(problems, 'console and network').toEqual([])
    expectBarsLegible(await measureBars(page, 'chart-throughput'), CLEAN_TARGETS + 2, 'quickstart bars')
    await page
      .locator('figure', { has: page.locator('#chart-pareto-throughput-latency') })
      .screenshot({ path: path.join(SCREENSHOTS, 'legible-quickstart-pareto.png') })
    const pareto = await measurePareto(page, 'chart-pareto-throughput-latency')
    // Every target serves mock-model (no variant): one family; the two flagged rows as crosses.
    expectParetoLegible(pareto, 'quickstart Pareto', ['Pareto front', 'mock-model', 'flagged (not a best)'])
    expect(pareto.points, 'every target a point').toBe(CLEAN_TARGETS + 2)
    expect(
      await page.$$eval('.family-key .family', (els) => els.map((e) => e.textContent?.trim())),
      'colour key in the page',
    ).toEqual(['mock-model'])
    await page.close()

    // The variant × engine table at the same size: 26 endpoint targets serving one model id, a row each,
    // the two flagged ones marked.
    const variants = await visit(`/variants?scenario=${SCENARIO}`)
    await variants.page.screenshot({
      path: path.join(SCREENSHOTS, 'legible-quickstart-variants.png'),
      fullPage: true,
    })
    expect(variants.problems, 'console and network').toEqual([])
    expect(await variants.page.$$eval('#variants tbody tr', (trs) => trs.length)).toBe(CLEAN_TARGETS + 2)
    expect(
      await variants.page.$$eval('#variants tbody tr.flagged', (trs) =>
        trs.map((tr) => tr.getAttribute('data-flags')),
      ),
      'flagged rows marked',
    ).toEqual(['client-saturated', 'errors-over-threshold'])
    expect(await clippedRowLabels(variants.page, '#variants tbody th[scope="row"]')).toEqual([])
    expect(await pageOverflow(variants.page)).toBe(0)
    await variants.page.close()
  })

  it('60 targets: every bar labelled, none clipped, long names abbreviated with the full name kept', async () => {
    // Every load step (load=*): 9 targets × 2 steps + 50 endpoints with a throughput (accuracy and quality
    // rows have none); the default, one step, is 9 + 50.
    const { page, problems } = await visit(`/?scenario=${MATRIX}&load=*`)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'legible-60-leaderboard.png'), fullPage: true })
    expect(problems, 'console and network').toEqual([])
    const rows = 9 * 2 + ENDPOINTS
    expect(await page.$$eval('#leaderboard tbody tr', (trs) => trs.length), 'table rows').toBeGreaterThan(
      rows,
    )
    const bars = await measureBars(page, 'chart-throughput')
    expectBarsLegible(bars, rows, '60-target bars')
    expect(
      bars.items.map((i) => i.label),
      'at 1280 px every name fits whole',
    ).toEqual(bars.labels)
    expect(bars.labels, 'full names').toContain(endpointName(0))
    const box = await page.$eval('#chart-throughput', (c) => c.parentElement!.getBoundingClientRect().height)
    expect(box, 'chart as tall as its rows (22 px each)').toBeGreaterThanOrEqual(rows * 22)
    expect(await pageOverflow(page), 'the page no wider than the window').toBe(0)
    await page
      .locator('figure', { has: page.locator('#chart-pareto-throughput-memory') })
      .screenshot({ path: path.join(SCREENSHOTS, 'legible-60-pareto.png') })
    const pareto = await measurePareto(page, 'chart-pareto-throughput-memory')
    expectParetoLegible(pareto, '60-target Pareto', ['Pareto front', 'fixture-tiny', 'flagged (not a best)'])
    // A narrow window: the names no longer fit half the chart, so they are shortened, still none clipped.
    await page.setViewportSize({ width: 720, height: 900 })
    // A function, not a string: the page's CSP forbids eval.
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { Chart: { getChart(id: string): { width: number } } }).Chart.getChart(
          'chart-throughput',
        ).width < 700,
    )
    await page.screenshot({ path: path.join(SCREENSHOTS, 'legible-60-leaderboard-narrow.png') })
    const narrow = await measureBars(page, 'chart-throughput')
    expectBarsLegible(narrow, rows, '60-target bars, 720 px window')
    const narrowPareto = await measurePareto(page, 'chart-pareto-throughput-memory')
    expectParetoLegible(narrowPareto, '60-target Pareto, 720 px window', [
      'Pareto front',
      'fixture-tiny',
      'flagged (not a best)',
    ])
    expect(
      narrow.items.filter((i) => i.label.includes('…')).length,
      'the long endpoint names shortened in the axis',
    ).toBeGreaterThanOrEqual(ENDPOINTS)
    await page.close()
  })

  it('60 targets: the variant × engine table shows every row label whole; sort links work without JS', async () => {
    const { page, problems } = await visit(`/variants?scenario=${MATRIX}`)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'legible-60-variants.png'), fullPage: true })
    await page.screenshot({ path: path.join(SCREENSHOTS, 'legible-60-variants-top.png') })
    expect(problems, 'console and network').toEqual([])
    const labels = await page.$$eval('#variants tbody th[scope="row"]', (ths) =>
      ths.map((th) => th.textContent?.trim()),
    )
    // 8 variant rows (F32 GGUF and FP32 ONNX share one), then mock and the 50 endpoints: they serve one
    // model id on one engine, so a row each.
    expect(labels, 'rows').toHaveLength(8 + 1 + ENDPOINTS)
    expect(await clippedRowLabels(page, '#variants tbody th[scope="row"]'), 'clipped row labels').toEqual([])
    expect(await pageOverflow(page), 'the page no wider than the window').toBe(0)
    expect(await page.textContent('#load-note')).toContain('step 1: sequential')
    // What a variant costs against what it keeps: tok/s against KLD and against acc, one point per cell.
    for (const id of ['chart-variants-kld', 'chart-variants-acc']) {
      const m = await measurePareto(page, id)
      expectParetoLegible(m, id, ['Pareto front', 'fixture-tiny', 'flagged (not a best)'])
      expect(m.points, `${id}: a point per cell with both figures`).toBe(id.endsWith('kld') ? 7 : 8)
    }
    await page
      .locator('.chart-grid')
      .screenshot({ path: path.join(SCREENSHOTS, 'legible-60-variants-tradeoffs.png') })
    // Keyboard: focus the llama-cpp throughput header link and follow it with Enter.
    await page.focus('a[data-sort="outputTokensPerS"][data-sort-engine="llama-cpp"]')
    await Promise.all([page.waitForURL(/sortEngine=llama-cpp/), page.keyboard.press('Enter')])
    const first = await page.$eval('#variants tbody th[scope="row"]', (th) => th.textContent?.trim())
    expect(first, 'fastest on llama-cpp first').toBe('tiny-q4_0')
    // Another load step, then another scenario: the old scenario's step is not carried over (a 404).
    await Promise.all([page.waitForURL(/load=/), page.selectOption('select[name="load"]', { index: 1 })])
    expect(await page.textContent('#load-note')).toContain('step 2: concurrent 4')
    await Promise.all([
      page.waitForURL(/scenario=quick/),
      page.selectOption('select[name="scenario"]', SCENARIO),
    ])
    expect(page.url(), 'no load or sortEngine of the old scenario').not.toMatch(/load=|sortEngine=/)
    expect(await page.textContent('#load-note')).toContain('step 1: sequential')
    expect(problems, 'console and network').toEqual([])
    await page.close()
  })
})
