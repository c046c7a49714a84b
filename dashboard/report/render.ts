/**
 * A report model as one HTML document: a header saying what was selected, the variant table, the Pareto
 * charts (throughput against TTFT p50, and against accuracy when measured) and the TTFT, TPOT and chunk-gap CDFs built
 * by the dashboard's chart builders, the runs and their environments, and the metric definitions. Every
 * interpolated value is escaped (views/html.ts `h`); chart configs travel as script-safe JSON; Chart.js,
 * charts.js and the stylesheets are inlined and allowed by hash in a CSP that forbids every fetch.
 * @module
 */
import { raw } from 'hono/html'
import { cdfChart } from '../charts/cdf.ts'
import { type ParetoPoint, paretoChart } from '../charts/pareto.ts'
import type { ChartSpec } from '../charts/types.ts'
import { flagText } from '../data/scope.ts'
import { formatBytes, formatNumber, formatTime, shortSha } from '../views/format.ts'
import { chartFigure, type Html, h, metricName, notice } from '../views/html.ts'
import { flagTags } from '../views/scope.ts'
import type { ReportAssets } from './assets.ts'
import type { ReportModel } from './model.ts'
import type { VariantRow } from './variant-rows.ts'

/** The join rules of the variant table, said under it. */
export const VARIANT_TABLE_NOTE =
  'One row per target (a variant on an engine, on one machine) and invocation, joining the runs one `bench run` made of it: TTFT p50 of its first latency load, out tok/s the highest over its latency loads, peak RSS the highest over its runs, acc ± stderr of its accuracy run, KLD ± SE and top-1 agreement of its quality run (vs the scenario’s quality reference).'

export function renderReport(m: ReportModel, assets: ReportAssets): string {
  const csp = [
    "default-src 'none'",
    `script-src ${assets.scripts.map((s) => s.hash).join(' ')}`,
    `style-src ${assets.style.hash}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ')
  const title = `bench report · ${m.scenarios.join(', ') || 'no runs'}`
  const charts = reportCharts(m)
  const doc = h`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bench report">
<title>${title}</title>
<style>${raw(assets.style.body)}</style>
</head>
<body>
<header class="report-head">
  <h1>${title}</h1>
  <dl>
    <dt>Selected</dt><dd id="selection">${m.selection}</dd>
    <dt>Runs</dt><dd id="run-ids">${m.runIds.join(', ')}</dd>
    <dt>Scenario</dt><dd>${m.scenarios.join(', ')}</dd>
    <dt>Branch</dt><dd>${m.branches.join(', ')}</dd>
    <dt>Generated</dt><dd id="generated-at">${formatTime(m.generatedAt)}</dd>
  </dl>
</header>
<main>
<h2>Variants <small>${m.variants.length} target${m.variants.length === 1 ? '' : 's'}</small></h2>
${variantTable(m.variants)}
<p class="flag-note">${codeSpans(VARIANT_TABLE_NOTE)}</p>
<h2>Trade-offs and latency distributions</h2>
${charts.length === 0 ? notice('No latency run with completed requests among the selected runs: nothing to chart.', 'warn') : h`<div class="chart-grid">${charts.map(figure)}</div>`}
<h2>Runs <small>${m.runs.length}</small></h2>
${runsTable(m)}
<h2>Environments <small>the machine each run’s client (and in-process engine) ran on</small></h2>
${environmentsTable(m)}
<footer class="definitions" id="definitions">
  <p>Definitions (harness/METRICS.md; times in ms; percentiles by linear interpolation). A flagged row (client-saturated, or errors over 1 %) is never on a Pareto front: drawn as a hollow cross.</p>
  <dl>${m.definitions.map((d) => h`<dt>${d.name}</dt><dd>${codeSpans(d.text)}</dd>`)}</dl>
  <p>Self-contained: no network; charts drawn by Chart.js, inlined below.</p>
</footer>
</main>
${assets.scripts.map((s) => h`<script>${raw(s.body)}</script>`)}
</body>
</html>
`
  return String(doc)
}

/**
 * Legend entries past which a chart takes the grid's full width and the tall box: at quickstart size (24
 * latency runs) a half-width CDF's legend left the plot ~60 px high and dropped entries.
 */
const CROWDED_LEGEND = 8

function figure(spec: ChartSpec): Html {
  return spec.config.data.datasets.length > CROWDED_LEGEND
    ? h`<div class="chart-wide">${chartFigure(spec, 'tall')}</div>`
    : chartFigure(spec)
}

/** `a \`b\` c` with the backticked parts as <code>, everything escaped. */
function codeSpans(text: string): Html {
  return h`${text.split('`').map((part, i) => (i % 2 === 1 ? h`<code>${part}</code>` : h`${part}`))}`
}

const cell = (v: number | null, format: (v: number) => string = formatNumber): Html =>
  v === null ? h`<td class="num">–</td>` : h`<td class="num" data-value="${v}">${format(v)}</td>`

const ratio = (v: number) => `${formatNumber(v * 100)} %`
/** KLDs of close variants are ~1e-5 nats: 3 significant digits, exponent form below 0.001. */
const nats = (v: number) =>
  v === 0 ? '0' : Math.abs(v) < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(3)).toString()
const plusMinus = (v: number | null, se: number | null, format: (v: number) => string): Html =>
  v === null
    ? h`<td class="num">–</td>`
    : h`<td class="num" data-value="${v}">${format(v)}${se === null ? '' : ` ± ${format(se)}`}</td>`

function variantTable(rows: readonly VariantRow[]): Html {
  if (rows.length === 0) return notice('No runs selected.', 'warn')
  const hasAcc = rows.some((r) => r.acc !== null)
  const hasQuality = rows.some((r) => r.klDivergence !== null || r.top1Agreement !== null)
  return h`<div class="table-wrap"><table class="data" id="variants">
<thead><tr>
  <th scope="col">target</th><th scope="col">engine</th><th scope="col">method</th><th scope="col">quant</th><th scope="col">bits</th>
  <th scope="col">size</th><th scope="col">peak RSS</th><th scope="col">${metricName('ttftMsP50')} ms</th><th scope="col">${metricName('outputTokensPerS')} tokens/s</th>
  ${hasAcc ? h`<th scope="col">${metricName('acc')} ± stderr</th>` : ''}
  ${hasQuality ? h`<th scope="col">${metricName('klDivergence')} ± SE</th><th scope="col">${metricName('top1Agreement')}</th>` : ''}
  <th scope="col">runs</th>
</tr></thead>
<tbody>
${rows.map(
  (r) => h`<tr data-target="${r.targetName}"${r.flags.length > 0 ? raw(' class="flagged"') : ''}>
  <th scope="row">${r.label}${flagTags(r.flags, r.errorRate ?? undefined)}${r.variantName && r.variantName !== r.targetName ? h`<div class="differs">${r.variantName}</div>` : ''}</th>
  <td>${r.engine}</td><td>${r.method ?? '–'}</td><td>${r.quant ?? '–'}</td><td class="num">${r.bits ?? '–'}</td>
  ${cell(r.sizeBytes, formatBytes)}${cell(r.peakRssBytes, formatBytes)}${cell(r.ttftMsP50)}${cell(r.outputTokensPerS)}
  ${hasAcc ? plusMinus(r.acc, r.accStderr, ratio) : ''}
  ${hasQuality ? h`${plusMinus(r.klDivergence, r.klDivergenceSe, nats)}${cell(r.top1Agreement, ratio)}` : ''}
  <td>${r.runIds.join(', ')}</td>
</tr>`,
)}
</tbody></table></div>`
}

function runsTable(m: ReportModel): Html | '' {
  if (m.runs.length === 0) return ''
  return h`<div class="table-wrap"><table class="data" id="runs">
<thead><tr><th scope="col">run</th><th scope="col">scenario</th><th scope="col">target</th><th scope="col">load</th><th scope="col">state</th><th scope="col">started</th><th scope="col">branch · commit</th><th scope="col">engine</th><th scope="col">environment</th><th scope="col">requests ok / errors</th><th scope="col">label</th></tr></thead>
<tbody>
${m.runs.map(
  (r) => h`<tr data-run="${r.id}">
  <td class="num">${r.id}</td><td>${r.scenarioName}</td><td>${r.targetName}${flagTags(r.flags, r.errorRate ?? undefined)}</td><td>${r.load}</td>
  <td><span class="state state-${r.state}">${r.state}</span>${r.role === 'confirm' ? h` <span class="tag">confirm</span>` : ''}${r.error ? h`<div class="differs">${r.error}</div>` : ''}</td>
  <td>${formatTime(r.startedAt)}</td><td>${r.gitBranch ?? '–'} · <code>${shortSha(r.gitCommit)}</code></td><td>${r.engine}</td>
  <td>${r.environment === null ? '–' : (m.environments[r.environment]?.key ?? '–')}</td>
  <td class="num">${r.requests.ok} / ${r.requests.errors}</td><td>${r.label ?? ''}</td>
</tr>`,
)}
</tbody></table></div>`
}

function environmentsTable(m: ReportModel): Html {
  if (m.environments.length === 0) return notice('The selected runs stored no environment (imported runs).')
  return h`<div class="table-wrap"><table class="data" id="environments">
<thead><tr><th scope="col"></th><th scope="col">CPU</th><th scope="col">cores</th><th scope="col">RAM</th><th scope="col">GPU</th><th scope="col">OS</th><th scope="col">Node</th><th scope="col">engine versions</th><th scope="col">runs</th></tr></thead>
<tbody>
${m.environments.map(
  (e) => h`<tr data-environment="${e.key}">
  <th scope="row">${e.key}</th><td>${e.cpuModel}</td><td class="num">${e.cores}</td><td class="num">${formatBytes(e.ramBytes)}</td>
  <td>${e.gpus.length === 0 ? 'none' : e.gpus.map((g) => (g.vramBytes === undefined ? g.name : `${g.name} (${formatBytes(g.vramBytes)})`)).join(', ')}</td>
  <td>${e.os}</td><td>${e.nodeVersion}</td>
  <td>${
    Object.keys(e.engineVersions).length === 0
      ? '–'
      : Object.entries(e.engineVersions)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')
  }</td>
  <td>${e.runIds.join(', ')}</td>
</tr>`,
)}
</tbody></table></div>`
}

/** The report's charts, in page order; a chart without data is left out. */
export function reportCharts(m: ReportModel): ChartSpec[] {
  const specs: ChartSpec[] = []
  // A target keeps its colour on both Pareto charts: its place among the rows by label.
  const order = [...m.variants].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
  const colour = new Map(order.map((r, i) => [r, i]))
  const points = (y: (r: VariantRow) => number | null): ParetoPoint[] =>
    m.variants.flatMap((r) => {
      const x = r.outputTokensPerS
      const v = y(r)
      if (x === null || v === null) return []
      const flagged = r.flags.map((f) => flagText(f, r.errorRate ?? undefined)).join(', ')
      return [{ x, y: v, label: r.label, colour: colour.get(r) ?? 0, ...(flagged ? { flagged } : {}) }]
    })
  const latency = points((r) => r.ttftMsP50)
  if (latency.length > 0)
    specs.push({
      id: 'chart-pareto-ttft',
      title: 'Throughput against TTFT p50 (Pareto front marked ◆)',
      config: paretoChart({
        points: latency,
        x: { title: 'outputTokensPerS (tokens/s)', better: 'higher', unit: 'tokens/s' },
        y: { title: 'ttftMsP50 (ms)', better: 'lower', unit: 'ms' },
      }),
    })
  const accuracy = points((r) => r.acc)
  if (accuracy.length > 0)
    specs.push({
      id: 'chart-pareto-accuracy',
      title: 'Throughput against accuracy (Pareto front marked ◆)',
      config: paretoChart({
        points: accuracy,
        x: { title: 'outputTokensPerS (tokens/s)', better: 'higher', unit: 'tokens/s' },
        y: { title: 'acc', better: 'higher', format: 'percent' },
      }),
    })
  const cdf = (id: string, title: string, metric: 'ttftMs' | 'tpotMs' | 'chunkGapsMs') => {
    const lines = m.cdf[metric]
    if (lines.length > 0)
      specs.push({
        id,
        title,
        config: cdfChart({
          metric,
          unit: 'ms',
          series: lines.map((l, i) => ({ label: l.label, points: l.points, colour: i })),
        }),
      })
  }
  cdf('chart-ttft-cdf', 'TTFT distribution per latency run (CDF)', 'ttftMs')
  cdf('chart-tpot-cdf', 'TPOT distribution per latency run (CDF; AIPerf’s and guidellm’s ITL)', 'tpotMs')
  cdf(
    'chart-chunk-gaps-cdf',
    'Inter-chunk gaps per latency run (CDF over every gap; vLLM’s ITL)',
    'chunkGapsMs',
  )
  return specs
}
