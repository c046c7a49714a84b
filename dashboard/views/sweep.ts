/**
 * Sweep page: one `bench sweep` — the endpoint, model, SLO, how the search ended and its knee; the
 * panels against offered rate (throughput, TTFT, TPOT, any other SLO metric; charts/sweep.ts) with the
 * SLO bounds and the knee drawn; and every step with its figures, verdict and reason, linking to its run.
 * Also the "sweep N step k" tag the runs list and the run page put on a step's run.
 * @module
 */
import { rateText, type SweepChartSlo, sweepPanels } from '../charts/sweep.ts'
import type { SweepModel, SweepStepModel } from '../data/sweeps.ts'
import { formatCell, formatTime } from './format.ts'
import { chartFigure, type Html, h, metricName, notice } from './html.ts'
import { page } from './layout.ts'

/** `ttftMsP95 ≤ 500 ms, tpotMsP95 ≤ 50 ms`. */
export function sloText(slo: readonly SweepChartSlo[]): string {
  return slo.length === 0 ? '–' : slo.map((s) => `${s.name} ≤ ${s.maxMs} ms`).join(', ')
}

/** A link to the sweep a run is a step of (steps 1-based, as `bench sweep` prints them); '' otherwise. */
export function sweepTag(sweepId: number | null, sweepStep: number | null): Html | '' {
  if (sweepId === null) return ''
  const step = sweepStep === null ? '' : ` step ${sweepStep + 1}`
  return h` <a class="tag sweep-tag" href="/sweeps/${sweepId}" title="a step of bench sweep ${sweepId}">sweep ${sweepId}${step}</a>`
}

/** What `end` means (harness/sweep/search.ts SearchEnd). */
const END_TEXT: Record<string, string> = {
  bracketed: 'the knee was bracketed to the tolerance',
  'max-rate': 'even --max-rate passed: the knee is at least that',
  'lowest-fails': 'even the lowest rate failed',
  'max-steps': '--max-steps ran out before the tolerance was reached',
  aborted: 'the sweep was interrupted',
}

function kneeSentence(m: SweepModel): Html {
  const { sweep } = m
  if (m.orphaned)
    return h`The sweep's process ended during step ${m.steps.length} without recording how the search ended: no knee was recorded; the steps below are what it measured.`
  if (sweep.state === 'running' && sweep.end === null)
    return h`The sweep is still running (${m.steps.length} steps so far).`
  const end = sweep.end === null ? '' : (END_TEXT[sweep.end] ?? sweep.end)
  if (sweep.kneeRatePerS === null) return h`No knee: no step passed every bound${end ? h` (${end})` : ''}.`
  const first =
    sweep.firstFailingRatePerS === null
      ? ''
      : h`; the lowest failing rate above it is <strong>${rateText(sweep.firstFailingRatePerS)}</strong>`
  return h`Knee: <strong id="knee">${rateText(sweep.kneeRatePerS)}</strong> requests/s, the highest offered rate within every bound${first}${end ? h` (${end})` : ''}.`
}

function verdictCell(s: SweepStepModel): Html {
  const saturated = s.clientSaturated
    ? h` <span class="tag flag" title="the runner found the client, not the server, the limit of this step (clientSaturated)">client saturated</span>`
    : ''
  if (s.verdict === 'running') return h`<span class="state state-running">running</span>`
  if (s.verdict === 'pass') return h`<span class="state state-completed">pass</span>${saturated}`
  return h`<span class="state state-failed">fail</span>${saturated} <span class="reason">${s.reason ?? ''}</span>`
}

export function sweepPage(m: SweepModel): Html {
  const { sweep, slo } = m
  // A step still running has no verdict yet: drawn without a fail mark.
  const charted = m.steps.flatMap((s) =>
    s.ratePerS === null
      ? []
      : [
          {
            runId: s.runId,
            step: s.step,
            ratePerS: s.ratePerS,
            pass: s.verdict !== 'fail',
            reason: s.reason,
            figures: s.figures,
          },
        ],
  )
  const panels =
    charted.length > 0 ? sweepPanels({ steps: charted, slo, kneeRatePerS: sweep.kneeRatePerS }) : []
  const extra = slo.map((s) => s.name).filter((n) => n !== 'ttftMsP95' && n !== 'tpotMsP95')
  const options = sweep.options as Record<string, unknown>
  return page({
    title: `Sweep ${sweep.id}: ${sweep.model}`,
    active: 'sweeps',
    charts: panels.length > 0,
    body: h`<p class="lede">
  ${m.orphaned ? h`<span class="state state-interrupted" title="stored as running; its last step was interrupted">interrupted</span>` : h`<span class="state state-${sweep.state}">${sweep.state}</span>`}
  ${kneeSentence(m)}
  <a href="/api/sweeps/${sweep.id}">JSON</a> · <a href="/sweeps">all sweeps</a>
</p>
<table class="kv" id="sweep-facts"><caption>Sweep</caption><tbody>
  <tr><th scope="row">endpoint</th><td><code>${sweep.baseUrl}</code></td></tr>
  <tr><th scope="row">model</th><td>${sweep.model}</td></tr>
  <tr><th scope="row">SLO</th><td>${sloText(slo)}</td></tr>
  <tr><th scope="row">arrivals</th><td>${sweep.arrivals}</td></tr>
  <tr><th scope="row">search</th><td>${Object.entries(options)
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ')}</td></tr>
  <tr><th scope="row">ended</th><td>${sweep.end ?? '–'}</td></tr>
  <tr><th scope="row">scenario / target</th><td>${sweep.scenarioName} / ${sweep.targetName}</td></tr>
  <tr><th scope="row">started</th><td>${formatTime(sweep.startedAt)}${sweep.finishedAt ? h`, finished ${formatTime(sweep.finishedAt)}` : ''}</td></tr>
  ${sweep.label ? h`<tr><th scope="row">label</th><td>${sweep.label}</td></tr>` : ''}
</tbody></table>
${
  panels.length > 0
    ? h`<div class="chart-grid">${panels.map((p) => chartFigure({ id: `chart-sweep-${p.key}`, title: p.title, config: p.config }))}</div>`
    : notice('No step has an offered rate to chart yet.', 'warn')
}
<h2>Steps</h2>
${
  m.steps.length === 0
    ? notice('No step of this sweep is stored.', 'warn')
    : h`<div class="table-wrap"><table class="data" id="sweep-steps">
<thead><tr>
  <th scope="col">step</th>
  <th scope="col">offered rate<br><small class="unit">requests/s</small></th>
  <th scope="col">achieved ${metricName('requestsPerS', true)}<br><small class="unit">requests/s</small></th>
  <th scope="col">${metricName('ttftMsP95', true)}<br><small class="unit">ms</small></th>
  <th scope="col">${metricName('tpotMsP95', true)}<br><small class="unit">ms</small></th>
  ${extra.map((n) => h`<th scope="col">${metricName(n, true)}<br><small class="unit">ms</small></th>`)}
  <th scope="col">${metricName('goodputRequestsPerS', true)}<br><small class="unit">requests/s</small></th>
  <th scope="col">${metricName('outputTokensPerS', true)}<br><small class="unit">tokens/s</small></th>
  <th scope="col">verdict</th>
  <th scope="col">run</th>
</tr></thead>
<tbody>
${m.steps.map(
  (
    s,
  ) => h`<tr data-step="${s.step}" data-verdict="${s.verdict}" data-run-id="${s.runId}"${sweep.kneeRatePerS !== null && s.ratePerS === sweep.kneeRatePerS ? h` class="knee-step"` : ''}>
  <td class="num">${s.step + 1}</td>
  <td class="num">${s.ratePerS === null ? '–' : rateText(s.ratePerS)}</td>
  <td class="num">${formatCell(s.figures.requestsPerS, 'requests/s')}</td>
  <td class="num">${formatCell(s.figures.ttftMsP95, 'ms')}</td>
  <td class="num">${formatCell(s.figures.tpotMsP95, 'ms')}</td>
  ${extra.map((n) => h`<td class="num">${formatCell(s.figures[n], 'ms')}</td>`)}
  <td class="num">${formatCell(s.figures.goodputRequestsPerS, 'requests/s')}</td>
  <td class="num">${formatCell(s.figures.outputTokensPerS, 'tokens/s')}</td>
  <td>${verdictCell(s)}</td>
  <td><a href="/runs/${s.runId}">run ${s.runId}</a></td>
</tr>`,
)}
</tbody></table></div>`
}`,
  })
}
