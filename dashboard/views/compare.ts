/**
 * Compare page: overlaid TTFT and TPOT CDFs of two runs, then every figure side by side with Δ%, coloured
 * only where Mann–Whitney on the per-request samples finds a significant shift the same way.
 * @module
 */
import { cdfChart } from '../charts/cdf.ts'
import type { ComparedMetric, CompareModel } from '../data/compare.ts'
import { formatDeltaPct, formatTime, formatValue, shortSha } from './format.ts'
import { chartFigure, type Html, h, metricName, notice } from './html.ts'
import { page } from './layout.ts'

const BASE = 0
const CANDIDATE = 1

/** Figures the first table shows; the rest sit in a collapsed section. */
const SUMMARY = new Set([
  'outputTokensPerS',
  'requestsPerS',
  'ttftMsP50',
  'ttftMsP95',
  'ttftMsP99',
  'tpotMsP50',
  'tpotMsP95',
  'tpotMsP99',
  'e2eMsP50',
  'e2eMsP95',
  'errorRate',
  'goodputRequestsPerS',
  'peakRssBytes',
  'vramBytes',
  'promptTokensPerS',
  'genTokensPerS',
  'acc',
])

function figuresTable(id: string, m: CompareModel, rows: readonly ComparedMetric[]): Html {
  return h`<div class="table-wrap"><table class="data" id="${id}">
<thead><tr><th scope="col">figure</th><th scope="col">A (run ${m.base.id})</th><th scope="col">B (run ${m.candidate.id})</th><th scope="col">Δ%</th><th scope="col">test</th></tr></thead>
<tbody>${rows.map(
    (
      x,
    ) => h`<tr data-metric="${x.name}" data-verdict="${x.verdict}"><th scope="row">${metricName(x.name)}</th>
  <td class="num">${formatValue(x.base, x.unit)}</td><td class="num">${formatValue(x.candidate, x.unit)}</td>
  <td class="num"><span class="delta ${x.verdict}">${formatDeltaPct(x.deltaPct)}</span></td>${significanceCell(x, m.alpha)}</tr>`,
  )}</tbody></table></div>`
}

function significanceCell(m: ComparedMetric, alpha: number): Html {
  const s = m.significance
  if (s.state === 'not-tested') return h`<td class="sig" title="${s.reason}">not tested</td>`
  const p = s.pTwoSided < 0.001 ? 'p < 0.001' : `p = ${s.pTwoSided.toFixed(3)}`
  const what = `Mann–Whitney U on per-request ${s.sample} (n = ${s.baseN} vs ${s.candidateN}), two-sided, α = ${alpha}`
  return h`<td class="sig" title="${what}">${p}${s.significant ? '' : ' (n.s.)'}</td>`
}

export function comparePage(m: CompareModel): Html {
  const side = (r: CompareModel['base'], label: string) =>
    h`<div class="side"><h3>${label}: <a href="/runs/${r.id}">run ${r.id}</a></h3>
<p>${r.targetName} · ${r.scenarioName} · <span class="state state-${r.state}">${r.state}</span><br>
${formatTime(r.startedAt)} · <code>${shortSha(r.gitCommit)}</code> ${r.gitBranch ?? ''}</p></div>`
  const cdf = (metric: 'ttftMs' | 'tpotMs', title: string) => {
    const d = m.cdf[metric]
    if (d.base.length === 0 && d.candidate.length === 0) return ''
    return chartFigure({
      id: `chart-${metric}-cdf`,
      title,
      config: cdfChart({
        metric,
        unit: 'ms',
        series: [
          { label: `A: run ${m.base.id}`, points: d.base, colour: BASE },
          { label: `B: run ${m.candidate.id}`, points: d.candidate, colour: CANDIDATE },
        ],
      }),
    })
  }
  const summary = m.metrics.filter((x) => SUMMARY.has(x.name))
  const rest = m.metrics.filter((x) => !SUMMARY.has(x.name))
  return page({
    title: `Compare run ${m.base.id} → run ${m.candidate.id}`,
    active: 'compare',
    body: h`<div class="two-col">${side(m.base, 'A (base)')}${side(m.candidate, 'B (candidate)')}</div>
${
  m.comparable
    ? notice('Same fingerprint: these runs measure the same thing.')
    : notice(
        h`Different fingerprints — the figures are not like for like. A: ${m.differsBy.base.join(' · ') || '?'}; B: ${m.differsBy.candidate.join(' · ') || '?'}.`,
        'warn',
      )
}
<div class="chart-grid">${cdf('ttftMs', 'TTFT CDF, A vs B')}${cdf('tpotMs', 'TPOT CDF, A vs B')}</div>
<h2>Figures</h2>
<p class="legend"><span class="delta better">better</span> <span class="delta worse">worse</span> — coloured only when significant at α = ${m.alpha} (Mann–Whitney U on per-request samples); run-level figures are not tested.</p>
${figuresTable('compare', m, summary)}
${rest.length > 0 ? h`<details><summary>All other figures (${rest.length})</summary>${figuresTable('compare-all', m, rest)}</details>` : ''}
<p>Requests: A ${m.counts.base.ok} ok, ${m.counts.base.errors} errors · B ${m.counts.candidate.ok} ok, ${m.counts.candidate.errors} errors.</p>`,
  })
}

export function comparePickerPage(a: number | undefined, b: number | undefined): Html {
  return page({
    title: 'Compare two runs',
    active: 'compare',
    charts: false,
    body: h`<p class="lede">Pick two runs by id (or tick A and B on the <a href="/runs">runs</a> page).</p>
<form class="filters" method="get" action="/compare">
  <label>A (base) <input name="a" value="${a ?? ''}" inputmode="numeric" size="8" required></label>
  <label>B (candidate) <input name="b" value="${b ?? ''}" inputmode="numeric" size="8" required></label>
  <button type="submit">compare</button>
</form>`,
  })
}
