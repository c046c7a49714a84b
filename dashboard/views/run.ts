/**
 * Run page: identity (fingerprint dimensions, environment), percentiles, TTFT and TPOT CDFs, output tokens
 * per second over the run, errors by kind, every other figure, and the scenario as run.
 * @module
 */
import { barChart } from '../charts/bar.ts'
import { cdfChart } from '../charts/cdf.ts'
import { tokensOverTimeChart } from '../charts/tokens-over-time.ts'
import { PERCENTILE_COLUMNS, type RunModel } from '../data/run.ts'
import { formatCell, formatTime, formatValue } from './format.ts'
import { chartFigure, type Html, h, link, metricName, notice } from './html.ts'
import { page } from './layout.ts'

export function runPage(m: RunModel): Html {
  const { run, environment, variant, variantLineage, requests } = m.detail
  const errorKinds = Object.entries(requests.errorsByKind).sort((a, b) => b[1] - a[1])
  const charts: Html[] = []
  if (m.ttftCdf.length > 0)
    charts.push(
      chartFigure({
        id: 'chart-ttft-cdf',
        title: 'TTFT distribution (CDF)',
        config: cdfChart({
          metric: 'ttftMs',
          unit: 'ms',
          series: [{ label: `run ${run.id}`, points: m.ttftCdf }],
        }),
      }),
    )
  if (m.tpotCdf.length > 0)
    charts.push(
      chartFigure({
        id: 'chart-tpot-cdf',
        title: 'TPOT distribution (CDF)',
        config: cdfChart({
          metric: 'tpotMs',
          unit: 'ms',
          series: [{ label: `run ${run.id}`, points: m.tpotCdf }],
        }),
      }),
    )
  if (m.outputTokensPerSecond.length > 0)
    charts.push(
      chartFigure({
        id: 'chart-tokens-per-second',
        title:
          'Output tokens per second over the run (1-s buckets; first token at t1, the rest spread to tLast)',
        config: tokensOverTimeChart(m.outputTokensPerSecond),
      }),
    )
  if (errorKinds.length > 0)
    charts.push(
      chartFigure(
        {
          id: 'chart-errors',
          title: 'Errors by kind',
          config: barChart({
            title: 'requests (count)',
            colours: 'per-row',
            integer: true,
            rows: errorKinds.map(([kind, n]) => ({ label: kind, value: n })),
          }),
        },
        'short',
      ),
    )
  const dims = Object.entries(m.dimensions)
  return page({
    title: `Run ${run.id}: ${run.targetName}`,
    active: 'runs',
    charts: charts.length > 0,
    body: h`<p class="lede">
  <span class="state state-${run.state}">${run.state}</span>
  scenario <a href="${link('/', { scenario: run.scenarioName })}">${run.scenarioName}</a>,
  started ${formatTime(run.startedAt)}${run.finishedAt ? h`, finished ${formatTime(run.finishedAt)}` : ''}.
  ${run.label ? h`Label: <strong class="run-label">${run.label}</strong>.` : ''}
  <a href="${link('/history', { fingerprint: run.fingerprint, metric: 'outputTokensPerS' })}">History of this series</a> ·
  <a href="${link('/runs', { scenario: run.scenarioName, target: run.targetName })}">other runs of this target</a> ·
  <a href="/api/runs/${run.id}">JSON</a>
</p>
${run.error ? notice(h`Error: ${run.error}`, 'warn') : ''}
${run.imported ? notice(h`Imported from ${run.imported.format} (${run.imported.file}). ${run.imported.notes.join(' ')}`) : ''}
<p>Requests: ${requests.total} (${requests.ok} ok, ${requests.errors} errors).</p>
${charts.length > 0 ? h`<div class="chart-grid">${charts}</div>` : notice('No per-request rows to chart.')}
${
  m.percentiles.length === 0
    ? ''
    : h`<h2>Percentiles</h2>
<div class="table-wrap"><table class="data" id="percentiles">
<thead><tr><th scope="col">distribution</th><th scope="col">unit</th><th scope="col">n</th>${PERCENTILE_COLUMNS.map((s) => h`<th scope="col">${s === 'P999' ? 'P99.9' : s}</th>`)}</tr></thead>
<tbody>${m.percentiles.map(
        (p) =>
          h`<tr><th scope="row"><abbr class="metric" title="${p.description}">${p.name}</abbr></th><td>${p.unit}</td><td class="num">${p.n}</td>${PERCENTILE_COLUMNS.map((s) => h`<td class="num">${formatCell(p.stats[s], p.unit)}</td>`)}</tr>`,
      )}</tbody></table></div>`
}
<h2>Figures</h2>
<div class="table-wrap"><table class="data" id="figures">
<thead><tr><th scope="col">name</th><th scope="col">value</th><th scope="col">better</th><th scope="col">n</th></tr></thead>
<tbody>${m.scalars.map(
      (s) =>
        h`<tr><th scope="row">${metricName(s.name)}</th><td class="num">${formatValue(s.value, s.unit)}</td><td>${s.direction === 'none' ? '' : s.direction}</td><td class="num">${s.n}</td></tr>`,
    )}</tbody></table></div>
<h2>Identity</h2>
<div class="two-col">
<table class="kv" id="dimensions"><caption>Fingerprint <code>${run.fingerprint.slice(0, 16)}</code></caption>
<tbody>${dims.map(([k, v]) => h`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}
<tr><th scope="row">git</th><td><code>${run.gitCommit ?? '–'}</code> ${run.gitBranch ?? ''}</td></tr>
${variantLineage.length > 0 ? h`<tr><th scope="row">derived from</th><td>${variantLineage.map((v) => `${v.name}${v.quantLabel ? ` ${v.quantLabel}` : ''} (${v.method})`).join(' ← ')}</td></tr>` : ''}
${variant ? h`<tr><th scope="row">variant</th><td>${variant.name} · ${variant.method} · ${variant.format}${variant.quantLabel ? ` · ${variant.quantLabel}` : ''}${variant.sizeBytes ? ` · ${formatValue(variant.sizeBytes, 'bytes')}` : ''}</td></tr>` : ''}
</tbody></table>
<table class="kv" id="environment"><caption>Environment</caption>
<tbody>${
      environment
        ? h`<tr><th scope="row">hardware</th><td>${m.hardware}</td></tr>
<tr><th scope="row">RAM</th><td>${formatValue(environment.ramBytes, 'bytes')}</td></tr>
<tr><th scope="row">OS</th><td>${environment.os}</td></tr>
<tr><th scope="row">Node</th><td>${environment.nodeVersion}</td></tr>
${Object.entries(environment.engineVersions).map(([k, v]) => h`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}`
        : h`<tr><td>not recorded</td></tr>`
    }
<tr><th scope="row">device</th><td>${run.engineDevice ?? '–'}</td></tr>
</tbody></table>
</div>
<h2>Scenario as run</h2>
<pre class="json" id="scenario-json">${JSON.stringify(run.scenario, null, 2)}</pre>`,
  })
}
