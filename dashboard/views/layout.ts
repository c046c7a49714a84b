/**
 * The page frame: header with navigation, content, scripts (Chart.js and charts.js, both from /public;
 * the CSP allows no inline script). Navigation is one list so later pages (alerts, procurement) add a line.
 * @module
 */
import { raw } from 'hono/html'
import { type Html, h } from './html.ts'

export type NavKey = 'leaderboard' | 'history' | 'runs' | 'compare'

export const NAV: readonly { key: NavKey; href: string; label: string }[] = [
  { key: 'leaderboard', href: '/', label: 'Leaderboard' },
  { key: 'history', href: '/history', label: 'History' },
  { key: 'runs', href: '/runs', label: 'Runs' },
  { key: 'compare', href: '/compare', label: 'Compare' },
]

export interface PageOptions {
  title: string
  active?: NavKey
  body: Html
  /** Load Chart.js and draw the page's charts. @default true */
  charts?: boolean
}

export function page({ title, active, body, charts = true }: PageOptions): Html {
  return h`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · bench</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/public/style.css">
${charts ? raw('<script src="/public/chart.umd.min.js" defer></script>\n<script src="/public/charts.js" defer></script>') : raw('<script src="/public/charts.js" defer></script>')}
</head>
<body>
<header class="top">
  <a class="brand" href="/">bench</a>
  <nav>${NAV.map((n) => h`<a href="${n.href}"${n.key === active ? raw(' aria-current="page"') : ''}>${n.label}</a>`)}</nav>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`
}
