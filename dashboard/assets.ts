/**
 * Static files, read once at start-up and served from memory: Chart.js from node_modules (no CDN), the
 * chart glue script, the alerts page's script, the stylesheet and the favicon. A fixed table, so no
 * request path ever reaches the file system.
 * @module
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Hono } from 'hono'

interface Asset {
  body: string
  type: string
  etag: string
}

function chartJsPath(): string {
  const require = createRequire(import.meta.url)
  // chart.js's exports map hides dist/; its main entry sits next to the UMD build.
  return path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js')
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }
}

function loadAssets(): Map<string, Asset> {
  const local = (name: string) => readFileSync(new URL(`./public/${name}`, import.meta.url), 'utf8')
  // The source map is not shipped; without the comment no browser asks for it.
  const chartJs = readFileSync(chartJsPath(), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')
  const favicon = asset(local('favicon.svg'), 'image/svg+xml')
  return new Map([
    ['/public/chart.umd.min.js', asset(chartJs, 'text/javascript; charset=utf-8')],
    ['/public/charts.js', asset(local('charts.js'), 'text/javascript; charset=utf-8')],
    ['/public/writes.js', asset(local('writes.js'), 'text/javascript; charset=utf-8')],
    ['/public/alerts.js', asset(local('alerts.js'), 'text/javascript; charset=utf-8')],
    ['/public/procurement.js', asset(local('procurement.js'), 'text/javascript; charset=utf-8')],
    ['/public/studies.js', asset(local('studies.js'), 'text/javascript; charset=utf-8')],
    ['/public/style.css', asset(local('style.css'), 'text/css; charset=utf-8')],
    ['/favicon.svg', favicon],
    ['/favicon.ico', favicon],
  ])
}

let cached: Map<string, Asset> | undefined

export function assetRoutes(): Hono {
  cached ??= loadAssets()
  const assets = cached
  const app = new Hono()
  for (const [route, a] of assets)
    app.get(route, (c) => {
      const headers = { 'content-type': a.type, 'cache-control': 'public, max-age=3600', etag: a.etag }
      if (c.req.header('if-none-match') === a.etag) return c.body(null, 304, headers)
      return c.body(a.body, 200, headers)
    })
  return app
}
