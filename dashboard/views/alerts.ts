/**
 * Alerts page: alerts per metric and state as a chart, then the list (newest first) with each alert's
 * run, series, limits and lifecycle, and Acknowledge / Dismiss buttons on active ones. The buttons are
 * wired by /public/alerts.js, which sends the bearer token typed into this page (kept in sessionStorage
 * only); without a token the server refuses and the page shows why.
 * @module
 */
import { raw } from 'hono/html'
import { alertStates } from '../../db/schema.ts'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { alertsByMetricChart } from '../charts/alerts.ts'
import type { AlertsModel } from '../data/alerts.ts'
import { MAX_ALERTS_LIMIT } from '../params.ts'
import { alertState, formatLimits, formatPValue } from './alert-cells.ts'
import { formatDeltaPct, formatTime, formatValue, shortSha } from './format.ts'
import { chartFigure, filterSelect, type Html, h, link, metricName, notice } from './html.ts'
import { page } from './layout.ts'

function moreAlerts(m: AlertsModel): Html {
  const q = m.query
  const more = Math.min(MAX_ALERTS_LIMIT, q.limit * 2)
  return h`<p class="legend">More alerts match: showing the newest ${m.alerts.length}.
${more > q.limit ? h`<a href="${link('/alerts', { state: q.state, metric: q.metric, limit: more })}">show ${more}</a>` : 'Narrow the filters to see older ones.'}</p>`
}

export function alertsPage(m: AlertsModel): Html {
  const q = m.query
  const total = m.counts.reduce((n, c) => n + c.count, 0)
  const chart =
    total === 0
      ? notice(
          h`No alerts yet. <code>bench gate</code> opens one for each regression it finds (see db/gate/README.md).`,
        )
      : chartFigure(
          {
            id: 'chart-alerts',
            title: `Alerts per metric by state (${total} in all, ${m.activeCount} active)`,
            config: alertsByMetricChart(m.counts),
          },
          'short',
        )
  return page({
    title: 'Alerts',
    active: 'alerts',
    scripts: ['writes.js', 'alerts.js'],
    body: h`<p class="lede">Regressions <code>bench gate</code> found, newest first. <strong>Acknowledge</strong> one
  that is real and owned; <strong>dismiss</strong> one that is noise or intended. Each links to its run and to
  the history of its series, where the gate's limit band and the alert are drawn.</p>
${chart}
<form class="filters" method="get" action="/alerts">
  <label>state
    <select name="state" data-autosubmit>
      ${[...alertStates, 'all'].map((s) => h`<option value="${s}"${s === q.state ? raw(' selected') : ''}>${s}</option>`)}
    </select>
  </label>
  ${filterSelect('metric', 'metric', m.metrics, q.metric)}
  <label>limit <input name="limit" value="${q.limit}" inputmode="numeric" size="4"></label>
  <button type="submit">filter</button>
  <a class="reset" href="/alerts">reset</a>
</form>
<div class="alert-actions side" id="alert-actions">
  <label>token <input type="password" id="alert-token" autocomplete="off" spellcheck="false" size="18"
    placeholder="BENCH_TOKEN" aria-describedby="alert-token-help"></label>
  <label>your name <input id="alert-by" maxlength="100" size="12" placeholder="optional"></label>
  <label>note <input id="alert-note" maxlength="2000" size="28" placeholder="optional: why"></label>
  <small id="alert-token-help">Acknowledging or dismissing needs the token the dashboard was started with
  (<code>BENCH_TOKEN</code>). It stays in this tab's sessionStorage: never in a cookie or a URL.</small>
  <p id="alert-status" role="status" aria-live="polite"></p>
</div>
${
  m.alerts.length === 0
    ? notice(
        q.state === 'active'
          ? 'No active alerts.'
          : `No ${q.state === 'all' ? '' : `${q.state} `}alerts match.`,
        'info',
      )
    : h`<div class="table-wrap"><table class="data" id="alerts">
<thead><tr>
  <th scope="col">alert</th><th scope="col">run</th><th scope="col">scenario · target</th><th scope="col">metric</th>
  <th scope="col">candidate</th><th scope="col">baseline<br><small class="unit">limits</small></th>
  <th scope="col">Δ%<br><small class="unit">p</small></th><th scope="col">reason</th>
  <th scope="col">state<br><small class="unit">opened · acted · note</small></th>
</tr></thead>
<tbody>
${m.alerts.map((a) => {
  const unit = metricInfo(a.metric)?.unit
  return h`<tr data-alert-id="${a.id}" data-state="${a.state}">
  <td>#${a.id}</td>
  <td><a href="/runs/${a.runId}">${a.runId}</a><br><small><code>${shortSha(a.gitCommit)}</code>${a.gitBranch ? ` ${a.gitBranch}` : ''}</small></td>
  <td>${a.scenarioName}<br><small>${a.targetName}${a.loadIndex > 0 ? ` · step ${a.loadIndex}` : ''}</small></td>
  <td>${metricName(a.metric)}<br><small><a href="${link('/history', { fingerprint: a.fingerprint, metric: a.metric })}">history</a></small></td>
  <td class="num">${formatValue(a.candidate, unit)}</td>
  <td class="num">${formatValue(a.baseline, unit)}<br><small>${formatLimits(a.lower, a.upper, unit)}</small></td>
  <td class="num"><span class="delta worse">${formatDeltaPct(a.deltaPct)}</span><br><small>p ${formatPValue(a.pValue)}</small></td>
  <td class="reason"><small>${a.method}: ${a.reason}</small></td>
  <td class="lifecycle">${alertState(a.state)}
    <small>opened ${formatTime(a.createdAt)}</small>
    <small data-field="acted">${a.actedAt ? `${a.state} by ${a.actedBy ?? '–'} · ${formatTime(a.actedAt)}` : ''}</small>
    <small data-field="note">${a.note ?? ''}</small>
    <span class="alert-buttons" data-field="actions">${
      a.state === 'active'
        ? h`<button type="button" data-alert-action="acknowledge" data-alert-id="${a.id}">Acknowledge</button>
      <button type="button" class="secondary" data-alert-action="dismiss" data-alert-id="${a.id}">Dismiss</button>`
        : ''
    }</span></td>
</tr>`
})}
</tbody></table></div>
${m.hasMore ? moreAlerts(m) : ''}`
}`,
  })
}
