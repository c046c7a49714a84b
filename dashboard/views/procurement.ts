/**
 * Procurement page: choose the scenario, branch, load, model, targets, SLO and objective (GET forms, no
 * script); charts of the ranked objective and of a trade-off; the table; the recommendation and each
 * model's best; then what to price: endpoint targets' serving machines and native targets' environments,
 * each saved by dashboard/public/procurement.js with the bearer token typed into the page.
 * @module
 */
import { raw } from 'hono/html'
import { PROCUREMENT_OBJECTIVES, SET_SERVING_HINT } from '../../db/queries/procurement.ts'
import {
  type FigureAxis,
  type FigureRow,
  rankedBarChart,
  type ScatterPlan,
  tradeOffScatter,
} from '../charts/procurement.ts'
import {
  ANY_MODEL,
  type EndpointTarget,
  FIGURE_INFO,
  OBJECTIVE_INFO,
  type PricedEnvironment,
  type ProcurementModel,
  type RankedTarget,
  type ServingSource,
  servingText,
  sloText,
} from '../data/procurement.ts'
import { formatBytes, formatNumber, formatTime, formatValue } from './format.ts'
import { chartFigure, type Html, h, link, metricName, notice } from './html.ts'
import { page } from './layout.ts'
import { branchSelect, roleSelect, scopeLine } from './scope.ts'

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
    body: h`<p class="lede">Which machine to buy for a model: throughput per dollar-hour of the machine that serves it
(a native engine's environment, an endpoint's serving identity — never the client that ran bench), per GB of peak
memory, and goodput at your SLO, recomputed from the stored requests. Targets compare within one load and one model.</p>
${scopeLine(m.view)}
${pickers(m)}
${chooseForm(m)}
${m.rows.length === 0 ? notice('No target chosen.', 'warn') : charts(m)}
<h2>Targets <small>${m.rows.length} of ${m.candidates.length} at ${loadLabel(m)}${modelHeading(m)}; ranked by ${OBJECTIVE_INFO[m.rank].title}</small></h2>
${m.rows.length === 0 ? '' : table(m)}
<section class="recommendation" aria-label="recommendation" id="procurement-recommendation"><p>${m.recommendation.text}</p></section>
${modelBests(m)}
${m.endpoints.length > 0 || m.environments.length > 0 ? tokenPanel() : ''}
${endpoints(m)}
${prices(m.environments)}`,
  })
}

function modelName(m: ProcurementModel): string {
  return m.models.find((x) => x.key === m.model)?.name ?? String(m.model)
}

function modelHeading(m: ProcurementModel): string {
  if (m.model === null) return ''
  return m.model === ANY_MODEL ? ', every model together' : ` serving model ${modelName(m)}`
}

/** Each model's best target under the objective: the answer to "for model X, which machine?". */
function modelBests(m: ProcurementModel): Html | '' {
  if (m.models.length < 2) return ''
  const unit = FIGURE_INFO[m.objectiveFigure].unit
  const href = (key: string) =>
    link('/procurement', {
      scenario: m.scenario,
      load: m.load,
      model: key,
      rank: m.rank,
      ...(m.branch !== undefined ? { branch: m.branch } : {}),
      ...(m.view.role !== 'run' ? { role: m.view.role } : {}),
    })
  return h`<h2 id="models">Per model <small>best by ${OBJECTIVE_INFO[m.rank].title}; ranked only within a model</small></h2>
<div class="table-wrap"><table class="data" id="procurement-models">
<thead><tr><th scope="col">model</th><th scope="col">from</th><th scope="col">targets</th><th scope="col">best</th><th scope="col">${figureName(m.objectiveFigure)}${unit ? h` <small class="unit">${unit}</small>` : ''}</th></tr></thead>
<tbody>
${m.models.map(
  (x) => h`<tr data-model="${x.key}"${x.key === m.model ? raw(' class="current"') : ''}>
  <td><a href="${href(x.key)}">${x.name}</a></td><td><small>${x.source}</small></td><td class="num">${x.targets}</td>
  <td>${x.best ? h`<a href="/runs/${x.best.runId}">${x.best.label}</a>` : h`<span class="missing">none ranked</span>`}</td>
  <td class="num">${x.best ? formatNumber(x.best.value) : '–'}</td>
</tr>`,
)}
</tbody></table></div>
<p class="legend">A model is its variant's family (fixture manifests and scenario variants set one), else its root variant, else the served model id: a random-weights fixture is another model than a trained one. <a href="${href(ANY_MODEL)}">Rank every model together</a>.</p>`
}

function loadLabel(m: ProcurementModel): string {
  return m.loads.find((l) => l.key === m.load)?.label ?? 'no load'
}

/** Query parameters that carry the reader's SLO and objective across a scenario or load change. */
function kept(m: ProcurementModel, scope = true): Html {
  return h`${m.slo.source === 'query' && m.slo.ttftMs !== null ? h`<input type="hidden" name="sloTtftMs" value="${m.slo.ttftMs}">` : ''}
  ${m.slo.source === 'query' && m.slo.tpotMs !== null ? h`<input type="hidden" name="sloTpotMs" value="${m.slo.tpotMs}">` : ''}
  ${m.slo.source === 'query' && m.slo.e2eMs !== null ? h`<input type="hidden" name="sloE2eMs" value="${m.slo.e2eMs}">` : ''}
  ${scope && m.branch !== undefined ? h`<input type="hidden" name="branch" value="${m.branch}">` : ''}
  ${scope && m.view.role !== 'run' ? h`<input type="hidden" name="role" value="${m.view.role}">` : ''}
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
  ${branchSelect(m.view, m.branches, m.branch)}
  ${roleSelect(m.view.role)}
  ${kept(m, false)}
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
${
  m.models.length > 0
    ? h`<form class="filters" method="get" action="/procurement">
  <input type="hidden" name="scenario" value="${m.scenario}">
  ${m.load ? h`<input type="hidden" name="load" value="${m.load}">` : ''}
  <label>model
    <select name="model" data-autosubmit>
      ${m.models.map((x) => h`<option value="${x.key}"${x.key === m.model ? raw(' selected') : ''}>${x.name} (${x.targets} target${x.targets === 1 ? '' : 's'})</option>`)}
      <option value="${ANY_MODEL}"${m.model === ANY_MODEL ? raw(' selected') : ''}>every model together</option>
    </select>
  </label>
  ${kept(m)}
  <noscript><button type="submit">show</button></noscript>
</form>`
    : ''
}
</div>`
}

function chooseForm(m: ProcurementModel): Html {
  const bound = (v: number | null) => (v === null ? '' : String(v))
  return h`<form class="filters procurement-choose" method="get" action="/procurement" id="procurement-form">
  <input type="hidden" name="scenario" value="${m.scenario}">
  ${m.load ? h`<input type="hidden" name="load" value="${m.load}">` : ''}
  ${m.model ? h`<input type="hidden" name="model" value="${m.model}">` : ''}
  ${m.branch !== undefined ? h`<input type="hidden" name="branch" value="${m.branch}">` : ''}
  ${m.view.role !== 'run' ? h`<input type="hidden" name="role" value="${m.view.role}">` : ''}
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
  <label><span>SLO ${metricName('e2eMs')} ≤ (ms)</span>
    <input type="number" name="sloE2eMs" min="0" step="any" value="${bound(m.slo.e2eMs)}" placeholder="no bound">
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
        h`No chosen target has ${figureName(figure)} yet${figure === 'outputTokensPerSPerUsdHour' || figure === 'goodRequestsPerUsd' ? ': price their serving machines below (endpoints: a serving identity; native engines: their environment)' : ''}.`,
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
  if (v === null)
    return h`<td class="num missing" data-figure="${figure}" title="${r.why[figure] ?? ''}">–</td>`
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
  <th scope="col">rank</th><th scope="col">target</th><th scope="col">variant · engine · serving machine</th>
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
  <td class="what">${r.variant}<br><small>${r.engine} · <span class="serving" data-serving-source="${r.servingSource}" title="${SOURCE_TEXT[r.servingSource]}">${r.hardware}</span>${m.model === ANY_MODEL ? h` · model ${r.model.name}` : ''}</small></td>
  ${COLUMNS.map((c) => cell(r, c, m.objectiveFigure))}
</tr>`,
)}
</tbody></table></div>
<p class="legend">Goodput is recomputed from each run's stored requests at ${sloText(m.slo)} (METRICS.md: ok requests meeting every bound / window; goodFraction = good / (ok + errors)). Memory: peakRssBytes, else vramBytes; GB = 10⁹ bytes. <a href="${link('/', { scenario: m.scenario })}">Leaderboard of this scenario</a>.</p>`
}

const SOURCE_TEXT: Readonly<Record<ServingSource, string>> = {
  environment: 'The machine that ran this native engine (the run’s environment), priced below.',
  dashboard: 'The endpoint’s serving identity, set on this page.',
  scenario: 'The endpoint’s serving identity declared in the scenario (targets[].serving).',
  'unpriced endpoint': `The run’s environment is only the client that ran bench: ${SET_SERVING_HINT}.`,
}

function servingCell(e: EndpointTarget): Html {
  const s = e.identity
  if (!s) return h`<td class="missing">unpriced<br><small>${SET_SERVING_HINT}</small></td>`
  const price = s.usdPerHour !== null ? `$${formatNumber(s.usdPerHour)}/h` : 'no price'
  const from =
    s.source === 'dashboard'
      ? h`set here${s.updatedBy ? ` by ${s.updatedBy}` : ''}${s.updatedAt ? ` · ${formatTime(s.updatedAt)}` : ''}${s.note ? ` · ${s.note}` : ''}${s.overrides ? ` (overrides the scenario’s ${servingText(s.overrides)}${s.overrides.usdPerHour !== null ? `, $${formatNumber(s.overrides.usdPerHour)}/h` : ''})` : ''}`
      : h`from the scenario`
  return h`<td${s.usdPerHour !== null ? raw(` data-price="${s.usdPerHour}"`) : ''}>${servingText(s)} · ${price}<br><small>${from}</small></td>`
}

/** Endpoint targets and their serving machines, each settable with the bearer token. */
function endpoints(m: ProcurementModel): Html | '' {
  if (m.endpoints.length === 0) return ''
  return h`<h2 id="serving">Endpoint serving machines <small>what serves each endpoint target; its run's environment is only the client</small></h2>
<div class="table-wrap"><table class="data" id="endpoint-serving">
<thead><tr><th scope="col">target</th><th scope="col">model</th><th scope="col">serving machine</th><th scope="col">set it</th></tr></thead>
<tbody>
${m.endpoints.map((e) => {
  const s = e.identity
  return h`<tr data-target="${e.targetName}">
  <td>${e.labels.join(', ')}</td>
  <td>${e.model}</td>
  ${servingCell(e)}
  <td><form class="price-form serving-form" data-serving-for="${e.targetName}" data-scenario="${m.scenario}">
    <label>hardware <input type="text" name="hardware" maxlength="200" required value="${s?.hardware ?? ''}" placeholder="AWS g6.xlarge"></label>
    <label>GPU <input type="text" name="gpu" maxlength="200" value="${s?.gpu ?? ''}" placeholder="NVIDIA L4"></label>
    <label>GPUs <input type="number" name="gpuCount" min="1" step="1" value="${s?.gpuCount ?? ''}"></label>
    <label>$/h <input type="number" name="usdPerHour" min="0" step="any" required value="${s?.usdPerHour ?? ''}"></label>
    <label>note <input type="text" name="note" maxlength="200" value="${s?.source === 'dashboard' ? (s.note ?? '') : ''}"></label>
    <label>by <input type="text" name="by" maxlength="200"></label>
    <button type="submit">save</button>
    <output class="price-status" role="status"></output>
  </form></td>
</tr>`
})}
</tbody></table></div>`
}

function tokenPanel(): Html {
  return h`<div class="token-panel">
  <label>bearer token <input type="password" id="bench-token" autocomplete="off" placeholder="BENCH_TOKEN"></label>
  <small>For the prices below. Kept in this tab only (sessionStorage); sent as <code>Authorization: Bearer …</code> with each price.</small>
</div>`
}

function priceCell(e: PricedEnvironment): Html {
  if (!e.price) return h`<td class="num missing">none</td>`
  return h`<td class="num" data-price="${e.price.usdPerHour}">$${formatNumber(e.price.usdPerHour)}/h<br><small>${e.price.updatedBy ? `${e.price.updatedBy} · ` : ''}${formatTime(e.price.updatedAt)}${e.price.note ? h` · ${e.price.note}` : ''}</small></td>`
}

function prices(environments: readonly PricedEnvironment[]): Html | '' {
  if (environments.length === 0) return ''
  return h`<h2 id="prices">Hourly prices <small>per environment of the native targets (the machine that ran them); US dollars per hour</small></h2>
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
