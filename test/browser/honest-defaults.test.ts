/**
 * Issue 17's honest defaults in Chromium, at quickstart size (26 targets) with a pull-request branch,
 * confirm re-runs, a client-saturated run and a run over 1 % errors (test/dashboard/fixtures/honest-seed.ts):
 * the leaderboard's best throughput is main's clean fastest and the flagged rows are marked; history over
 * every branch draws a legend entry per branch; the run page shows HTTP statuses in errors by kind and the
 * goodput SLO. Screenshots: test-results/honest-*.png.
 */
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningDashboard, startDashboard } from '../../dashboard/server.ts'
import {
  CLEAN_TARGETS,
  cleanName,
  type HonestSeed,
  PR_BRANCH,
  SCENARIO,
  seedHonestDefaults,
} from '../dashboard/fixtures/honest-seed.ts'
import {
  type Browser,
  canvasInk,
  hasChromium,
  inChromium,
  launchBrowser,
  SCREENSHOTS,
} from '../helpers/browser.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

describe.skipIf(!hasChromium)(inChromium('honest defaults'), () => {
  let t: TestDatabase
  let s: HonestSeed
  let server: RunningDashboard
  let browser: Browser

  beforeAll(async () => {
    delete process.env.BENCH_DEFAULT_BRANCH
    t = await createTestDatabase('pglite')
    s = await seedHonestDefaults(t.db)
    server = await startDashboard({ db: t.db, auth: {}, port: 0 })
    browser = await launchBrowser()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await t?.dispose()
  })

  const visit = (route: string) => browser.visit(new URL(route, server.url))

  it('leaderboard: main only, best throughput from a clean main run, flagged rows marked', async () => {
    const { page, problems } = await visit(`/?scenario=${SCENARIO}`)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'honest-leaderboard.png'), fullPage: true })
    expect(problems, 'console and network').toEqual([])
    expect(await page.textContent('#scope'), 'says which branch').toContain('Showing branch main')
    const rows = await page.$$eval('#leaderboard tbody tr', (trs) =>
      trs.map((tr) => ({
        run: Number(tr.getAttribute('data-run-id')),
        flags: tr.getAttribute('data-flags'),
      })),
    )
    expect(rows, 'quickstart size: every main target').toHaveLength(CLEAN_TARGETS + 2)
    for (const other of [s.prRun, s.prConfirmRun, s.mainConfirmRun])
      expect(
        rows.map((r) => r.run),
        `PR or confirm run ${other}`,
      ).not.toContain(other)
    expect(rows.slice(0, 2), 'fastest two: flagged and marked').toEqual([
      { run: s.saturatedRun, flags: 'client-saturated' },
      { run: s.errorRun, flags: 'errors-over-threshold' },
    ])
    expect(
      await page.$$eval('#leaderboard tbody tr.flagged .tag.flag', (tags) => tags.map((t) => t.textContent)),
      'visible marks',
    ).toEqual(['client-saturated', 'errors 4.8 % > 1 %'])
    const best = page.locator('.recommendation li', { hasText: 'Best throughput' }).locator('a')
    expect([await best.textContent(), await best.getAttribute('href')], 'best throughput').toEqual([
      cleanName(0),
      `/runs/${s.main[cleanName(0)]}`,
    ])
    expect(await page.textContent('#flagged-note'), 'why two rows are left out').toMatch(/^2 flagged rows/)
    // Point labels by series: flagged points in their own series (hollow crosses), q-00 on the front.
    const pareto = (await page.evaluate(`(() => {
      const chart = window.Chart.getChart('chart-pareto-throughput-latency')
      return chart.data.datasets.map((d) => [d.label, d.data.map((p) => p.label)])
    })()`)) as [string, string[]][]
    expect(
      pareto.find(([series]) => series === 'flagged (not a best)')?.[1],
      'Pareto: flagged points marked, off the front',
    ).toEqual(['sat (client-saturated)', 'err (errors 4.8 % > 1 %)'])
    expect(pareto.find(([series]) => series === 'Pareto front')?.[1], 'Pareto: q-00 on the front').toEqual([
      cleanName(0),
    ])
    for (const c of await canvasInk(page)) expect(c.inked, `pixels on ${c.id}`).toBeGreaterThan(500)
    await page.close()
  })

  it('history over every branch: one line and one legend entry per branch', async () => {
    const fingerprint = (
      (await (await fetch(new URL(`/api/runs/${s.prRun}`, server.url))).json()) as {
        detail: { run: { fingerprint: string } }
      }
    ).detail.run.fingerprint
    const { page, problems } = await visit(`/history?fingerprint=${fingerprint}&branch=*`)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'honest-history.png'), fullPage: true })
    expect(problems, 'console and network').toEqual([])
    const legend = await page.evaluate(`(() => {
      const chart = window.Chart.getChart('chart-history')
      return chart.legend.legendItems.map((i) => i.text)
    })()`)
    expect(legend, 'chart legend: one entry per branch').toEqual(['main', PR_BRANCH])
    expect(
      await page.$$eval('#history-lines .line-key', (keys) => keys.map((k) => k.textContent)),
      'legend in the page',
    ).toEqual(['main', PR_BRANCH])
    expect(await page.inputValue('select[name="branch"]'), 'branch picker: any branch selected').toBe('*')
    const [ink] = await canvasInk(page)
    expect(ink?.inked, 'history drawn').toBeGreaterThan(500)
    await page.close()
  })

  it('run page: errors by kind and HTTP status, the goodput SLO', async () => {
    const { page, problems } = await visit(`/runs/${s.errorRun}`)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'honest-run.png'), fullPage: true })
    expect(problems, 'console and network').toEqual([])
    expect(
      await page.$$eval('#errors tbody tr', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)),
      ),
      'errors table',
    ).toEqual([
      ['http', '429', '1'],
      ['http', '500', '1'],
    ])
    const bars = await page.evaluate(`window.Chart.getChart('chart-errors').data.labels`)
    expect(bars, 'errors chart labels').toEqual(['http 429', 'http 500'])
    expect(await page.textContent('#slo'), 'SLO').toBe(
      'Goodput SLO: ttftMs ≤ 80 ms · tpotMs ≤ 8 ms per request (a request meeting every bound is good).',
    )
    for (const c of await canvasInk(page)) expect(c.inked, `pixels on ${c.id}`).toBeGreaterThan(500)
    await page.close()
  })
})
