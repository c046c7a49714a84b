/**
 * Run page: identity (fingerprint dimensions, environment), percentiles, TTFT and TPOT CDFs, output tokens
 * per second over the run (partial last bucket as a rate), errors by kind and HTTP status, every other
 * figure (goodput with the SLO it was measured under), and the scenario as run.
 * @module
 */

import { type ErrorGroup, storesRequestRows } from '../../db/queries/run-detail.ts'
import { barChart } from '../charts/bar.ts'
import { cdfChart } from '../charts/cdf.ts'
import { tokensOverTimeChart } from '../charts/tokens-over-time.ts'
import { PERCENTILE_COLUMNS, type RunModel, type RunSlo } from '../data/run.ts'
import { runFlags } from '../data/scope.ts'
import { formatCell, formatTime, formatValue } from './format.ts'
import { chartFigure, type Html, h, link, metricName, notice } from './html.ts'
import { httpLoadCharts, httpLoadSection } from './http-load.ts'
import { page } from './layout.ts'
import { microSection } from './micro.ts'
import { measuredLine } from './run-measured.ts'
import { flagTags } from './scope.ts'
import { serverMetricsSection } from './server-metrics.ts'
import { serverTruthNote } from './server-truth.ts'
import { sweepTag } from './sweep.ts'

export function runPage(m: RunModel): Html {
  const { run, environment, variant, variantLineage, requests } = m.detail
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
        title: `Output tokens per second over the run (${
          (m.outputTokensPerSecond[0]?.widthS ?? 1) === 1
            ? '1-s buckets'
            : `${m.outputTokensPerSecond[0]?.widthS}-s bars, the average per second`
        } from the first send; each request's first token at t1, the rest spread to tLast; a last bucket the run ends inside is divided by the time it covers and drawn lighter)`,
        config: tokensOverTimeChart(m.outputTokensPerSecond),
      }),
    )
  charts.push(...httpLoadCharts(m))
  if (m.errors.length > 0)
    charts.push(
      chartFigure(
        {
          id: 'chart-errors',
          title: 'Errors by kind and HTTP status',
          config: barChart({
            title: 'requests (count)',
            colours: 'per-row',
            integer: true,
            rows: m.errors.map((e) => ({ label: errorLabel(e), value: e.n })),
          }),
        },
        'short',
      ),
    )
  const dims = Object.entries(m.dimensions)
  // Marked as on the leaderboard: a saturated client's or a run with errors over 1 % (data/scope.ts).
  const figures = Object.fromEntries(m.scalars.map((x) => [x.name, x]))
  return page({
    title: `Run ${run.id}: ${run.targetName}`,
    active: 'runs',
    charts: charts.length > 0,
    body: h`<p class="lede">
  <span class="state state-${run.state}">${run.state}</span>${flagTags(runFlags(figures), figures.errorRate?.value)}${run.role === 'confirm' ? h` <span class="tag">confirm re-run</span>` : ''}${sweepTag(run.sweepId, run.sweepStep)}
  scenario <a href="${link('/', { scenario: run.scenarioName })}">${run.scenarioName}</a>,
  started ${formatTime(run.startedAt)}${run.finishedAt ? h`, finished ${formatTime(run.finishedAt)}` : ''}.
  ${run.label ? h`Label: <strong class="run-label">${run.label}</strong>.` : ''}
  <a href="${link('/history', { fingerprint: run.fingerprint, metric: 'outputTokensPerS' })}">History of this series</a> ·
  <a href="${link('/runs', { scenario: run.scenarioName, target: run.targetName })}">other runs of this target</a> ·
  <a href="/api/runs/${run.id}">JSON</a>
</p>
${run.error ? notice(h`Error: ${run.error}`, 'warn') : ''}
${llamaCppNote({
  engineKind: run.engineKind,
  genTokensPerS: m.scalars.find((s) => s.name === 'genTokensPerS')?.value,
  decodeTokensPerSP50: m.percentiles.find((p) => p.name === 'decodeTokensPerS')?.stats.P50,
})}
${serverTruthNote(m)}
${run.imported ? notice(h`Imported from ${run.imported.format} (${run.imported.file}). ${run.imported.notes.join(' ')}`) : ''}
${measuredLine(m)}
${charts.length > 0 ? h`<div class="chart-grid">${charts}</div>` : storesRequestRows(run.loadKind) ? notice('No per-request rows to chart.') : ''}
${errorTable(m.errors, requests.total - requests.aborted)}
${checklistTable(m.scalars, run.load)}
${httpLoadSection(m)}
${microSection(m)}
${serverMetricsSection(m.serverMetrics)}
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
${m.slo || m.scalars.some((s) => GOODPUT_METRICS.has(s.name)) ? h`<p class="slo" id="slo">Goodput SLO: ${describeSlo(m.slo)}.</p>` : ''}
<div class="table-wrap"><table class="data" id="figures">
<thead><tr><th scope="col">name</th><th scope="col">value</th><th scope="col">better</th><th scope="col">n</th></tr></thead>
<tbody>${m.scalars.map(
      (s) =>
        h`<tr><th scope="row">${metricName(s.name)}</th><td class="num">${formatValue(s.value, s.unit)}${GOODPUT_METRICS.has(s.name) ? sloNote(m.slo) : ''}</td><td>${s.direction === 'none' ? '' : s.direction}</td><td class="num">${s.n}</td></tr>`,
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

/** Figures computed under the scenario's SLO (harness/metrics/run.ts meetsSlo). */
const GOODPUT_METRICS = new Set(['goodputRequestsPerS', 'goodFraction'])

/** `ttftMs ≤ 500 ms · tpotMs ≤ 50 ms`: a request meeting every bound counts as good. */
export function describeSlo(slo: RunSlo | null): string {
  if (!slo) return 'none stored with this run (the scenario set no slo)'
  const parts = (['ttftMs', 'tpotMs', 'e2eMs'] as const).flatMap((k) =>
    slo[k] === undefined ? [] : [`${k} ≤ ${formatValue(slo[k], 'ms')}`],
  )
  return `${parts.join(' · ')} per request (a request meeting every bound is good)`
}

function sloNote(slo: RunSlo | null): Html {
  return h`<br><small class="slo">SLO: ${slo ? describeSlo(slo).replace(/ per request.*$/, '') : 'not stored'}</small>`
}

/** `http 429`, `timeout`: the bar and row label of an error group. */
export function errorLabel(e: ErrorGroup): string {
  return e.httpStatus === null ? e.kind : `${e.kind} ${e.httpStatus}`
}

function errorTable(errors: readonly ErrorGroup[], attempted: number): Html | '' {
  if (errors.length === 0) return ''
  return h`<div class="table-wrap"><table class="data" id="errors">
<caption>Errors by kind and HTTP status</caption>
<thead><tr><th scope="col">kind</th><th scope="col">HTTP status</th><th scope="col">requests</th><th scope="col">of attempted</th></tr></thead>
<tbody>${errors.map(
    (e) =>
      h`<tr data-kind="${e.kind}" data-status="${e.httpStatus ?? ''}"><td>${e.kind}</td><td class="num">${e.httpStatus ?? '–'}</td><td class="num">${e.n}</td><td class="num">${attempted > 0 ? formatValue(e.n / attempted, 'ratio') : '–'}</td></tr>`,
  )}</tbody></table></div>`
}

/**
 * What `npm run -s bench:native -- --json` measured between this engine and llama.cpp's own llama-bench
 * (same llama.cpp commit and GGUF, 1 thread, depth 0, flash attention auto, batch = ubatch = pp), four runs;
 * harness/engines/isolate/README.md has the breakdown. Updated by hand when node-llama-cpp or the engine
 * changes. "Same ggml code": llama-bench compiled against node-llama-cpp's own libraries.
 */
export const LLAMA_CPP_GAP = {
  measured: '2026-12-07, bench fixtures F32 / Q8_0 / Q4_0, 1 thread, 2-vCPU VM',
  /** nativeSpeed tg / llama-bench tg on the same ggml code. */
  sameCodeTgRatio: '0.65–0.91',
  /** A request's decode speed (generate(): + sampling, detokenization, streaming) / the same. */
  sameCodeGenerateTgRatio: '0.58–0.83',
  /** pp / llama-bench pp on the same ggml code. */
  sameCodePpRatio: '0.93–1.11',
  /** node-llama-cpp's decode-path cost per generated token over a bare llama_decode loop. */
  perTokenMs: '≈ 0.5 ms',
  /** nativeSpeed tg / llama-bench built here with -march=native (a different ggml CPU build). */
  nativeBuildTgRatio: '1.03–1.37',
} as const

/**
 * A llama-cpp run's figures are llama.cpp through node-llama-cpp, not llama-server's or llama-bench's: say
 * so with the measured gap, and with this run's own llama-bench-style tg next to its per-request decode
 * speed when the target measured nativeSpeed.
 */
export function llamaCppNote(r: {
  engineKind: string
  genTokensPerS?: number | undefined
  decodeTokensPerSP50?: number | undefined
}): Html | '' {
  if (r.engineKind !== 'llama-cpp') return ''
  const g = LLAMA_CPP_GAP
  const own =
    r.genTokensPerS === undefined
      ? h` Give the target <code>nativeSpeed</code> to store this engine's llama-bench-style pp / tg with the run.`
      : h` This run: llama-bench-style tg ${formatValue(r.genTokensPerS, 'tokens/s')} (decode only)${
          r.decodeTokensPerSP50 === undefined
            ? ''
            : h`, per request ${formatValue(r.decodeTokensPerSP50, 'tokens/s')} (decodeTokensPerS p50: with sampling, detokenization and streaming), ${(r.decodeTokensPerSP50 / r.genTokensPerS).toFixed(2)} of it`
        }.`
  return notice(
    h`llama-cpp = llama.cpp through node-llama-cpp, not llama-server. Measured against llama-bench on the same ggml code (${g.measured}): decode-only tg ${g.sameCodeTgRatio} of a bare llama_decode loop and ${g.sameCodeGenerateTgRatio} through a request (${g.perTokenMs} per token of node-llama-cpp's JavaScript and thread-pool hand-offs, then its sampling call), prompt processing ${g.sameCodePpRatio}. Against llama-bench built here with -march=native, tg was ${g.nativeBuildTgRatio}: node-llama-cpp's prebuilt ggml CPU code differs (see harness/engines/isolate/README.md). Do not read these figures as llama.cpp's best.${own}`,
  )
}

/**
 * `bench checklist` items, in the order it prints them (harness/checklist/items.ts CHECKLIST_ITEMS), with
 * the threshold key of run.load.thresholds each is judged against (absent: a fixed criterion).
 */
const CHECKLIST_ROWS: readonly [
  item: string,
  threshold: (t: Record<string, number>, burst: unknown) => string,
][] = [
  ['ttft-p50', (t) => bound('≤', t.ttftMsP50, 'ms')],
  ['ttft-p95', (t) => bound('≤', t.ttftMsP95, 'ms')],
  ['ttft-p99', (t) => bound('≤', t.ttftMsP99, 'ms')],
  ['decode-tok-s', (t) => bound('≥', t.minDecodeTokensPerS, 'tokens/s')],
  ['qps', (t) => bound('≥', t.minQps, 'requests/s')],
  ['error-rate', (t) => (t.maxErrorRate === undefined ? '–' : `≤ ${formatValue(t.maxErrorRate, 'ratio')}`)],
  ['health', () => 'HTTP 2xx from /health or /v1/models'],
  ['auth', () => 'HTTP 401 or 403 without a key'],
  ['rate-limit', (_t, burst) => `HTTP 429 within ${typeof burst === 'number' ? burst : '?'} requests`],
  ['streaming', () => '≥ 2 content chunks, ≥ 1 ms apart'],
  ['usage', () => 'usage in every stream'],
  ['tls', () => 'https (loopback exempt)'],
]

function bound(op: string, v: number | undefined, unit: string): string {
  return v === undefined ? '– (informational)' : `${op} ${formatValue(v, unit)}`
}

/** A checklist run's items (metric rows checklist/<item> = 1 pass, 0.5 warn, 0 fail, and /value). */
function checklistTable(scalars: RunModel['scalars'], load: unknown): Html | string {
  const byName = new Map(scalars.map((s) => [s.name, s]))
  const rows = CHECKLIST_ROWS.filter(([item]) => byName.has(`checklist/${item}`))
  if (rows.length === 0) return ''
  const spec = (load ?? {}) as { thresholds?: Record<string, number>; burstRequests?: unknown }
  const thresholds = spec.thresholds ?? {}
  return h`<h2>Checklist</h2>
<div class="table-wrap"><table class="data" id="checklist">
<thead><tr><th scope="col">item</th><th scope="col">verdict</th><th scope="col">value</th><th scope="col">threshold</th></tr></thead>
<tbody>${rows.map(([item, threshold]) => {
    const score = byName.get(`checklist/${item}`)!.value
    const verdict = score >= 1 ? 'PASS' : score > 0 ? 'WARN' : 'FAIL'
    const value = byName.get(`checklist/${item}/value`)
    return h`<tr><th scope="row">${item}</th><td class="verdict verdict-${verdict.toLowerCase()}">${verdict}</td><td class="num">${value ? formatValue(value.value, value.unit) : '–'}</td><td>${threshold(thresholds, spec.burstRequests)}</td></tr>`
  })}</tbody></table></div>`
}
