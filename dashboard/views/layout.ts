/**
 * The page frame: header with navigation, content, scripts (Chart.js and charts.js, both from /public;
 * the CSP allows no inline script). Navigation is one list so later pages (alerts, procurement) add a line.
 * @module
 */
import { raw } from 'hono/html'
import { type Html, h } from './html.ts'
import { NAV_COUNT_TITLES, type NavCounts, navCounts } from './nav-counts.ts'

export type NavKey =
  | 'leaderboard'
  | 'variants'
  | 'history'
  | 'runs'
  | 'sweeps'
  | 'compare'
  | 'alerts'
  | 'procurement'
  | 'studies'

export const NAV: readonly { key: NavKey; href: string; label: string; count?: keyof NavCounts }[] = [
  { key: 'leaderboard', href: '/', label: 'Leaderboard' },
  { key: 'variants', href: '/variants', label: 'Variants' },
  { key: 'history', href: '/history', label: 'History' },
  { key: 'runs', href: '/runs', label: 'Runs' },
  { key: 'sweeps', href: '/sweeps', label: 'Sweeps' },
  { key: 'compare', href: '/compare', label: 'Compare' },
  { key: 'alerts', href: '/alerts', label: 'Alerts', count: 'activeAlerts' },
  { key: 'procurement', href: '/procurement', label: 'Procurement' },
  { key: 'studies', href: '/studies', label: 'Studies' },
]

export interface PageOptions {
  title: string
  active?: NavKey
  body: Html
  /** Load Chart.js and draw the page's charts. @default true */
  charts?: boolean
  /** More scripts of /public (e.g. `alerts.js`), loaded after charts.js. */
  scripts?: readonly string[]
}

export function page({ title, active, body, charts = true, scripts = [] }: PageOptions): Html {
  const counts = navCounts.getStore() ?? {}
  const badge = (key: keyof NavCounts | undefined) => {
    const n = key === undefined ? undefined : counts[key]
    return n && key
      ? h` <span class="nav-count" data-nav-count="${key}" title="${NAV_COUNT_TITLES[key]}">${n}</span>`
      : ''
  }
  return h`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · bench</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/public/style.css">
${charts ? raw('<script src="/public/chart.umd.min.js" defer></script>\n<script src="/public/charts.js" defer></script>') : raw('<script src="/public/charts.js" defer></script>')}
${scripts.map((name) => h`<script src="/public/${name}" defer></script>`)}
</head>
<body>
<header class="top">
  <a class="brand" href="/">bench</a>
  <nav>${NAV.map((n) => h`<a href="${n.href}"${n.key === active ? raw(' aria-current="page"') : ''}>${n.label}${badge(n.count)}</a>`)}</nav>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`
}
