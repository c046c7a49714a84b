/**
 * The run page's "Server metrics" section: what the serving engine's own /metrics said over the run
 * (harness/server-metrics): the headline figures (tokens, requests, preemptions, prefix-cache hit rate,
 * KV-cache usage, queue time), then every stored series with its before, after, delta, mean and max. A run
 * whose /metrics could not be read says why; a run that read none (native engines, `off`) shows nothing.
 * Everything from the server (names, label values, the reason) is escaped by `h`.
 * @module
 */
import type { ServerMetricRow, ServerMetricsRecord } from '../../harness/server-metrics/session.ts'
import { summarizeServerMetrics } from '../../harness/server-metrics/summary.ts'
import { formatNumber, formatValue } from './format.ts'
import { type Html, h, notice } from './html.ts'

const num = (v: number | null) => (v === null ? '–' : formatNumber(v))

function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')
}

function meanOf(r: ServerMetricRow): number | null {
  return r.sumDelta !== null && r.delta !== null && r.delta > 0 ? r.sumDelta / r.delta : null
}

export function serverMetricsSection(record: ServerMetricsRecord | undefined): Html | string {
  if (record === undefined) return ''
  if (record.state === 'unavailable')
    return h`<h2>Server metrics</h2>
<p id="server-metrics-none">None: ${record.reason ?? 'not read'}.</p>`
  const figures = summarizeServerMetrics(record.rows)
  return h`<h2>Server metrics</h2>
<p id="server-metrics-source">What the server's own <code>${record.url}</code> said: read before and after the run${record.samples > 0 ? `, gauges sampled ${record.samples} times in between` : " (the run ended before the first gauge sample: a gauge's max is of those two readings only)"}. Counters and histogram counts as deltas over the run, gauges as their largest value.</p>
${record.reason ? notice(record.reason, 'warn') : ''}
${
  figures.length === 0
    ? ''
    : h`<div class="table-wrap"><table class="data" id="server-metrics">
<thead><tr><th scope="col">figure</th><th scope="col">value</th><th scope="col">from</th></tr></thead>
<tbody>${figures.map(
        (f) =>
          h`<tr><th scope="row">${f.label}</th><td class="num">${formatValue(f.value, f.unit)}</td><td><code>${f.source}</code></td></tr>`,
      )}</tbody></table></div>`
}
<details id="server-metrics-series"><summary>All ${record.rows.length} series</summary>
<div class="table-wrap"><table class="data">
<thead><tr><th scope="col">metric</th><th scope="col">labels</th><th scope="col">kind</th><th scope="col">before</th><th scope="col">after</th><th scope="col">delta</th><th scope="col">mean</th><th scope="col">max</th></tr></thead>
<tbody>${record.rows.map(
    (r) =>
      h`<tr><th scope="row"><code>${r.name}</code></th><td>${labelsText(r.labels)}</td><td>${r.kind}</td><td class="num">${num(r.before)}</td><td class="num">${num(r.after)}</td><td class="num">${num(r.delta)}</td><td class="num">${num(meanOf(r))}</td><td class="num">${num(r.max)}</td></tr>`,
  )}</tbody></table></div>
</details>`
}
