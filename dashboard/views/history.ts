/**
 * History page: one figure of one series over time or commits, one line per branch with a legend (the
 * default branch unless asked; downsampled past the point budget) with the gate's limit band and alert / change-point markers, a legend saying what they are, the alerts and change
 * points as tables, then the latest points; without a fingerprint, the list of series to choose from.
 * @module
 */
import { raw } from 'hono/html'
import type { SeriesSummary } from '../../db/queries/pickers.ts'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { historyChart } from '../charts/history.ts'
import type { HistoryModel } from '../data/history.ts'
import { ANY_BRANCH } from '../params.ts'
import { alertState, formatLimits, formatPValue } from './alert-cells.ts'
import { formatDeltaPct, formatTime, formatValue, shortSha } from './format.ts'
import { chartFigure, type Html, h, link, metricName, notice } from './html.ts'
import { page } from './layout.ts'
import { branchSelect, flagTags, roleSelect, scopeLine } from './scope.ts'

/** Rows of the table under the chart (newest first). */
const TABLE_ROWS = 50

export function historyPage(m: HistoryModel): Html {
  const q = m.query
  const unit = m.unit
  const format = unit === 'bytes' ? 'bytes' : unit === 'ratio' ? 'percent' : undefined
  const role = q.role === 'run' ? undefined : q.role
  const base = { fingerprint: q.fingerprint, branch: q.branch, role, points: q.points }
  const chart =
    m.points.length === 0
      ? notice(
          h`No completed run of this series has ${metricName(q.metric)}${m.view.branch !== null ? ` on branch ${m.view.branch}` : ''}.`,
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
              lines: m.lines.map((l) => l.key),
              points: m.points.map((p) => ({
                line: p.line,
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
  ${branchSelect(m.view, m.branches, q.branch)}
  ${roleSelect(q.role)}
  <label>points <input name="points" value="${q.points}" inputmode="numeric" size="5"></label>
  <button type="submit">apply</button>
</form>
${scopeLine(m.view)}
${linesLegend(m)}
${m.downsampled ? notice(`${m.totalPoints.toLocaleString('en-US')} runs, downsampled to ${m.points.length} points (largest-triangle-three-buckets keeps spikes). Raise "points" to see more.`) : ''}
${chart}
${m.points.length === 0 ? '' : gateLegend(m)}
${gateTables(m)}
${
  latest.length === 0
    ? ''
    : h`<h2>Latest points <small>${latest.length} shown${m.downsampled ? ' (of the downsampled series)' : ''}</small></h2>
<div class="table-wrap"><table class="data" id="history-points">
<thead><tr><th scope="col">run</th><th scope="col">started</th><th scope="col">commit</th><th scope="col">branch</th><th scope="col">${metricName(q.metric)}</th><th scope="col">n</th><th scope="col">flags</th></tr></thead>
<tbody>${latest.map(
        (p) =>
          h`<tr><td><a href="/runs/${p.runId}">${p.runId}</a></td><td>${formatTime(p.startedAt)}</td><td><code>${shortSha(p.gitCommit)}</code></td><td>${p.gitBranch ?? '–'}</td><td class="num">${formatValue(p.value, unit ?? metricInfo(q.metric)?.unit)}</td><td class="num">${p.n}</td><td>${p.role === 'confirm' ? h`<span class="tag">confirm re-run</span>` : ''}${flagTags(p.flags, undefined)}</td></tr>`,
      )}</tbody></table></div>`
}
<p><a href="${link('/history', { ...base, metric: q.metric, x: q.x === 'time' ? 'commit' : 'time' })}">switch x axis</a></p>`,
  })
}

/**
 * The lines in words (the chart's legend draws the same on the canvas): one per branch, with its run
 * count, and a link to every branch when only one is shown.
 */
function linesLegend(m: HistoryModel): Html | '' {
  const q = m.query
  const role = q.role === 'run' ? undefined : q.role
  const others =
    m.view.branch === null
      ? h`<a href="${link('/history', { fingerprint: q.fingerprint, metric: q.metric, x: q.x, role })}">default branch only</a>`
      : h`<a href="${link('/history', { fingerprint: q.fingerprint, metric: q.metric, x: q.x, role, branch: ANY_BRANCH })}">every branch, one line each</a>`
  if (m.lines.length === 0) return h`<p class="legend">${others}</p>`
  return h`<p class="legend">Lines: <span id="history-lines">${m.lines.map(
    (l, i) =>
      h`${i > 0 ? ' · ' : ''}<span class="line-key" data-line="${l.key}">${l.key}</span> (${l.totalPoints} run${l.totalPoints === 1 ? '' : 's'})`,
  )}</span> — ${others}.</p>`
}

/** What the band and the markers mean, or how to get them when the series has none. */
function gateLegend(m: HistoryModel): Html {
  if (m.band.length === 0 && m.markers.length === 0)
    return h`<p class="legend" id="history-legend">No gate results are stored for this series and metric:
<code>bench gate --metric ${m.query.metric}</code> stores a limit band per gated run and opens alerts on
regressions; <code>bench changepoints</code> marks the runs where the series stepped.</p>`
  const worse =
    m.direction === 'higher'
      ? 'below the lower limit'
      : m.direction === 'lower'
        ? 'above the upper limit'
        : null
  return h`<p class="legend" id="history-legend"><strong>Shaded band</strong> between the dashed lines:
the lower and upper limit <code>bench gate</code> stored for each gated run (${m.band.length} run${m.band.length === 1 ? '' : 's'};
the most recent method per run). A point outside it is what the gate flags${worse ? h` — ${worse} is a regression` : ''}.
<strong>▲ Alerts</strong>: regressions the gate opened an alert for. <strong>◆ Change points</strong>: the first
run of a new regime, from <code>bench changepoints</code>. Click a point or marker to open its run.</p>`
}

function gateTables(m: HistoryModel): Html {
  const unit = m.unit ?? metricInfo(m.query.metric)?.unit
  const compare = (from: number | null, to: number) =>
    from === null ? '' : h` · <a href="${link('/compare', { a: from, b: to })}">compare with previous</a>`
  const alertTable =
    m.alerts.length === 0
      ? ''
      : h`<h2>Alerts <small>${m.alerts.length} on this series · <a href="${link('/alerts', { state: 'all', metric: m.query.metric })}">all ${m.query.metric} alerts</a></small></h2>
<div class="table-wrap"><table class="data" id="history-alerts">
<thead><tr><th scope="col">alert</th><th scope="col">run</th><th scope="col">state</th><th scope="col">candidate</th><th scope="col">baseline</th><th scope="col">limits</th><th scope="col">Δ%</th><th scope="col">p</th><th scope="col">method</th><th scope="col">reason</th></tr></thead>
<tbody>${[...m.alerts]
          .reverse()
          .map(
            (a) =>
              h`<tr data-alert-id="${a.id}"><td>#${a.id}</td><td><a href="/runs/${a.runId}">${a.runId}</a>${compare(a.previousRunId, a.runId)}</td><td>${alertState(a.state)}</td><td class="num">${formatValue(a.candidate, unit)}</td><td class="num">${formatValue(a.baseline, unit)}</td><td class="num">${formatLimits(a.lower, a.upper, unit)}</td><td class="num"><span class="delta worse">${formatDeltaPct(a.deltaPct)}</span></td><td class="num">${formatPValue(a.pValue)}</td><td>${a.method}</td><td>${a.reason}</td></tr>`,
          )}</tbody></table></div>`
  const changeTable =
    m.changePoints.length === 0
      ? ''
      : h`<h2>Change points <small>${m.changePoints.length} · first run of each new regime</small></h2>
<div class="table-wrap"><table class="data" id="history-change-points">
<thead><tr><th scope="col">run</th><th scope="col">mean before</th><th scope="col">mean after</th><th scope="col">change</th><th scope="col">p</th><th scope="col">computed</th></tr></thead>
<tbody>${[...m.changePoints]
          .reverse()
          .map(
            (c) =>
              h`<tr data-run-id="${c.runId}"><td><a href="/runs/${c.runId}">${c.runId}</a>${compare(c.previousRunId, c.runId)}</td><td class="num">${formatValue(c.meanBefore, unit)}</td><td class="num">${formatValue(c.meanAfter, unit)}</td><td class="num">${formatDeltaPct(c.changePct)}</td><td class="num">${formatPValue(c.pValue)}</td><td class="nowrap">${formatTime(c.computedAt)}</td></tr>`,
          )}</tbody></table></div>`
  return h`${alertTable}${changeTable}`
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
