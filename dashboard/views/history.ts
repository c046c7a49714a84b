/**
 * History page: one figure of one series over time or commits (downsampled past the point budget), then
 * the latest points as a table; without a fingerprint, the list of series to choose from.
 * @module
 */
import { raw } from 'hono/html'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { historyChart } from '../charts/history.ts'
import type { HistoryModel } from '../data/history.ts'
import type { SeriesSummary } from '../data/queries.ts'
import { formatTime, formatValue, shortSha } from './format.ts'
import { chartFigure, type Html, h, link, metricName, notice } from './html.ts'
import { page } from './layout.ts'

/** Rows of the table under the chart (newest first). */
const TABLE_ROWS = 50

export function historyPage(m: HistoryModel): Html {
  const q = m.query
  const unit = m.unit
  const format = unit === 'bytes' ? 'bytes' : unit === 'ratio' ? 'percent' : undefined
  const base = { fingerprint: q.fingerprint, branch: q.branch, points: q.points }
  const chart =
    m.points.length === 0
      ? notice(
          h`No completed run of this series has ${metricName(q.metric)}${q.branch ? ` on branch ${q.branch}` : ''}.`,
          'warn',
        )
      : chartFigure(
          {
            id: 'chart-history',
            title: `${q.metric} of ${m.series.targetName} (${m.series.scenarioName})`,
            config: historyChart({
              metric: q.metric,
              unit,
              xAxis: q.x,
              points: m.points.map((p) => ({
                runId: p.runId,
                startedAtMs: p.startedAt.getTime(),
                value: p.value,
                gitCommit: p.gitCommit,
                index: p.index,
              })),
              band: m.band,
              markers: m.markers,
              ...(format ? { format } : {}),
            }),
          },
          'tall',
        )
  const latest = [...m.points].reverse().slice(0, TABLE_ROWS)
  return page({
    title: `History: ${m.series.targetName} · ${q.metric}`,
    active: 'history',
    body: h`<p class="lede">Series <code>${q.fingerprint.slice(0, 16)}</code> — scenario
  <a href="${link('/', { scenario: m.series.scenarioName })}">${m.series.scenarioName}</a>, target ${m.series.targetName},
  ${m.series.completedRuns} completed run${m.series.completedRuns === 1 ? '' : 's'}.
  ${m.description ? h`<br><small>${metricName(q.metric)}: ${m.description}</small>` : ''}</p>
<form class="filters" method="get" action="/history">
  <input type="hidden" name="fingerprint" value="${q.fingerprint}">
  <label>metric
    <select name="metric" data-autosubmit>
      ${[...new Set([...m.series.metrics, q.metric])].map((name) => h`<option value="${name}"${name === q.metric ? raw(' selected') : ''}>${name}</option>`)}
    </select>
  </label>
  <label>x axis
    <select name="x" data-autosubmit>
      <option value="time"${q.x === 'time' ? raw(' selected') : ''}>time</option>
      <option value="commit"${q.x === 'commit' ? raw(' selected') : ''}>commits (run order)</option>
    </select>
  </label>
  <label>branch <input name="branch" value="${q.branch ?? ''}" placeholder="any" size="12"></label>
  <label>points <input name="points" value="${q.points}" inputmode="numeric" size="5"></label>
  <button type="submit">apply</button>
</form>
${m.downsampled ? notice(`${m.totalPoints.toLocaleString('en-US')} runs, downsampled to ${m.points.length} points (largest-triangle-three-buckets keeps spikes). Raise "points" to see more.`) : ''}
${chart}
${
  latest.length === 0
    ? ''
    : h`<h2>Latest points <small>${latest.length} shown${m.downsampled ? ' (of the downsampled series)' : ''}</small></h2>
<div class="table-wrap"><table class="data" id="history-points">
<thead><tr><th scope="col">run</th><th scope="col">started</th><th scope="col">commit</th><th scope="col">branch</th><th scope="col">${metricName(q.metric)}</th><th scope="col">n</th></tr></thead>
<tbody>${latest.map(
        (p) =>
          h`<tr><td><a href="/runs/${p.runId}">${p.runId}</a></td><td>${formatTime(p.startedAt)}</td><td><code>${shortSha(p.gitCommit)}</code></td><td>${p.gitBranch ?? '–'}</td><td class="num">${formatValue(p.value, unit ?? metricInfo(q.metric)?.unit)}</td><td class="num">${p.n}</td></tr>`,
      )}</tbody></table></div>`
}
<p><a href="${link('/history', { ...base, metric: q.metric, x: q.x === 'time' ? 'commit' : 'time' })}">switch x axis</a></p>`,
  })
}

export function seriesListPage(
  series: SeriesSummary[],
  filter: { scenario?: string; target?: string },
): Html {
  return page({
    title: 'History',
    active: 'history',
    charts: false,
    body: h`<p class="lede">Choose a series (a target measured under one comparability fingerprint) to see a figure over time.</p>
<form class="filters" method="get" action="/history">
  <label>scenario <input name="scenario" value="${filter.scenario ?? ''}" placeholder="any" size="14"></label>
  <label>target <input name="target" value="${filter.target ?? ''}" placeholder="any" size="14"></label>
  <button type="submit">filter</button>
</form>
${
  series.length === 0
    ? notice('No completed runs match.', 'warn')
    : h`<div class="table-wrap"><table class="data" id="series">
<thead><tr><th scope="col">scenario</th><th scope="col">target</th><th scope="col">fingerprint</th><th scope="col">runs</th><th scope="col">last run</th></tr></thead>
<tbody>${series.map(
        (s) =>
          h`<tr><td>${s.scenarioName}</td><td>${s.targetName}</td><td><a href="${link('/history', { fingerprint: s.fingerprint, metric: 'outputTokensPerS' })}"><code>${s.fingerprint.slice(0, 16)}</code></a></td><td class="num">${s.completedRuns}</td><td>${formatTime(s.lastRunAt)}</td></tr>`,
      )}</tbody></table></div>`
}`,
  })
}
