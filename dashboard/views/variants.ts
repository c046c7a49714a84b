/**
 * The variant × engine table page: scenario, load step (the scenario's first by default, said on the
 * page), branch and role pickers; then one row per variant (method, quant, bits, size, parent) with a
 * group of columns per engine (out tok/s, TTFT p50, peak memory, acc ± stderr, KLD ± SE, top-1 where
 * measured), every header a sort link (server-side, works without JS and from the keyboard). Flagged cells
 * are marked as the leaderboard marks its rows.
 * @module
 */
import { raw } from 'hono/html'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { familyColours } from '../charts/palette.ts'
import { paretoChart } from '../charts/pareto.ts'
import { flagText } from '../data/scope.ts'
import { defaultVariantDir, type VariantCell, type VariantRow, type VariantsModel } from '../data/variants.ts'
import type { VariantFigure, VariantSort } from '../params.ts'
import { formatBytes, formatNumber, formatValue, headerUnit } from './format.ts'
import { chartFigure, familyKey, type Html, h, link, notice } from './html.ts'
import { page } from './layout.ts'
import { loadLine, loadSelect } from './loads.ts'
import { branchSelect, flagTags, roleSelect, scopeLine } from './scope.ts'

/** Short headers of the figures (the metric's catalogue description is the tooltip). */
const FIGURE_HEADERS: Record<VariantFigure, string> = {
  outputTokensPerS: 'out tok/s',
  ttftMsP50: 'TTFT p50',
  peakRssBytes: 'peak RSS',
  vramBytes: 'VRAM',
  acc: 'acc ± stderr',
  klDivergence: 'KLD ± SE',
  top1Agreement: 'top-1',
}

export function variantsPage(m: VariantsModel): Html {
  const title = m.scenario ? `Variants × engines: ${m.scenario}` : 'Variants × engines'
  if (m.scenario === null)
    return page({
      title,
      active: 'variants',
      charts: false,
      body: notice(
        h`No completed runs yet. Run <code>bench run scenarios/quickstart.ts</code> (or <code>npm run quickstart</code>) and reload.`,
      ),
    })
  const charts = tradeOffs(m)
  return page({
    title,
    active: 'variants',
    charts: charts.length > 0,
    body: h`${filterForm(m)}
${scopeLine(m.view)}
${loadLine(m.loads, m.load, m.loadChosen)}
${charts.length > 0 ? h`<div class="chart-grid">${charts}</div>` : ''}
${m.flaggedCells > 0 ? h`<p class="flag-note" id="flagged-note">${m.flaggedCells} flagged cell${m.flaggedCells === 1 ? '' : 's'} (client-saturated, or errors over 1 %): their figures are not a best; marked in the table.</p>` : ''}
${m.rows.length === 0 ? notice('No runs of this scenario in this view.', 'warn') : table(m)}
<p class="note">Per cell: the latest run in this view of the variant on that engine at the load step shown (out tok/s, TTFT p50); acc ± stderr from its target's accuracy run and KLD ± SE (nats) and top-1 agreement from its quality run against the reference (≈: an endpoint's, from its top-k lists: approximate), joined by target, engine and variant; peak memory the highest over those runs. ${m.joined.accuracy} accuracy and ${m.joined.quality} quality run${m.joined.quality === 1 ? '' : 's'} joined. Variants in other formats (F32 GGUF, FP32 ONNX) share a row; a row per target when two would share a cell.</p>`,
  })
}

/**
 * What a variant costs against what it keeps, one point per cell (a variant on an engine) at this load
 * step: out tok/s against KLD vs the reference, and against acc, each when two cells have both; the
 * Pareto front marked and labelled (charts/pareto.ts), colours by variant family as on every page.
 */
function tradeOffs(m: VariantsModel): Html[] {
  const plots: { id: string; figure: 'klDivergence' | 'acc'; better: 'lower' | 'higher'; title: string }[] = [
    { id: 'chart-variants-kld', figure: 'klDivergence', better: 'lower', title: 'klDivergence (nats)' },
    { id: 'chart-variants-acc', figure: 'acc', better: 'higher', title: 'acc (ratio)' },
  ]
  return plots.flatMap((plot) => {
    const points = m.rows.flatMap((r) =>
      Object.entries(r.cells).flatMap(([engine, c]) => {
        const x = c.figures.outputTokensPerS
        const y = c.figures[plot.figure]
        if (x === undefined || y === undefined) return []
        return [
          {
            x,
            y,
            label: `${c.targetName} · ${engine}`,
            family: r.family,
            ...(c.runId !== null ? { href: `/runs/${c.runId}` } : {}),
            ...(c.flags.length > 0
              ? { flagged: c.flags.map((f) => flagText(f, c.errorRate)).join(', ') }
              : {}),
          },
        ]
      }),
    )
    if (points.length < 2) return []
    return [
      chartFigure({
        id: plot.id,
        title: `Pareto: outputTokensPerS vs ${plot.figure}`,
        config: paretoChart({
          points,
          x: { title: 'outputTokensPerS (tokens/s)', better: 'higher', unit: 'tokens/s' },
          y: {
            title: plot.title,
            better: plot.better,
            ...(plot.figure === 'acc' ? { format: 'percent' as const } : { unit: 'nats' }),
          },
        }),
      }),
    ]
  })
}

function filterForm(m: VariantsModel): Html {
  return h`<form class="filters" method="get" action="/variants">
  <label>scenario
    <select name="scenario" data-autosubmit data-resets="load sortEngine">
      ${m.scenarios.map((s) => h`<option value="${s.name}"${s.name === m.scenario ? raw(' selected') : ''}>${s.name} (${s.completedRuns})</option>`)}
    </select>
  </label>
  ${loadSelect(m.loads, m.load, false)}
  ${branchSelect(m.view, m.branches, m.filters.branch)}
  ${roleSelect(m.view.role)}
  <input type="hidden" name="sort" value="${m.sort}">
  ${m.sortEngine !== null ? h`<input type="hidden" name="sortEngine" value="${m.sortEngine}">` : ''}
  <input type="hidden" name="dir" value="${m.dir}">
  <button type="submit">apply</button>
  <a class="reset" href="${link('/variants', { scenario: m.scenario })}">reset</a>
</form>`
}

/** Query of a link that keeps the page's scenario, load, branch and role. */
function baseParams(m: VariantsModel): Record<string, string | undefined> {
  return {
    scenario: m.scenario ?? undefined,
    load: m.loadChosen === 'asked' ? (m.load ?? undefined) : undefined,
    branch: m.filters.branch,
    role: m.view.role === 'run' ? undefined : m.view.role,
  }
}

function sortLink(m: VariantsModel, sort: VariantSort, engine: string | null, label: Html | string): Html {
  const active = m.sort === sort && m.sortEngine === engine
  const dir = active ? (m.dir === 'asc' ? 'desc' : 'asc') : defaultVariantDir(sort)
  const href = link('/variants', {
    ...baseParams(m),
    sort,
    sortEngine: engine ?? undefined,
    dir,
  })
  const arrow = active ? (m.dir === 'asc' ? ' ▲' : ' ▼') : ''
  return h`<a href="${href}" data-sort="${sort}"${engine !== null ? h` data-sort-engine="${engine}"` : ''}>${label}${arrow}</a>`
}

function ariaSort(m: VariantsModel, sort: VariantSort, engine: string | null): Html | '' {
  return m.sort === sort && m.sortEngine === engine
    ? raw(` aria-sort="${m.dir === 'asc' ? 'ascending' : 'descending'}"`)
    : ''
}

function figureHeader(f: VariantFigure): Html {
  const unit = headerUnit(metricInfo(f)?.unit)
  const info = metricInfo(f)
  const name = info
    ? h`<abbr class="metric" title="${info.description}">${FIGURE_HEADERS[f]}</abbr>`
    : h`${FIGURE_HEADERS[f]}`
  return unit ? h`${name}<br><small class="unit">${unit}</small>` : name
}

function table(m: VariantsModel): Html {
  const colours = familyColours(m.rows.map((r) => r.family))
  const figuresOf = (e: string) => m.engineFigures[e] ?? []
  return h`<p class="sort-any" id="sort-any">Sort by the best over engines: ${m.figures.map((f, i) => h`${i > 0 ? ' · ' : ''}${sortLink(m, f, null, FIGURE_HEADERS[f])}`)}</p>
${familyKey(colours)}
<div class="table-wrap"><table class="data variants" id="variants">
<thead>
<tr>
  <th scope="col" rowspan="2"${ariaSort(m, 'variant', null)}>${sortLink(m, 'variant', null, 'variant')}</th>
  <th scope="col" rowspan="2">method</th>
  <th scope="col" rowspan="2">quant</th>
  <th scope="col" rowspan="2"${ariaSort(m, 'bits', null)}>${sortLink(m, 'bits', null, 'bits')}</th>
  <th scope="col" rowspan="2"${ariaSort(m, 'sizeBytes', null)}>${sortLink(m, 'sizeBytes', null, 'size')}</th>
  <th scope="col" rowspan="2">parent</th>
  ${m.engines.map((e) => h`<th scope="colgroup" colspan="${figuresOf(e).length}" class="engine" data-engine="${e}">${e}</th>`)}
</tr>
<tr>
  ${m.engines.map((e) => figuresOf(e).map((f) => h`<th scope="col"${ariaSort(m, f, e)}>${sortLink(m, f, e, figureHeader(f))}</th>`))}
</tr>
</thead>
<tbody>
${m.rows.map((r) => row(m, r, colours))}
</tbody></table></div>`
}

function range(v: { min: number; max: number } | null, format: (x: number) => string): string {
  if (v === null) return '–'
  return format(v.min) === format(v.max) ? format(v.min) : `${format(v.min)}–${format(v.max)}`
}

function row(m: VariantsModel, r: VariantRow, colours: ReadonlyMap<string, string>): Html {
  const colour = colours.get(r.family)
  return h`<tr data-row="${r.key}" data-family="${r.family}"${r.flags.length > 0 ? raw(` data-flags="${r.flags.join(' ')}" class="flagged"`) : ''}>
  <th scope="row" class="target">${colour ? h`<svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${colour}"/></svg> ` : ''}${r.label}</th>
  <td>${r.method ?? '–'}</td>
  <td>${r.quant ?? '–'}</td>
  <td class="num">${range(r.bits, (x) => formatNumber(Math.round(x * 10) / 10))}</td>
  <td class="num">${range(r.sizeBytes, formatBytes)}</td>
  <td>${r.parents.join(', ') || '–'}</td>
  ${m.engines.map((e) => {
    const c = r.cells[e]
    const figures = m.engineFigures[e] ?? []
    return c ? cells(figures, e, c) : figures.map(() => h`<td class="num none" data-engine="${e}">–</td>`)
  })}
</tr>`
}

function cells(figures: readonly VariantFigure[], engine: string, c: VariantCell): Html[] {
  const where = `${c.targetName} · ${c.engine} · ${c.hardware}`
  const flagged = c.flags.length > 0
  return figures.map((f, i) => {
    const v = c.figures[f]
    const text = cellText(f, c)
    // Each figure links to the run it comes from: the load step, the accuracy run or the quality run.
    const from =
      f === 'acc'
        ? c.accuracyRunId
        : f === 'klDivergence' || f === 'top1Agreement'
          ? c.qualityRunId
          : f === 'peakRssBytes' || f === 'vramBytes'
            ? null
            : c.runId
    const content = v !== undefined && from !== null ? h`<a href="/runs/${from}">${text}</a>` : text
    const marks = i === 0 ? flagTags(c.flags, c.errorRate) : ''
    return h`<td class="num${flagged ? ' flagged-cell' : ''}" data-engine="${engine}" data-figure="${f}"${v !== undefined ? raw(` data-value="${v}"`) : ''}${flagged && i === 0 ? raw(` data-flags="${c.flags.join(' ')}"`) : ''} title="${where}">${content}${marks}</td>`
  })
}

function cellText(f: VariantFigure, c: VariantCell): string {
  const v = c.figures[f]
  if (v === undefined) return '–'
  switch (f) {
    case 'acc': {
      const se = c.figures.accStderr
      return `${formatValue(v, 'ratio')}${se !== undefined ? ` ± ${formatValue(se, 'ratio')}` : ''}`
    }
    case 'klDivergence': {
      const se = c.figures.klDivergenceSe
      // From an endpoint's top-k lists: approximate (harness/quality/top-k.ts), as the CLI table marks it.
      const approx = c.figures.qualityTopK !== undefined ? '≈ ' : ''
      return `${approx}${sig(v)}${se !== undefined ? ` ± ${sig(se)}` : ''}`
    }
    case 'top1Agreement':
      return formatValue(v, 'ratio')
    case 'peakRssBytes':
    case 'vramBytes':
      return formatBytes(v)
    default:
      return formatNumber(v)
  }
}

/** 3 significant digits; below 0.001 in exponent form (KLDs of close variants are ~1e-5 nats). */
function sig(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v)
  return Math.abs(v) < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(3)))
}
