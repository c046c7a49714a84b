/**
 * Procurement page: choose the scenario, load, targets, SLO and objective (GET forms, no script); charts of
 * the ranked objective and of a trade-off; the table; the recommendation; then the environments' hourly
 * prices, each saved by dashboard/public/procurement.js with the bearer token typed into the page.
 * @module
 */
import { raw } from 'hono/html'
import { PROCUREMENT_OBJECTIVES } from '../../db/queries/procurement.ts'
import {
  type FigureAxis,
  type FigureRow,
  rankedBarChart,
  type ScatterPlan,
  tradeOffScatter,
} from '../charts/procurement.ts'
import {
  FIGURE_INFO,
  OBJECTIVE_INFO,
  type PricedEnvironment,
  type ProcurementModel,
  type RankedTarget,
  sloText,
} from '../data/procurement.ts'
import { formatBytes, formatNumber, formatTime, formatValue } from './format.ts'
import { chartFigure, type Html, h, link, metricName, notice } from './html.ts'
import { page } from './layout.ts'

/** The trade-offs worth a scatter, in order of preference (the first two targets have both of). */
const SCATTER_PLANS: readonly ScatterPlan[] = [
  {
    id: 'cost-goodput',
    x: axisOf('outputTokensPerUsd', 'higher'),
    y: axisOf('goodputRequestsPerS', 'higher'),
  },
  {
    id: 'throughput-memory',
    x: axisOf('outputTokensPerS', 'higher'),
    y: axisOf('memoryBytes', 'lower'),
  },
]

function axisOf(figure: keyof typeof FIGURE_INFO, better: 'higher' | 'lower'): FigureAxis {
  const unit = FIGURE_INFO[figure].unit
  return { figure, title: figure, unit, better, ...(unit === 'bytes' ? { format: 'bytes' as const } : {}) }
}

export function procurementPage(m: ProcurementModel): Html {
  const title = m.scenario ? `Procurement: ${m.scenario}` : 'Procurement'
  if (m.scenario === null)
    return page({
      title,
      active: 'procurement',
      charts: false,
      body: notice(
        h`No completed runs yet. Run <code>bench run scenarios/quickstart.ts</code> (or <code>npm run quickstart</code>) and reload.`,
      ),
    })
  return page({
    title,
    active: 'procurement',
    scripts: ['writes.js', 'procurement.js'],
    body: h`<p class="lede">Which target to buy for: throughput per dollar-hour of its environment, per GB of peak
memory, and goodput at your SLO, recomputed from the stored requests. Targets compare within one load only.</p>
${pickers(m)}
${chooseForm(m)}
${m.rows.length === 0 ? notice('No target chosen.', 'warn') : charts(m)}
<h2>Targets <small>${m.rows.length} of ${m.candidates.length} at ${loadLabel(m)}; ranked by ${OBJECTIVE_INFO[m.rank].title}</small></h2>
${m.rows.length === 0 ? '' : table(m)}
<section class="recommendation" aria-label="recommendation" id="procurement-recommendation"><p>${m.recommendation.text}</p></section>
${prices(m.environments)}`,
  })
}

function loadLabel(m: ProcurementModel): string {
  return m.loads.find((l) => l.key === m.load)?.label ?? 'no load'
}

/** Query parameters that carry the reader's SLO and objective across a scenario or load change. */
function kept(m: ProcurementModel): Html {
  return h`${m.slo.source === 'query' && m.slo.ttftMs !== null ? h`<input type="hidden" name="sloTtftMs" value="${m.slo.ttftMs}">` : ''}
  ${m.slo.source === 'query' && m.slo.tpotMs !== null ? h`<input type="hidden" name="sloTpotMs" value="${m.slo.tpotMs}">` : ''}
  <input type="hidden" name="rank" value="${m.rank}">`
}

/** Scenario and load each in a form of its own: a change must not carry targets of another load along. */
function pickers(m: ProcurementModel): Html {
  return h`<div class="procurement-pickers">
<form class="filters" method="get" action="/procurement">
  <label>scenario
    <select name="scenario" data-autosubmit>
      ${m.scenarios.map((s) => h`<option value="${s.name}"${s.name === m.scenario ? raw(' selected') : ''}>${s.name} (${s.completedRuns})</option>`)}
    </select>
  </label>
  ${kept(m)}
  <noscript><button type="submit">show</button></noscript>
</form>
<form class="filters" method="get" action="/procurement">
  <input type="hidden" name="scenario" value="${m.scenario}">
  <label>load
    <select name="load" data-autosubmit>
      ${m.loads.map((l) => h`<option value="${l.key}"${l.key === m.load ? raw(' selected') : ''}>${l.label} (${l.targets} target${l.targets === 1 ? '' : 's'})</option>`)}
    </select>
  </label>
  ${kept(m)}
  <noscript><button type="submit">show</button></noscript>
</form>
</div>`
}

function chooseForm(m: ProcurementModel): Html {
  const bound = (v: number | null) => (v === null ? '' : String(v))
  return h`<form class="filters procurement-choose" method="get" action="/procurement" id="procurement-form">
  <input type="hidden" name="scenario" value="${m.scenario}">
  ${m.load ? h`<input type="hidden" name="load" value="${m.load}">` : ''}
  <fieldset class="targets">
    <legend>targets <small>(none ticked = all)</small></legend>
    ${m.candidates.map(
      (c) =>
        h`<label class="check"><input type="checkbox" name="targets" value="${c.fingerprint}"${c.selected ? raw(' checked') : ''}> ${c.label} <small>${c.hardware}</small></label>`,
    )}
  </fieldset>
  <label><span>SLO ${metricName('ttftMs')} ≤ (ms)</span>
    <input type="number" name="sloTtftMs" min="0" step="any" value="${bound(m.slo.ttftMs)}" placeholder="no bound">
  </label>
  <label><span>SLO ${metricName('tpotMs')} ≤ (ms)</span>
    <input type="number" name="sloTpotMs" min="0" step="any" value="${bound(m.slo.tpotMs)}" placeholder="no bound">
  </label>
  <label>rank by
    <select name="rank">
      ${PROCUREMENT_OBJECTIVES.map((o) => h`<option value="${o}"${o === m.rank ? raw(' selected') : ''}>${OBJECTIVE_INFO[o].title}</option>`)}
    </select>
  </label>
  <button type="submit">compare</button>
  <p class="slo-source">${sloSource(m)}</p>
</form>`
}

function sloSource(m: ProcurementModel): string {
  const text = sloText(m.slo)
  switch (m.slo.source) {
    case 'query':
      return `SLO: ${text}.`
    case 'scenario':
      return `SLO: ${text}, the scenario's own.`
    case 'default':
      return `SLO: ${text}, METRICS.md's example (the scenario sets none).`
    default: {
      const never: never = m.slo.source
      return never
    }
  }
}

/** A target's palette index: its place among the candidates by label, so ranking does not recolour it. */
function colourOf(m: ProcurementModel): (runId: number) => number {
  const index = new Map(m.candidates.map((c, i) => [c.runId, i]))
  return (runId) => index.get(runId) ?? 0
}

function charts(m: ProcurementModel): Html {
  const colour = colourOf(m)
  const rows: FigureRow[] = m.rows.map((r) => ({
    runId: r.runId,
    label: r.label,
    href: `/runs/${r.runId}`,
    colour: colour(r.runId),
    figures: { ...r.figures },
  }))
  const figure = m.objectiveFigure
  const bars = rankedBarChart(rows, axisOf(figure, 'higher'))
  const scatter = tradeOffScatter(rows, SCATTER_PLANS)
  const figures: Html[] = []
  if (bars)
    figures.push(
      chartFigure(
        {
          id: 'chart-objective',
          title: `${OBJECTIVE_INFO[m.rank].title} by target`,
          config: bars,
        },
        'tall',
      ),
    )
  if (scatter)
    figures.push(
      chartFigure(
        {
          id: `chart-tradeoff-${scatter.plan.id}`,
          title: `Trade-off: ${scatter.plan.x.figure} vs ${scatter.plan.y.figure}`,
          config: scatter.config,
        },
        'tall',
      ),
    )
  const missing = bars
    ? ''
    : notice(
        h`No chosen target has ${figureName(figure)} yet${figure === 'outputTokensPerSPerUsdHour' || figure === 'goodRequestsPerUsd' ? ': enter the hourly price of their environments below' : ''}.`,
        'warn',
      )
  return h`${missing}${figures.length > 0 ? h`<div class="chart-grid">${figures}</div>` : ''}`
}

/** A figure's name with its meaning as tooltip; `wrap` lets a column header break between words. */
function figureName(figure: keyof typeof FIGURE_INFO, wrap = false): Html {
  // Breaks before a capital that starts a word: `PerS` (per second) and `GB` stay whole.
  const text = wrap
    ? figure.split(/(?=[A-Z][a-z])/).map((part, i) => (i === 0 ? h`${part}` : h`<wbr>${part}`))
    : figure
  return h`<abbr class="metric" title="${FIGURE_INFO[figure].description}">${text}</abbr>`
}

const COLUMNS = [
  'outputTokensPerS',
  'memoryBytes',
  'usdPerHour',
  'outputTokensPerSPerUsdHour',
  'outputTokensPerUsd',
  'outputTokensPerSPerGB',
  'goodputRequestsPerS',
  'goodFraction',
  'goodRequestsPerUsd',
] as const

function cell(r: RankedTarget, figure: (typeof COLUMNS)[number], objective: string): Html {
  const v = r.figures[figure]
  if (v === null) return h`<td class="num missing" title="${r.why[figure] ?? ''}">–</td>`
  const unit = FIGURE_INFO[figure].unit
  const text =
    unit === 'bytes'
      ? formatBytes(v)
      : unit === 'ratio'
        ? formatValue(v, 'ratio')
        : figure === 'usdPerHour'
          ? `$${formatNumber(v)}`
          : formatNumber(v)
  const extra =
    figure === 'memoryBytes' && r.figures.memoryMetric
      ? h`<br><small>${r.figures.memoryMetric}</small>`
      : figure === 'goodFraction' && r.goodput.state === 'computed'
        ? h`<br><small>${r.goodput.good}/${r.goodput.attempted}</small>`
        : ''
  return h`<td class="num${figure === objective ? ' objective' : ''}" data-figure="${figure}">${text}${extra}</td>`
}

function table(m: ProcurementModel): Html {
  return h`<div class="table-wrap"><table class="data" id="procurement">
<thead><tr>
  <th scope="col">rank</th><th scope="col">target</th><th scope="col">variant · engine · hardware</th>
  ${COLUMNS.map((c) => {
    const unit = FIGURE_INFO[c].unit
    const shown = unit === 'bytes' || unit === 'ratio' ? '' : unit
    return h`<th scope="col"${c === m.objectiveFigure ? raw(' class="objective"') : ''}>${figureName(c, true)}${shown ? h`<br><small class="unit">${shown}</small>` : ''}</th>`
  })}
</tr></thead>
<tbody>
${m.rows.map(
  (r) => h`<tr data-run-id="${r.runId}" data-fingerprint="${r.fingerprint}" data-rank="${r.rank ?? ''}">
  <td class="num">${r.rank ?? h`<span class="unranked" title="${r.unrankedReason ?? ''}">–</span>`}</td>
  <td class="target"><a href="/runs/${r.runId}">${r.label}</a>${r.unrankedReason ? h`<div class="differs">not ranked: ${r.unrankedReason}</div>` : ''}</td>
  <td class="what">${r.model}<br><small>${r.engine} · ${r.hardware}</small></td>
  ${COLUMNS.map((c) => cell(r, c, m.objectiveFigure))}
</tr>`,
)}
</tbody></table></div>
<p class="legend">Goodput is recomputed from each run's stored requests at ${sloText(m.slo)} (METRICS.md: ok requests meeting every bound / window; goodFraction = good / (ok + errors)). Memory: peakRssBytes, else vramBytes; GB = 10⁹ bytes. <a href="${link('/', { scenario: m.scenario })}">Leaderboard of this scenario</a>.</p>`
}

function priceCell(e: PricedEnvironment): Html {
  if (!e.price) return h`<td class="num missing">none</td>`
  return h`<td class="num" data-price="${e.price.usdPerHour}">$${formatNumber(e.price.usdPerHour)}/h<br><small>${e.price.updatedBy ? `${e.price.updatedBy} · ` : ''}${formatTime(e.price.updatedAt)}${e.price.note ? h` · ${e.price.note}` : ''}</small></td>`
}

function prices(environments: readonly PricedEnvironment[]): Html | '' {
  if (environments.length === 0) return ''
  return h`<h2 id="prices">Hourly prices <small>per environment of these targets; US dollars per hour</small></h2>
<div class="token-panel">
  <label>bearer token <input type="password" id="bench-token" autocomplete="off" placeholder="BENCH_TOKEN"></label>
  <small>Kept in this tab only (sessionStorage); sent as <code>Authorization: Bearer …</code> with each price.</small>
</div>
<div class="table-wrap"><table class="data" id="environment-prices">
<thead><tr><th scope="col">environment</th><th scope="col">targets</th><th scope="col">price</th><th scope="col">set a price</th></tr></thead>
<tbody>
${environments.map(
  (e) => h`<tr data-environment-id="${e.id}">
  <td>${e.hardware}<br><small>#${e.id} · ${e.os}</small></td>
  <td>${e.targets.join(', ')}</td>
  ${priceCell(e)}
  <td><form class="price-form" data-price-for="${e.id}">
    <label>$/h <input type="number" name="usdPerHour" min="0" step="any" required value="${e.price?.usdPerHour ?? ''}"></label>
    <label>note <input type="text" name="note" maxlength="200" value="${e.price?.note ?? ''}"></label>
    <label>by <input type="text" name="by" maxlength="200"></label>
    <button type="submit">save</button>
    <output class="price-status" role="status"></output>
  </form></td>
</tr>`,
)}
</tbody></table></div>`
}
