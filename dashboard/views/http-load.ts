/**
 * The run page's section for a `bench load` run (runs.load_kind 'http-load', harness/http-load/README.md):
 * what was loaded (endpoint, connections or rate, bounds, bodies, tool), its headline figures — requests/s,
 * latency percentiles of 2xx responses (e2eMs: a non-streamed response has no TTFT), error rate, requests
 * unanswered at the stop — and the responses by HTTP status (metric rows `httpStatus/<code>`), 2xx included.
 * @module
 */
import { cdfChart } from '../charts/cdf.ts'
import type { RunModel } from '../data/run.ts'
import { formatValue } from './format.ts'
import { chartFigure, type Html, h } from './html.ts'

/** Prefix of the per-status rows (harness/http-load/metrics.ts HTTP_STATUS_METRIC). */
const STATUS_PREFIX = 'httpStatus/'

interface StoredHttpLoad {
  kind?: unknown
  endpoint?: unknown
  connections?: unknown
  ratePerS?: unknown
  durationS?: unknown
  requests?: unknown
  timeoutS?: unknown
  bodies?: { kind?: unknown; file?: unknown; promptTokens?: unknown; outputTokens?: unknown }
  tool?: unknown
}

/** The latency CDF of an http-load run's 2xx responses (its one per-request chart); none for other runs. */
export function httpLoadCharts(m: RunModel): Html[] {
  const points = m.httpLoad?.e2eCdf ?? []
  if (points.length === 0) return []
  return [
    chartFigure({
      id: 'chart-e2e-cdf',
      title: 'Latency distribution of 2xx responses (CDF): send → complete response',
      config: cdfChart({
        metric: 'e2eMs',
        unit: 'ms',
        series: [{ label: `run ${m.detail.run.id}`, points }],
      }),
    }),
  ]
}

/** Empty for any other run. */
export function httpLoadSection(m: RunModel): Html | string {
  const load = (m.detail.run.load ?? {}) as StoredHttpLoad
  if (m.detail.run.loadKind !== 'http-load' || load.kind !== 'http-load') return ''
  const scalar = new Map(m.scalars.map((s) => [s.name, s]))
  const e2e = m.percentiles.find((p) => p.name === 'e2eMs')
  const statuses = m.scalars
    .filter((s) => s.name.startsWith(STATUS_PREFIX))
    .map((s) => ({ status: s.name.slice(STATUS_PREFIX.length), count: s.value }))
  const total = statuses.reduce((sum, s) => sum + s.count, 0)
  const figure = (name: string) => {
    const s = scalar.get(name)
    return s ? formatValue(s.value, s.unit) : '–'
  }
  const b = load.bodies ?? {}
  const bodies =
    b.kind === 'synthetic'
      ? `synthetic prompts of ${String(b.promptTokens)} words, max_tokens ${String(b.outputTokens)}`
      : b.kind === 'body'
        ? `one body file sent as is (${String(b.file)})`
        : `${String(b.kind)} prompts from ${String(b.file)}`
  const shape =
    typeof load.ratePerS === 'number'
      ? `${load.ratePerS} requests/s over ${String(load.connections)} connections`
      : `${String(load.connections)} connections, one request in flight each`
  const bounds = `${String(load.durationS)} s${typeof load.requests === 'number' ? ` or ${load.requests} requests` : ''}, timeout ${String(load.timeoutS)} s`
  return h`<h2>HTTP load</h2>
<p id="http-load-shape">Non-streamed <code>${load.endpoint === 'completions' ? '/completions' : '/chat/completions'}</code> requests with ${String(load.tool)}: ${shape}; bounded by ${bounds}; ${bodies}. No TTFT or TPOT: a whole response arrives at once, so latency is the time to the complete response (e2eMs).</p>
<div class="table-wrap"><table class="data" id="http-load">
<thead><tr><th scope="col">requests/s</th><th scope="col">latency p50</th><th scope="col">p90</th><th scope="col">p95</th><th scope="col">p99</th><th scope="col">max</th><th scope="col">error rate</th><th scope="col">requests</th><th scope="col">unanswered at stop</th></tr></thead>
<tbody><tr><td class="num">${figure('requestsPerS')}</td>${(['P50', 'P90', 'P95', 'P99', 'Max'] as const).map((stat) => h`<td class="num">${formatValue(e2e?.stats[stat], 'ms')}</td>`)}<td class="num">${figure('errorRate')}</td><td class="num">${figure('attempted')}</td><td class="num">${figure('unfinishedRequests')}</td></tr></tbody>
</table></div>
${
  statuses.length === 0
    ? ''
    : h`<div class="table-wrap"><table class="data" id="http-status">
<thead><tr><th scope="col">HTTP status</th><th scope="col">responses</th><th scope="col">share</th></tr></thead>
<tbody>${statuses.map((s) => h`<tr><th scope="row">${s.status}</th><td class="num">${formatValue(s.count, 'count')}</td><td class="num">${formatValue(total > 0 ? s.count / total : 0, 'ratio')}</td></tr>`)}</tbody>
</table></div>`
}`
}
