/**
 * Alerts and gate marks in a real browser: Debian's Chromium driven by playwright-core against the real
 * server on 127.0.0.1 (port 0) over a seeded PGlite database with gate results stored by the real gate.
 * The alerts page draws its chart without a console error; Acknowledge without a token shows the server's
 * refusal and changes nothing, with the token typed in it acknowledges (checked through the API too) and
 * the token stays in sessionStorage only; the history page draws the band and the markers. Screenshots go
 * to test-results/ (alerts.png, history-band.png, history-change-points.png).
 */
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AlertsModel } from '../../dashboard/data/alerts.ts'
import { type RunningDashboard, startDashboard } from '../../dashboard/server.ts'
import { type SeededGate, seedGateResults } from '../dashboard/fixtures/gate-seed.ts'
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

const TOKEN = 'browser-alerts-token'

describe.skipIf(!hasChromium)(inChromium('alerts'), () => {
  let t: TestDatabase
  let seeded: SeededHistory
  let gate: SeededGate
  let server: RunningDashboard
  let browser: Browser

  beforeAll(async () => {
    t = await createTestDatabase('pglite')
    seeded = await seedDashboardHistory(t.db)
    gate = await seedGateResults(t.db, seeded)
    server = await startDashboard({ db: t.db, auth: { token: TOKEN }, port: 0 })
    browser = await launchBrowser()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await t?.dispose()
  })

  const visit = (route: string) => browser.visit(new URL(route, server.url))

  /** Datasets of a drawn chart: label and how many elements Chart.js laid out for it. */
  function chartDatasets(page: Page, id: string): Promise<{ label: string; drawn: number }[]> {
    return page.evaluate(`(() => {
        const chart = window.Chart.getChart(${JSON.stringify(id)})
        return chart.data.datasets.map((d, i) => ({ label: d.label, drawn: chart.getDatasetMeta(i).data.length }))
      })()`)
  }

  const apiAlerts = async (state: string) =>
    ((await (await fetch(new URL(`/api/alerts?state=${state}`, server.url))).json()) as AlertsModel).alerts

  it('acknowledges an alert with the token typed in, and shows the refusal without it', async () => {
    const { page, problems } = await visit('/alerts')
    const ink = await canvasInk(page)
    expect(
      ink.map((c) => c.id),
      'one chart',
    ).toEqual(['chart-alerts'])
    expect(ink[0]?.inked, 'chart drawn').toBeGreaterThan(500)
    expect(problems, 'console and network on load').toEqual([])

    const id = gate.alertIds[0]!
    const row = `tr[data-alert-id="${id}"]`
    const navCount = () => page.textContent('[data-nav-count="activeAlerts"]')
    expect(await navCount(), 'nav count').toBe(String(gate.alertIds.length))

    await page.click(`${row} button[data-alert-action="acknowledge"]`)
    await page.waitForSelector('#alert-status.status-error')
    expect(await page.textContent('#alert-status'), "the server's refusal").toMatch(
      new RegExp(`^Alert #${id} not changed: 401 Unauthorized: .*Authorization: Bearer`),
    )
    expect(await page.getAttribute(row, 'data-state'), 'row unchanged').toBe('active')
    expect(
      (await apiAlerts('active')).map((a) => a.id),
      'still active on the server',
    ).toContain(id)
    expect(
      problems.filter((p) => !p.includes('401')),
      'only the expected 401',
    ).toEqual([])

    await page.fill('#alert-token', TOKEN)
    await page.fill('#alert-by', 'browser <user>')
    await page.fill('#alert-note', 'owned by the perf team')
    await page.click(`${row} button[data-alert-action="acknowledge"]`)
    await page.waitForSelector(`${row}[data-state="acknowledged"]`)
    expect(await page.textContent('#alert-status'), 'success said').toBe(`Alert #${id} acknowledged.`)
    expect(await page.textContent(`${row} [data-field="state"]`), 'state cell').toBe('acknowledged')
    expect(await page.textContent(`${row} [data-field="acted"]`), 'who, as text').toMatch(
      /^acknowledged by browser <user> · \d{4}-\d\d-\d\d \d\d:\d\d UTC$/,
    )
    expect(await page.$$(`${row} button`), 'buttons gone').toHaveLength(0)
    expect(await navCount(), 'nav count down').toBe(String(gate.alertIds.length - 1))
    const acknowledged = await apiAlerts('acknowledged')
    expect(
      acknowledged.map((a) => [a.id, a.actedBy, a.note]),
      'acknowledged on the server',
    ).toEqual([[id, 'browser <user>', 'owned by the perf team']])

    expect(
      await page.evaluate(`window.sessionStorage.getItem('bench-token')`),
      'token in sessionStorage',
    ).toBe(TOKEN)
    expect(await page.evaluate('document.cookie'), 'no cookie').toBe('')
    expect(page.url(), 'not in the URL').not.toContain(TOKEN)
    expect((await browser.context.cookies()).length, 'no cookie stored').toBe(0)
    await page.screenshot({ path: path.join(SCREENSHOTS, 'alerts.png'), fullPage: true })

    await page.reload()
    await page.waitForFunction(CHARTS_DRAWN)
    expect(await page.inputValue('#alert-token'), 'token kept for this tab').toBe(TOKEN)
    expect(await page.$(`${row} button`), 'acted alert has no buttons after reload').toBeNull()
    await page.close()
  })

  it('draws the limit band, alert and change-point markers on the history page', async () => {
    const cases = [
      { name: 'history-band', metric: 'ttftMsP95', markers: 'alerts' },
      { name: 'history-change-points', metric: 'chunkGapsMsP99', markers: 'change points' },
    ]
    for (const c of cases) {
      const { page, problems } = await visit(`/history?fingerprint=${gate.q4Fingerprint}&metric=${c.metric}`)
      expect(problems, `${c.name}: console and network`).toEqual([])
      const ink = await canvasInk(page)
      expect(ink[0]?.inked, `${c.name}: chart drawn`).toBeGreaterThan(500)
      const datasets = await chartDatasets(page, 'chart-history')
      const drawn = Object.fromEntries(datasets.map((d) => [d.label, d.drawn]))
      expect(drawn['lower limit'], `${c.name}: lower limit points`).toBeGreaterThan(0)
      expect(drawn['upper limit'], `${c.name}: upper limit points`).toBeGreaterThan(0)
      expect(drawn[c.markers], `${c.name}: ${c.markers} drawn`).toBeGreaterThan(0)
      expect(await page.isVisible('#history-legend'), `${c.name}: legend`).toBe(true)
      await page.screenshot({ path: path.join(SCREENSHOTS, `${c.name}.png`), fullPage: true })
      await page.close()
    }
  })
})
