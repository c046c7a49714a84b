/**
 * Leaderboard page: scenario and dimension filters, recommendation, throughput bars and Pareto scatter(s),
 * then the table, sortable through links in its headers (server-side).
 * @module
 */
import { raw } from 'hono/html'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { barChart } from '../charts/bar.ts'
import { familyColours } from '../charts/palette.ts'
import { paretoChart } from '../charts/pareto.ts'
import type { ValueFormat } from '../charts/types.ts'
import {
  ACCURACY_METRIC,
  ACCURACY_STDERR_METRIC,
  type Choice,
  defaultDir,
  type LeaderboardModel,
  type LeaderboardTarget,
  type ParetoPlot,
} from '../data/leaderboard.ts'
import { flagText } from '../data/scope.ts'
import type { LeaderboardSort } from '../params.ts'
import { formatCell, formatTime, formatValue, headerUnit, shortSha } from './format.ts'
import { chartFigure, familyKey, filterSelect, type Html, h, link, metricName, notice } from './html.ts'
import { page } from './layout.ts'
import { loadLine, loadSelect } from './loads.ts'
import { branchSelect, flagTags, roleSelect, scopeLine } from './scope.ts'

const ALWAYS = ['outputTokensPerS', 'ttftMsP50', 'ttftMsP95', 'tpotMsP50', 'tpotMsP95', 'errorRate'] as const
const WHEN_PRESENT = ['goodputRequestsPerS', 'peakRssBytes', 'vramBytes', ACCURACY_METRIC] as const

export function leaderboardPage(m: LeaderboardModel): Html {
  const title = m.scenario ? `Leaderboard: ${m.scenario}` : 'Leaderboard'
  if (m.scenario === null)
    return page({
      title,
      active: 'leaderboard',
      charts: false,
      body: notice(
        h`No completed runs yet. Run <code>bench run scenarios/quickstart.ts</code> (or <code>npm run quickstart</code>) and reload.`,
      ),
    })
  const columns = [...ALWAYS, ...WHEN_PRESENT.filter((c) => m.present.includes(c))]
  return page({
    title,
    active: 'leaderboard',
    body: h`${filterForm(m)}
${scopeLine(m.view)}
${loadLine(m.loads, m.load, m.loadChosen)}
${recommendationLine(m)}
${m.rows.length === 0 ? notice('No rows match these filters.', 'warn') : charts(m)}
<h2>Targets <small>${m.rows.length} of ${m.totalRows} (latest completed run per target and fingerprint)</small></h2>
${m.rows.length === 0 ? '' : table(m, columns)}`,
  })
}

function filterForm(m: LeaderboardModel): Html {
  return h`<form class="filters" method="get" action="/">
  <label>scenario
    <select name="scenario" data-autosubmit data-resets="load">
      ${m.scenarios.map((s) => h`<option value="${s.name}"${s.name === m.scenario ? raw(' selected') : ''}>${s.name} (${s.completedRuns})</option>`)}
    </select>
  </label>
  ${m.loads.length > 0 ? loadSelect(m.loads, m.load, m.loads.length > 1) : ''}
  ${branchSelect(m.view, m.options.branch, m.filters.branch)}
  ${roleSelect(m.view.role)}
  ${filterSelect('engine', 'engine', m.options.engine, m.filters.engine)}
  ${filterSelect('hardware', 'hardware', m.options.hardware, m.filters.hardware)}
  ${filterSelect('method', 'method', m.options.method, m.filters.method)}
  ${filterSelect('quant', 'quant', m.options.quant, m.filters.quant)}
  <input type="hidden" name="sort" value="${m.sort}">
  <input type="hidden" name="dir" value="${m.dir}">
  <button type="submit">apply</button>
  <a class="reset" href="${link('/', { scenario: m.scenario })}">reset</a>
</form>`
}

function choice(label: string, c: Choice | undefined): Html | '' {
  if (!c) return ''
  const value = c.metric === ACCURACY_METRIC ? formatValue(c.value * 100, '%') : formatValue(c.value, c.unit)
  // Only when every row with the figure is flagged is the choice a flagged one: it carries its marks.
  return h`<li><span class="rec-label">${label}</span> <a href="/runs/${c.runId}">${c.label}</a> <span class="rec-value">${value} ${metricName(c.metric)}</span>${c.flags ? h` <span class="flag-note">(every row with it is flagged:</span>${flagTags(c.flags, c.errorRate)}<span class="flag-note">)</span>` : ''}</li>`
}

function recommendationLine(m: LeaderboardModel): Html | '' {
  const r = m.recommendation
  if (m.rows.length === 0) return ''
  const plot = m.pareto[0]
  return h`<section class="recommendation" aria-label="recommendation">
  <ul>
    ${choice('Best throughput', r.bestThroughput)}
    ${choice('Lowest latency', r.lowestLatency)}
    ${choice('Least memory', r.leastMemory)}
    ${choice('Best accuracy', r.bestAccuracy)}
    ${plot ? h`<li><span class="rec-label">Pareto set</span> (${plotTitle(plot)}): ${r.paretoSet.labels.join(', ')}</li>` : ''}
  </ul>
  ${r.flaggedRows > 0 ? h`<p class="flag-note" id="flagged-note">${r.flaggedRows} flagged row${r.flaggedRows === 1 ? '' : 's'} (client-saturated, or errors over 1 %) left out of these picks and the Pareto fronts; they stay in the table, marked.</p>` : ''}
</section>`
}

function plotTitle(p: ParetoPlot): string {
  return `${p.x.metric} vs ${p.y.metric}`
}

function formatOf(metric: string): ValueFormat | undefined {
  if (metric === ACCURACY_METRIC) return 'percent'
  const unit = metricInfo(metric)?.unit
  return unit === 'bytes' ? 'bytes' : unit === 'ratio' ? 'percent' : undefined
}

function axisTitle(metric: string): string {
  const unit = metricInfo(metric)?.unit
  return unit ? `${metric} (${unit})` : metric
}

function charts(m: LeaderboardModel): Html {
  const withThroughput = m.rows.filter((r) => r.metrics.outputTokensPerS !== undefined)
  const byId = new Map(m.rows.map((r) => [r.runId, r]))
  // Colour by variant family, the same on every page (charts/palette.ts); names are labels and tooltips.
  const colours = familyColours(m.rows.map((r) => r.family))
  if (withThroughput.length === 0)
    return notice(
      h`No row has ${metricName('outputTokensPerS')} (imported tool results may carry only engine throughput); the table lists what they have.`,
    )
  const bars = chartFigure(
    {
      id: 'chart-throughput',
      title: 'Output tokens per second by target',
      config: barChart({
        title: axisTitle('outputTokensPerS'),
        unit: 'tokens/s',
        colours: 'per-row',
        rows: withThroughput.map((r) => ({
          // ⚠ on a flagged row's bar: the table says why (client-saturated, errors over 1 %).
          label: r.flags.length > 0 ? `${r.label} ⚠` : r.label,
          value: r.metrics.outputTokensPerS!.value,
          href: `/runs/${r.runId}`,
          ...(colours.has(r.family) ? { fill: colours.get(r.family)! } : {}),
        })),
      }),
    },
    withThroughput.length > 8 ? 'tall' : 'normal',
    familyKey(colours),
  )
  const scatters = m.pareto.map((p) =>
    chartFigure({
      id: `chart-pareto-${p.id}`,
      title: `Pareto: ${plotTitle(p)}`,
      config: paretoChart({
        x: { title: axisTitle(p.x.metric), better: p.x.better, unit: metricInfo(p.x.metric)?.unit ?? '' },
        y: {
          title: axisTitle(p.y.metric),
          better: p.y.better,
          unit: metricInfo(p.y.metric)?.unit ?? '',
          ...(formatOf(p.y.metric) ? { format: formatOf(p.y.metric)! } : {}),
        },
        points: p.runIds.map((id) => {
          const r = byId.get(id)!
          return {
            x: r.metrics[p.x.metric]!.value,
            y: r.metrics[p.y.metric]!.value,
            href: `/runs/${id}`,
            label: r.label,
            family: r.family,
            ...(r.flags.length > 0
              ? { flagged: r.flags.map((f) => flagText(f, r.metrics.errorRate?.value)).join(', ') }
              : {}),
          }
        }),
      }),
    }),
  )
  return h`<div class="chart-grid">${bars}${scatters}</div>`
}

/** The role as a query value: absent for the default (`run`). */
function roleParam(m: LeaderboardModel): string | undefined {
  return m.view.role === 'run' ? undefined : m.view.role
}

function sortHeader(m: LeaderboardModel, key: LeaderboardSort, label: Html | string): Html {
  const active = m.sort === key
  const dir = active ? (m.dir === 'asc' ? 'desc' : 'asc') : defaultDir(key)
  const href = link('/', { ...m.filters, role: roleParam(m), scenario: m.scenario, sort: key, dir })
  const arrow = active ? (m.dir === 'asc' ? ' ▲' : ' ▼') : ''
  return h`<th scope="col"${active ? raw(` aria-sort="${m.dir === 'asc' ? 'ascending' : 'descending'}"`) : ''}><a href="${href}" data-sort="${key}">${label}${arrow}</a></th>`
}

function cell(r: LeaderboardTarget, metric: string): Html {
  const v = r.metrics[metric]
  if (metric === ACCURACY_METRIC && v) {
    const se = r.metrics[ACCURACY_STDERR_METRIC]
    return h`<td class="num">${formatValue(v.value * 100, '%')}${se ? h` <small>± ${formatValue(se.value * 100, '%')}</small>` : ''}</td>`
  }
  return h`<td class="num">${formatCell(v?.value, v?.unit ?? metricInfo(metric)?.unit)}</td>`
}

function table(m: LeaderboardModel, columns: readonly LeaderboardSort[]): Html {
  return h`<div class="table-wrap"><table class="data" id="leaderboard">
<thead><tr>
  ${sortHeader(m, 'target', 'target')}
  <th scope="col">variant · engine · hardware</th><th scope="col">commit</th>
  ${columns.map((c) => {
    const unit = headerUnit(metricInfo(c)?.unit)
    return sortHeader(
      m,
      c,
      unit ? h`${metricName(c, true)}<br><small class="unit">${unit}</small>` : metricName(c, true),
    )
  })}
  <th scope="col">series</th>
</tr></thead>
<tbody>
${m.rows.map(
  (
    r,
  ) => h`<tr data-run-id="${r.runId}" data-target="${r.targetName}"${r.flags.length > 0 ? raw(` data-flags="${r.flags.join(' ')}" class="flagged"`) : ''}>
  <td class="target"><a href="/runs/${r.runId}">${r.targetName}</a>${flagTags(r.flags, r.metrics.errorRate?.value)}${r.role === 'confirm' ? h` <span class="tag" title="a bench gate --confirm re-run">confirm re-run</span>` : ''}${r.differsBy.length > 0 ? h`<div class="differs">${r.differsBy.join(' · ')}</div>` : ''}</td>
  <td class="what">${r.model}${r.method ? h` <span class="tag">${r.method}</span>` : ''}<br><small>${r.engine} · ${r.hardware}</small></td>
  <td title="${formatTime(r.startedAt)}"><code>${shortSha(r.gitCommit)}</code>${r.gitBranch ? h` <small>${r.gitBranch}</small>` : ''}</td>
  ${columns.map((c) => cell(r, c))}
  <td><a href="${link('/history', { fingerprint: r.fingerprint, metric: m.sort === 'target' ? 'outputTokensPerS' : m.sort, branch: m.filters.branch, role: roleParam(m) })}">${r.runsInSeries} run${r.runsInSeries === 1 ? '' : 's'}</a></td>
</tr>`,
)}
</tbody></table></div>`
}
