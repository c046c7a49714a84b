/**
 * What a report inlines so it opens with no network: Chart.js and the chart glue (dashboard/public/charts.js)
 * exactly as the dashboard serves them (read through its own asset routes, dashboard/assets.ts: Chart.js
 * from node_modules, no CDN), the dashboard's stylesheet and report.css. Each is checked to be safe inside
 * its element, and hashed for the page's Content-Security-Policy, which allows these inline blocks and no
 * fetch of any kind.
 * @module
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { assetRoutes } from '../assets.ts'

export interface InlineBlock {
  body: string
  /** `'sha256-…'` source expression of `body` for the CSP. */
  hash: string
}

export interface ReportAssets {
  /** Chart.js first, then charts.js (which draws the page's `application/json` chart configs). */
  scripts: InlineBlock[]
  style: InlineBlock
}

/**
 * Chart.js's licence banners (its own and @kurkle/color's, ` * https://…` lines of `/*!` comments) name
 * their sites with a scheme; the report promises no external URL at all, so each banner keeps the name and
 * copyright, without `https://`.
 */
const BANNER_URL = /^( \* )https?:\/\/(\S+)$/gm

/**
 * Text that can sit inside a `<script>` (or `<style>`) element unchanged: no `</script` (`</style`) that
 * would end it early — rewritten as `<\/`, the same in JavaScript strings, comments and regexes — and no
 * `<!--`, which would switch the HTML parser into its escaped script state (thrown: never rewritten blindly).
 */
export function inlineSafe(text: string, element: 'script' | 'style', name: string): string {
  if (/<!--/.test(text))
    throw new Error(`${name}: contains "<!--", which cannot be inlined in a <${element}>`)
  return text.replace(new RegExp(`</(${element})`, 'gi'), '<\\/$1')
}

function block(body: string): InlineBlock {
  return { body, hash: `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'` }
}

let cached: Promise<ReportAssets> | undefined

export function reportAssets(): Promise<ReportAssets> {
  cached ??= loadAssets()
  return cached
}

async function loadAssets(): Promise<ReportAssets> {
  const routes = assetRoutes()
  const served = async (route: string) => {
    const res = await routes.request(route)
    if (!res.ok) throw new Error(`dashboard asset ${route}: HTTP ${res.status}`)
    return res.text()
  }
  const [chartJs, chartsJs, dashboardCss] = await Promise.all([
    served('/public/chart.umd.min.js'),
    served('/public/charts.js'),
    served('/public/style.css'),
  ])
  const reportCss = readFileSync(new URL('./report.css', import.meta.url), 'utf8')
  return {
    scripts: [
      block(inlineSafe(chartJs.replace(BANNER_URL, '$1$2'), 'script', 'chart.umd.min.js')),
      block(inlineSafe(chartsJs, 'script', 'charts.js')),
    ],
    style: block(inlineSafe(`${dashboardCss}\n${reportCss}`, 'style', 'style.css')),
  }
}
