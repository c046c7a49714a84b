/**
 * Debian's Chromium driven by playwright-core, as every browser test uses it: one persistent headless
 * context in a temporary profile, pages opened while collecting console errors, page errors and failed or
 * ≥ 400 responses, and a count of drawn pixels per canvas. Suites skip when /usr/bin/chromium is missing
 * (.ci/run installs it). Screenshots go to test-results/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
export const SCREENSHOTS = path.resolve('test-results')
/** Set by dashboard/public/charts.js once it has drawn the page's charts (the browser's, not Node's, document). */
/**
 * For page.waitForFunction: a function, never a string. The dashboard's CSP forbids eval, and Playwright
 * evaluates a string predicate with eval once it has to poll: a page slower than the first check failed with
 * "EvalError … 'unsafe-eval' is not an allowed source" (test/browser/studies.test.ts, CI).
 */
export const CHARTS_DRAWN = () =>
  (
    globalThis as unknown as {
      document: { documentElement: { dataset: Record<string, string | undefined> } }
    }
  ).document.documentElement.dataset.chartsDrawn !== undefined

/** A describe title that says why the suite is skipped when it is. */
export const inChromium = (name: string) =>
  `${name} in Chromium${hasChromium ? '' : ` (skipped: ${CHROMIUM} is missing; apt-get install chromium)`}`

export interface Browser {
  context: BrowserContext
  /** Opens `url`, waits for the charts, and returns the page with what went wrong on it so far. */
  visit(url: string | URL): Promise<{ page: Page; problems: string[] }>
  close(): Promise<void>
}

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'bench-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  mkdirSync(SCREENSHOTS, { recursive: true })
  return {
    context,
    async visit(url) {
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`)
      })
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`))
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`)
      })
      await page.goto(url.toString())
      await page.waitForFunction(CHARTS_DRAWN)
      return { page, problems }
    },
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** Per canvas: id and how many pixels have been drawn (alpha > 0). */
export function canvasInk(page: Page): Promise<{ id: string; inked: number }[]> {
  return page.evaluate(`[...document.querySelectorAll('canvas')].map((canvas) => {
    const ctx = canvas.getContext('2d')
    if (!ctx || canvas.width === 0 || canvas.height === 0) return { id: canvas.id, inked: 0 }
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height)
    let inked = 0
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked++
    return { id: canvas.id, inked }
  })`)
}
