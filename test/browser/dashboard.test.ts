/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core against the real server on
 * 127.0.0.1 (port 0) over a seeded PGlite database. Every page loads without a console error or failed
 * request, every chart canvas has drawn pixels, sorting and filtering change the rows, and the label
 * write works with the token and not without. Screenshots go to test-results/.
 */
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningDashboard, startDashboard } from '../../dashboard/server.ts'
import { type SeededHistory, seedDashboardHistory } from '../dashboard/fixtures/seed.ts'
import {
  type Browser,
  CHARTS_DRAWN,
  canvasInk,
  hasChromium,
  inChromium,
  launchBrowser,
  SCREENSHOTS,
} from '../helpers/browser.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

const TOKEN = 'browser-test-token'

describe.skipIf(!hasChromium)(inChromium('dashboard'), () => {
  let t: TestDatabase
  let seeded: SeededHistory
  let server: RunningDashboard
  let browser: Browser

  beforeAll(async () => {
    t = await createTestDatabase('pglite')
    seeded = await seedDashboardHistory(t.db)
    server = await startDashboard({ db: t.db, auth: { token: TOKEN }, port: 0 })
    browser = await launchBrowser()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await t?.dispose()
  })

  const visit = (route: string) => browser.visit(new URL(route, server.url))

  const rowTargets = (page: Page) =>
    page.$$eval('#leaderboard tbody tr', (rows) => rows.map((r) => r.getAttribute('data-target') ?? ''))

  it('loads every page without console errors and draws every chart', async () => {
    const q4 = seeded.chat['tiny-q4']!
    const fingerprintOf = async (runId: number) =>
      (
        (await (await fetch(new URL(`/api/runs/${runId}`, server.url))).json()) as {
          detail: { run: { fingerprint: string } }
        }
      ).detail.run.fingerprint
    const pages: { name: string; route: string; charts: number }[] = [
      { name: 'leaderboard', route: '/', charts: 3 },
      { name: 'leaderboard-long', route: '/?scenario=long', charts: 2 },
      { name: 'history-series', route: '/history', charts: 0 },
      {
        name: 'history',
        route: `/history?fingerprint=${await fingerprintOf(q4[0]!)}&metric=ttftMsP95`,
        charts: 1,
      },
      { name: 'runs', route: '/runs', charts: 0 },
      { name: 'run', route: `/runs/${seeded.chat['remote-a']![0]}`, charts: 4 },
      { name: 'run-failed', route: `/runs/${seeded.failedRun}`, charts: 3 },
      { name: 'compare', route: `/compare?a=${q4[0]}&b=${seeded.slowRun}`, charts: 2 },
      { name: 'compare-picker', route: '/compare', charts: 0 },
    ]
    for (const p of pages) {
      const { page, problems } = await visit(p.route)
      await page.screenshot({ path: path.join(SCREENSHOTS, `dashboard-${p.name}.png`), fullPage: true })
      expect(problems, `${p.name}: console and network`).toEqual([])
      const ink = await canvasInk(page)
      expect(ink.length, `${p.name}: charts`).toBe(p.charts)
      for (const c of ink) expect(c.inked, `${p.name}: pixels drawn on ${c.id}`).toBeGreaterThan(500)
      await page.close()
    }
  })

  it('sorts the leaderboard through its column headers', async () => {
    const { page, problems } = await visit('/?scenario=chat')
    const byThroughput = await rowTargets(page)
    await page.click('th a[data-sort="target"]')
    await page.waitForURL(/sort=target/)
    const byName = await rowTargets(page)
    expect(byName, 'by name').toEqual([...byThroughput].sort())
    expect(byName, 'order changed').not.toEqual(byThroughput)
    await page.click('th a[data-sort="peakRssBytes"]')
    await page.waitForURL(/sort=peakRssBytes&dir=asc/)
    const memoryCells = await page.$$eval('#leaderboard tbody tr', (rows) =>
      rows.map((r) => r.querySelectorAll('td.num')[7]?.textContent ?? ''),
    )
    expect(memoryCells, 'peakRssBytes cells, least first, missing last').toEqual([
      '120 MiB',
      '190 MiB',
      '320 MiB',
      '–',
      '–',
    ])
    expect((await rowTargets(page)).slice(0, 3), 'least memory first').toEqual([
      'tiny-q4',
      'tiny-q8',
      'tiny-f32',
    ])
    await page.click('th a[data-sort="peakRssBytes"]')
    await page.waitForURL(/sort=peakRssBytes&dir=desc/)
    expect((await rowTargets(page)).slice(0, 3), 'most memory first').toEqual([
      'tiny-f32',
      'tiny-q8',
      'tiny-q4',
    ])
    await page.waitForFunction(CHARTS_DRAWN)
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'dashboard-leaderboard-sorted.png'),
      fullPage: true,
    })
    expect(problems, 'console and network').toEqual([])
    await page.close()
  })

  it('filters the leaderboard on engine and method', async () => {
    const { page, problems } = await visit('/?scenario=chat')
    const rowRuns = () =>
      page.$$eval('#leaderboard tbody tr', (rows) => rows.map((r) => Number(r.getAttribute('data-run-id'))))
    expect(await rowTargets(page), 'all targets').toHaveLength(5)
    await page.selectOption('select[name="engine"]', 'llama-cpp')
    await page.waitForURL(/engine=llama-cpp/)
    expect((await rowTargets(page)).sort(), 'llama-cpp targets').toEqual(['tiny-f32', 'tiny-q4', 'tiny-q8'])
    await page.selectOption('select[name="quant"]', 'Q4_0')
    await page.waitForURL(/quant=Q4_0/)
    expect(await rowTargets(page), 'Q4_0 only').toEqual(['tiny-q4'])
    expect(await rowRuns(), 'default branch: the latest tiny-q4 run on main').toEqual([seeded.slowRun])
    await page.selectOption('select[name="branch"]', '*')
    await page.waitForURL(/branch=\*/)
    expect(await rowRuns(), 'any branch: the newer feature-branch run').toEqual([seeded.featureRun])
    await page.waitForFunction(CHARTS_DRAWN)
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'dashboard-leaderboard-filtered.png'),
      fullPage: true,
    })
    expect(problems, 'console and network').toEqual([])
    await page.close()
  })

  it('sends two ticked runs to compare', async () => {
    const { page } = await visit('/runs?scenario=long')
    const [first, second] = seeded.long
    await page.check(`input[name="a"][value="${first}"]`, { timeout: 5000 })
    await page.check(`input[name="b"][value="${second}"]`)
    await page.click('form[action="/compare"] button[type="submit"]')
    await page.waitForURL(/\/compare\?/)
    const url = new URL(page.url())
    expect([url.searchParams.get('a'), url.searchParams.get('b')], 'ticked runs').toEqual([
      String(first),
      String(second),
    ])
    expect(await page.textContent('h1'), 'compare page').toBe(`Compare run ${first} → run ${second}`)
    await page.close()
  })

  it('edits a label with the token and is refused without it', async () => {
    const { page } = await visit(`/runs/${seeded.long[0]}`)
    const post = (token: string | null) =>
      page.evaluate(
        async ({ id, token }) => {
          const r = await fetch(`/api/runs/${id}/label`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...(token ? { authorization: `Bearer ${token}` } : {}),
            },
            body: JSON.stringify({ label: 'nightly <baseline>' }),
          })
          return r.status
        },
        { id: seeded.long[0]!, token },
      )
    expect(await post(null), 'without a token').toBe(401)
    expect(await post('wrong'), 'wrong token').toBe(401)
    expect(await post(TOKEN), 'with the token').toBe(200)
    await page.reload()
    expect(await page.textContent('.run-label'), 'label shown, as text').toBe('nightly <baseline>')
    await page.close()
  })
})
