/**
 * The procurement page in a real browser (Debian's Chromium via playwright-core, the real server on
 * 127.0.0.1, port 0, over seeded PGlite): it loads without a console error, its charts draw, ticking
 * targets and setting the SLO change the rows, and a price saved with the token typed into the page is
 * applied — an environment's for the native targets, a serving machine for the endpoint (beta, whose run
 * environment is only the client and is not offered for pricing) — while without it (or on a dashboard
 * with no token configured) the server's refusal is shown; the model picker ranks one model at a time.
 * Screenshots: test-results/procurement.png, test-results/procurement-models.png.
 */
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningDashboard, startDashboard } from '../../dashboard/server.ts'
import { BUY_SCENARIO, seedProcurement } from '../dashboard/fixtures/procurement-seed.ts'
import { seedDashboardHistory } from '../dashboard/fixtures/seed.ts'
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

const TOKEN = 'browser-procurement-token'

describe.skipIf(!hasChromium)(inChromium('procurement'), () => {
  let t: TestDatabase
  let server: RunningDashboard
  let readOnly: RunningDashboard
  let browser: Browser

  beforeAll(async () => {
    t = await createTestDatabase('pglite')
    await seedDashboardHistory(t.db)
    await seedProcurement(t.db)
    server = await startDashboard({ db: t.db, auth: { token: TOKEN }, port: 0 })
    readOnly = await startDashboard({ db: t.db, auth: {}, port: 0 })
    browser = await launchBrowser()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await readOnly?.close()
    await t?.dispose()
  })

  const visit = (route: string, on = server) => browser.visit(new URL(route, on.url))

  const rows = (page: Page) =>
    page.$$eval('#procurement tbody tr', (trs) =>
      trs.map((tr) => ({
        target: tr.querySelector('td.target a')?.textContent ?? '',
        rank: tr.getAttribute('data-rank') ?? '',
        goodFraction: tr.querySelector('td[data-figure="goodFraction"]')?.firstChild?.textContent ?? '',
        usdPerHour: tr.querySelector('td[data-figure="usdPerHour"]')?.textContent ?? '',
      })),
    )

  /** Fills and submits the price form of the environment whose targets include `target`. */
  async function submitPrice(page: Page, target: string, usdPerHour: string): Promise<void> {
    const form = page.locator('#environment-prices tbody tr', { hasText: target }).locator('form.price-form')
    await form.locator('input[name="usdPerHour"]').fill(usdPerHour)
    await form.locator('button[type="submit"]').click()
  }

  /** Fills and submits the serving-machine form of endpoint target `target`. */
  async function submitServing(page: Page, target: string, fields: Record<string, string>): Promise<void> {
    const form = page.locator(`#endpoint-serving form[data-serving-for="${target}"]`)
    for (const [name, value] of Object.entries(fields))
      await form.locator(`input[name="${name}"]`).fill(value)
    await form.locator('button[type="submit"]').click()
  }

  it('loads without console errors and draws its charts', async () => {
    const { page, problems } = await visit(`/procurement?scenario=${BUY_SCENARIO}&rank=goodput`)
    expect(problems, 'console and network').toEqual([])
    const ink = await canvasInk(page)
    expect(
      ink.map((c) => c.id),
      'bars of the objective, then the trade-off (no prices yet: throughput vs memory)',
    ).toEqual(['chart-objective', 'chart-tradeoff-throughput-memory'])
    for (const c of ink) expect(c.inked, `pixels drawn on ${c.id}`).toBeGreaterThan(500)
    expect(
      (await rows(page)).map((r) => [r.target, r.rank]),
      'ranked by goodput',
    ).toEqual([
      ['beta', '1'],
      ['alpha', '2'],
      ['gamma', '3'],
    ])
    await page.close()
  })

  it('changes the rows when targets and the SLO change', async () => {
    const { page, problems } = await visit(`/procurement?scenario=${BUY_SCENARIO}&rank=goodput`)
    expect((await rows(page)).map((r) => r.target).sort(), 'all three').toEqual(['alpha', 'beta', 'gamma'])
    await page.uncheck('#procurement-form input[name="targets"] >> nth=2')
    await page.click('#procurement-form button[type="submit"]')
    await page.waitForURL(/targets=/)
    await page.waitForFunction(CHARTS_DRAWN)
    expect((await rows(page)).map((r) => r.target).sort(), 'gamma unticked').toEqual(['alpha', 'beta'])
    const alphaFraction = async () => (await rows(page)).find((r) => r.target === 'alpha')?.goodFraction
    // The scenario's SLO (200 / 60): 2 of alpha's 5 requests; at 500 / 100 all 4 ok ones.
    expect(await alphaFraction(), "at the scenario's SLO").toBe('40 %')
    await page.fill('#procurement-form input[name="sloTtftMs"]', '500')
    await page.fill('#procurement-form input[name="sloTpotMs"]', '100')
    await page.click('#procurement-form button[type="submit"]')
    await page.waitForURL(/sloTtftMs=500/)
    await page.waitForFunction(CHARTS_DRAWN)
    expect(await alphaFraction(), 'at the looser SLO').toBe('80 %')
    expect((await rows(page)).map((r) => r.target).sort(), 'still the two ticked').toEqual(['alpha', 'beta'])
    expect(problems, 'console and network').toEqual([])
    await page.close()
  })

  it('shows the refusal without the token, and with it saves the price and re-ranks', async () => {
    const { page, problems } = await visit(`/procurement?scenario=${BUY_SCENARIO}`)
    expect(
      (await rows(page)).map((r) => r.rank),
      'nothing priced: nothing ranked',
    ).toEqual(['', '', ''])
    await submitPrice(page, 'alpha', '2')
    const status = page.locator('#environment-prices tr', { hasText: 'alpha' }).locator('.price-status')
    await expect
      .poll(() => status.textContent(), { timeout: 5000 })
      .toMatch(/^Price not saved: 401 Unauthorized: /)
    expect(await status.textContent(), "the server's message").toContain(
      'Authorization: Bearer <BENCH_TOKEN>',
    )
    expect(
      problems.filter((p) => !/\b401\b/.test(p)),
      'only the refused write failed',
    ).toEqual([])
    problems.length = 0

    await page.fill('#bench-token', TOKEN)
    expect(
      await page.evaluate("window.sessionStorage.getItem('bench-token')"),
      'token kept in sessionStorage',
    ).toBe(TOKEN)
    await Promise.all([page.waitForEvent('load'), submitPrice(page, 'alpha', '2')])
    await page.waitForFunction(CHARTS_DRAWN)
    expect(
      await page.$$eval('#environment-prices tbody tr', (trs) =>
        trs.map((tr) => tr.children[1]?.textContent),
      ),
      "only the native targets' machine is offered for an environment price",
    ).toEqual(['alpha, gamma'])
    expect(
      await page.textContent('#endpoint-serving tr[data-target="beta"] td:nth-child(3)'),
      'beta unpriced until a serving machine is set',
    ).toMatch(/^unpriced/)
    expect(
      (await rows(page)).find((r) => r.target === 'beta')?.usdPerHour,
      "beta: not the client's price",
    ).toBe('–')
    await Promise.all([
      page.waitForEvent('load'),
      submitServing(page, 'beta', {
        hardware: 'Buy cloud box',
        gpu: 'Buy GPU 80GB',
        gpuCount: '1',
        usdPerHour: '8',
      }),
    ])
    await page.waitForFunction(CHARTS_DRAWN)
    expect(
      await page.textContent('#procurement tr:has(a:text-is("beta")) .serving'),
      "beta's serving machine in the table",
    ).toBe('1× Buy GPU 80GB · Buy cloud box')
    expect(
      (await rows(page)).map((r) => [r.target, r.rank, r.usdPerHour]),
      'ranked by cost efficiency after the reload',
    ).toEqual([
      ['alpha', '1', '$2'],
      ['gamma', '2', '$2'],
      ['beta', '3', '$8'],
    ])
    expect(await page.inputValue('#bench-token'), 'token restored after the reload').toBe(TOKEN)
    expect(await page.textContent('#procurement-recommendation'), 'recommendation').toContain(
      'By cost efficiency for model buy-model, choose alpha: 3.75 tokens/s per $/h',
    )
    const ink = await canvasInk(page)
    expect(
      ink.map((c) => c.id),
      'bars and the cost vs goodput scatter',
    ).toEqual(['chart-objective', 'chart-tradeoff-cost-goodput'])
    for (const c of ink) expect(c.inked, `pixels drawn on ${c.id}`).toBeGreaterThan(500)
    expect(problems, 'console and network').toEqual([])
    await page.screenshot({ path: path.join(SCREENSHOTS, 'procurement.png'), fullPage: true })
    await page.close()
  })

  it('shows the refusal of a dashboard with no token configured', async () => {
    const { page } = await visit(`/procurement?scenario=${BUY_SCENARIO}`, readOnly)
    await page.fill('#bench-token', TOKEN)
    await submitServing(page, 'beta', { hardware: 'Buy cloud box', usdPerHour: '9' })
    const status = page.locator('#endpoint-serving tr[data-target="beta"] .price-status')
    await expect
      .poll(() => status.textContent(), { timeout: 5000 })
      .toMatch(/^Serving machine not saved: 403 Forbidden: writes are disabled/)
    await page.close()
  })

  it('ranks one model at a time and lists each model with its best', async () => {
    const { page, problems } = await visit('/procurement?scenario=chat&rank=throughput-per-gb')
    const models = await page.$$eval('#procurement-models tbody tr', (trs) =>
      trs.map((tr) => tr.getAttribute('data-model') ?? ''),
    )
    expect(models.length, 'the chat targets serve several models').toBeGreaterThan(1)
    const chosen = await page.inputValue('select[name="model"]')
    expect(chosen, 'the model with the most targets first').toBe(models[0])
    const other = models[1]!
    await Promise.all([page.waitForURL(/model=/), page.selectOption('select[name="model"]', other)])
    expect(await page.inputValue('select[name="model"]'), 'the picked model').toBe(other)
    expect(await page.textContent('h2:has-text("Targets") small'), 'heading names it').toContain(
      'serving model',
    )
    expect(problems, 'console and network').toEqual([])
    await page.screenshot({ path: path.join(SCREENSHOTS, 'procurement-models.png'), fullPage: true })
    await page.close()
  })
})
