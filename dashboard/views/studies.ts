/**
 * Studies pages (issue 20 item 5): the speculative-decoding studies with their state and progress, the
 * "Launch study" form (a study file of the catalogue, queued as a `spec-study` job; the token is required,
 * public/studies.js sends it), and one study — what was compared, the three charts (charts/studies.ts)
 * and the per-K table of predicted vs measured speedup with the error, per prompt below. Every value is
 * escaped by `h`.
 * @module
 */
import type { EndpointKRow, StudySummary } from '../../db/studies/store.ts'
import { acceptLengthChart, positionChart, speedupChart } from '../charts/studies.ts'
import type { StudiesModel, StudyModel } from '../data/studies.ts'
import { formatTime } from './format.ts'
import { chartFigure, type Html, h, notice } from './html.ts'
import { page } from './layout.ts'

/** Fixed decimals; '–' for null or a non-finite value. */
function fixed(v: number | null | undefined, digits = 2): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–'
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`
}

function percent(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)} %`
}

/** A count, or '–' when the server did not report it. */
function countOf(v: number | null): string {
  return v === null ? '–' : String(v)
}

function stateBadge(state: string): Html {
  return h`<span class="state state-${state}" data-study-state="${state}">${state}</span>`
}

function progressCell(s: { state: string; progress: number; progressMessage: string | null }): Html {
  const pct = Math.round(s.progress * 100)
  return h`<progress max="100" value="${pct}" data-study-progress>${pct} %</progress> <span class="nowrap" data-study-progress-text>${pct} %${s.state === 'running' && s.progressMessage ? h` · ${s.progressMessage}` : ''}</span>`
}

function tokenField(): Html {
  return h`<label>token <input type="password" name="token" autocomplete="off" data-token-field placeholder="BENCH_TOKEN" size="16"></label>`
}

function launchForm(m: StudiesModel): Html {
  const runnable = m.catalogue.filter((c) => c.study !== null)
  const broken = m.catalogue.filter((c) => c.study === null)
  return h`<section id="launch-study"><h2>Launch a study</h2>
${
  runnable.length === 0
    ? notice(
        h`No study file to launch: put one as <code>scenarios/spec-&lt;name&gt;.ts</code> (harness/speculative/README.md), with its models (<code>bench fixtures --size all</code>).`,
        'warn',
      )
    : h`<form id="launch-study-form" class="write-form">
  <label>study <select name="study">${runnable.map((c) => h`<option value="${c.file}">${c.file} — ${c.study?.description ?? c.study?.name ?? ''}${c.kind === 'endpoint' ? ' (endpoints)' : ''}</option>`)}</select></label>
  <label>label <input type="text" name="label" maxlength="200" size="16"></label>
  ${tokenField()}
  <button type="submit">Launch study</button>
  <output name="status" role="status"></output>
</form>
<p class="hint">Queued as a <code>spec-study</code> job: a worker on this database runs it — on the embedded database the one <code>bench dashboard</code> runs in its own process (unless <code>--no-worker</code>), else a <code>bench worker</code> — with an endpoint study's key from that process's environment variable the study names. Writes need the dashboard's token (BENCH_TOKEN).</p>`
}
${noWorker(m.liveWorkers)}
${broken.length > 0 ? h`<p class="hint">Not launchable here: ${broken.map((c, i) => h`${i > 0 ? '; ' : ''}<code>${c.file}</code>: ${c.problem ?? ''}`)}</p>` : ''}
</section>`
}

/** A launched study waits until a worker claims it: say so when none is alive. */
function noWorker(live: number): Html | '' {
  return live > 0
    ? ''
    : notice(
        h`<span id="no-worker">No <code>bench worker</code> is running on this database (none with a heartbeat in the last 10 s): a launched study waits in the queue until one starts.</span>`,
        'warn',
      )
}

function studyRow(s: StudySummary): Html {
  return h`<tr data-study-id="${s.id}">
  <td><a href="/studies/${s.id}">${s.id}</a></td>
  <td>${s.name}</td>
  <td data-study-kind="${s.kind}">${s.kind}</td>
  <td>${stateBadge(s.state)}</td>
  <td>${s.state === 'queued' || s.state === 'running' ? progressCell(s) : (s.error ?? '')}</td>
  <td class="num">${s.ks.join(', ')}</td>
  <td class="num">${fixed(s.alphaUsed)}</td>
  <td class="num">${fixed(s.costRatio)}</td>
  <td class="num">${s.optimalK === null ? '–' : h`${s.optimalK} (${fixed(s.optimalSpeedup)}×)`}</td>
  <td class="num">${s.bestMeasured === null ? '–' : h`${s.bestMeasured.k} (${fixed(s.bestMeasured.speedup)}×)`}</td>
  <td class="nowrap">${formatTime(s.createdAt)}</td>
  <td>${s.label ?? ''}</td>
</tr>`
}

export function studiesPage(m: StudiesModel): Html {
  return page({
    title: 'Studies',
    active: 'studies',
    charts: false,
    scripts: ['writes.js', 'studies.js'],
    body: h`<p class="lede">Speculative-decoding acceptance studies: for a draft/target pair and prompts, the acceptance by K and by draft position, and the speedup measured against the one the Leviathan model predicts from the two models' α and their cost ratio c. Run one with <code>bench spec &lt;study file&gt;</code> (native: our loop on two GGUF models) or <code>bench spec-endpoints &lt;study file&gt;</code> (endpoint: deployed servers, what they report) — both stored here — or launch one below. JSON: <a href="/api/studies">/api/studies</a></p>
${launchForm(m)}
<h2>Studies</h2>
${
  m.studies.length === 0
    ? notice('No study stored yet.', 'warn')
    : h`<div class="table-wrap"><table class="data" id="studies">
<thead><tr><th scope="col">study</th><th scope="col">name</th><th scope="col" title="native: our draft/verify loop on two GGUF models; endpoint: deployed servers without and with speculation">kind</th><th scope="col">state</th><th scope="col">progress / error</th><th scope="col">K</th><th scope="col">α used</th><th scope="col">c</th><th scope="col">best K predicted</th><th scope="col">best K measured</th><th scope="col">created</th><th scope="col">label</th></tr></thead>
<tbody>
${m.studies.map(studyRow)}
</tbody></table></div>`
}`,
  })
}

interface StudySpec {
  target?: string
  draft?: string
  mode?: string
  temperature?: number
  maxTokens?: number
  prompts?: string[]
  seed?: number
  description?: string
}

/** The rows both kinds of study end their facts table with: the machine, the times, the file and label. */
function studyRunRows(s: StudyModel['study'], env: StudyEnvironment, machine: string): Html {
  return h`<tr><th scope="row">${machine}</th><td>${env.cpuModel ?? '–'}${env.cpus ? h`, ${env.cpus} CPUs` : ''}${env.loadAverageBefore ? h`; load average ${env.loadAverageBefore.map((v) => fixed(v)).join(', ')} before, ${(env.loadAverageAfter ?? []).map((v) => fixed(v)).join(', ')} after` : ''}</td></tr>
  <tr><th scope="row">created</th><td>${formatTime(s.createdAt)}${s.startedAt ? h`, started ${formatTime(s.startedAt)}` : ''}${s.finishedAt ? h`, finished ${formatTime(s.finishedAt)}` : ''}${s.durationMs !== null ? h` (${(s.durationMs / 1000).toFixed(1)} s)` : ''}</td></tr>
  ${s.source ? h`<tr><th scope="row">file</th><td><code>${s.source}</code></td></tr>` : ''}
  ${s.label ? h`<tr><th scope="row">label</th><td>${s.label}</td></tr>` : ''}`
}

/** The machine a study ran on (SpecStudyResult.environment; endpoint studies keep the same shape). */
interface StudyEnvironment {
  cpuModel?: string
  cpus?: number
  loadAverageBefore?: number[]
  loadAverageAfter?: number[]
}

interface StudyDetails {
  logprob?: { alpha?: number; top1?: number; n?: number }
  promptTokens?: number[]
}

export function studyPage(m: StudyModel): Html {
  if (m.study.kind === 'endpoint') return endpointStudyPage(m)
  const s = m.study
  const spec = s.study as StudySpec
  const details = (s.details ?? {}) as StudyDetails
  const env = (s.environment ?? {}) as StudyEnvironment
  const live = s.state === 'queued' || s.state === 'running'
  const charts = m.perK.length > 0
  const alphaSource = spec.mode === 'sampled' ? 'mean β = Σ min(p, q)' : 'top-1 agreement (greedy)'
  return page({
    title: `Study ${s.id}: ${s.name}`,
    active: 'studies',
    charts,
    scripts: ['writes.js', 'studies.js'],
    body: h`<p class="lede" id="study-status" data-study-id="${s.id}" data-state="${s.state}">
  ${stateBadge(s.state)}
  ${live ? progressCell(s) : ''}
  ${s.error ? h`<span class="reason">${s.error}</span>` : ''}
  <a href="/api/studies/${s.id}">JSON</a> · <a href="/studies">all studies</a>${s.matrixId !== null ? h` · <a href="/matrices/${s.matrixId}">queue job</a>` : ''}
</p>
${s.state === 'queued' ? noWorker(m.liveWorkers) : ''}
${
  s.state === 'queued'
    ? h`<form id="cancel-study-form" class="write-form">${tokenField()} <button type="submit">Cancel study</button> <output name="status" role="status"></output></form>`
    : ''
}
<table class="kv" id="study-facts"><caption>Study</caption><tbody>
  <tr><th scope="row">target</th><td><code>${spec.target ?? ''}</code></td></tr>
  <tr><th scope="row">draft</th><td><code>${spec.draft ?? ''}</code></td></tr>
  <tr><th scope="row">mode</th><td>${spec.mode ?? ''}${spec.mode === 'sampled' ? h`, temperature ${spec.temperature ?? ''}` : ''}; ${spec.maxTokens ?? ''} tokens a prompt, seed ${spec.seed ?? ''}</td></tr>
  <tr><th scope="row">prompts</th><td>${(spec.prompts ?? []).map((p, i) => h`${i > 0 ? h`<br>` : ''}${i}: <code>${p}</code>${details.promptTokens?.[i] !== undefined ? h` <small>(${details.promptTokens[i]} tokens)</small>` : ''}`)}</td></tr>
  <tr><th scope="row">α used</th><td>${fixed(s.alphaUsed, 3)} <small>(logprob ${alphaSource} over the target's greedy continuation${details.logprob ? h`; mean β ${fixed(details.logprob.alpha, 3)}, top-1 ${fixed(details.logprob.top1, 3)} over ${details.logprob.n ?? 0} positions` : ''})</small></td></tr>
  <tr><th scope="row">c</th><td>${fixed(s.costRatio, 3)} <small>(draft ms per token ÷ target ms per token on this machine, pooled over every baseline run: the predictions use it)</small></td></tr>
  <tr><th scope="row">optimal K (predicted)</th><td>${s.optimalK === null ? '–' : h`${s.optimalK}: S = ${fixed(s.optimalSpeedup)}×${s.worthwhile === false ? h` — <strong>not worthwhile</strong> (S ≤ 1)` : ''}`}</td></tr>
  ${studyRunRows(s, env, 'machine')}
</tbody></table>
${
  charts
    ? h`<div class="chart-grid">
${chartFigure({ id: 'chart-study-speedup', title: 'Speedup over K: measured vs predicted, with the error', config: speedupChart(m.charts) })}
${chartFigure({ id: 'chart-study-positions', title: 'Acceptance by drafted position (α by position)', config: positionChart(m.charts) })}
${chartFigure({ id: 'chart-study-lengths', title: 'Acceptance length: drafted tokens kept per verify step', config: acceptLengthChart(m.charts) })}
</div>`
    : notice(
        live ? 'The study has not finished: its figures appear here when it has.' : 'This study stored no K.',
        'warn',
      )
}
${charts ? perKTable(m) : ''}
${charts ? perPromptTable(m) : ''}`,
  })
}

/** node-llama-cpp's DraftSequenceTokenPredictor at this K, as it reports itself (study.ts NodeLlamaCppFigures). */
function nlcOf(
  details: Record<string, unknown>,
): { speedup?: number; acceptanceRate?: number | null } | undefined {
  const n = details.nodeLlamaCpp
  return n !== null && typeof n === 'object'
    ? (n as { speedup?: number; acceptanceRate?: number | null })
    : undefined
}

function perKTable(m: StudyModel): Html {
  const nlc = m.perK.some((r) => nlcOf(r.details) !== undefined)
  return h`<h2>Per K</h2>
<div class="table-wrap"><table class="data" id="study-k">
<thead><tr>
  <th scope="col">K</th><th scope="col">drafted</th><th scope="col">accepted</th><th scope="col">verify steps</th>
  <th scope="col">acceptance rate<br><small class="unit">accepted / drafted</small></th>
  <th scope="col">τ<br><small class="unit">1 + accepted / steps</small></th>
  <th scope="col">α̂<br><small class="unit">E(α̂, K) = τ</small></th>
  <th scope="col">tok/s<br><small class="unit">speculative</small></th>
  <th scope="col">tok/s<br><small class="unit">target alone</small></th>
  <th scope="col">c<br><small class="unit">beside this K</small></th>
  <th scope="col">measured speedup</th>
  <th scope="col">predicted speedup<br><small class="unit">E/(K·c + 1), c pooled</small></th>
  <th scope="col">error<br><small class="unit">measured − predicted</small></th>
  <th scope="col">pred(τ)<br><small class="unit">τ/(K·c + 1), c pooled</small></th>
  <th scope="col">verify / token<br><small class="unit">model assumes 1</small></th>
  <th scope="col">same output</th>
  ${nlc ? h`<th scope="col" title="node-llama-cpp's DraftSequenceTokenPredictor, its own loop and counters: refuted also counts stale drafts, so its rate is not an acceptance rate">node-llama-cpp predictor<br><small class="unit">its speedup · validated / checked</small></th>` : ''}
</tr></thead>
<tbody>
${m.perK.map(
  (r) => h`<tr data-k="${r.k}">
  <td class="num">${r.k}</td>
  <td class="num">${r.drafted}</td>
  <td class="num">${r.accepted}</td>
  <td class="num">${r.verifySteps}</td>
  <td class="num">${percent(r.acceptanceRate)}</td>
  <td class="num">${fixed(r.meanAcceptanceLength)}</td>
  <td class="num">${fixed(r.alphaHat, 3)}</td>
  <td class="num">${fixed(r.tokensPerS, 1)}</td>
  <td class="num">${fixed(r.baselineTokensPerS, 1)}</td>
  <td class="num">${fixed(r.costRatio, 3)}</td>
  <td class="num" data-measured>${fixed(r.measuredSpeedup)}</td>
  <td class="num" data-predicted>${fixed(r.predictedSpeedup)}</td>
  <td class="num" data-error>${signed(r.error)}</td>
  <td class="num">${fixed(r.predictedFromTau)}</td>
  <td class="num">${fixed(r.verifyCostRatio)}</td>
  <td>${r.matchesTarget === null ? '–' : r.matchesTarget ? 'yes' : h`<strong>no</strong>`}</td>
  ${nlc ? h`<td class="num">${fixed(nlcOf(r.details)?.speedup)} · ${fixed(nlcOf(r.details)?.acceptanceRate)}</td>` : ''}
</tr>`,
)}
</tbody></table></div>`
}

function perPromptTable(m: StudyModel): Html {
  return h`<details><summary>Per prompt (${m.perPrompt.length} rows)</summary>
<div class="table-wrap"><table class="data" id="study-prompts">
<thead><tr><th scope="col">K</th><th scope="col">prompt</th><th scope="col">drafted</th><th scope="col">accepted</th><th scope="col">verify steps</th><th scope="col">τ</th><th scope="col">tok/s</th><th scope="col">tok/s target alone</th><th scope="col">same output</th></tr></thead>
<tbody>
${m.perPrompt.map(
  (p) =>
    h`<tr><td class="num">${p.k}</td><td class="num">${p.prompt}</td><td class="num">${p.drafted}</td><td class="num">${p.accepted}</td><td class="num">${p.verifySteps}</td><td class="num">${fixed(p.meanAcceptanceLength)}</td><td class="num">${fixed(p.tokensPerS, 1)}</td><td class="num">${fixed(p.baselineTokensPerS, 1)}</td><td>${p.matchesTarget === null ? '–' : p.matchesTarget ? 'yes' : 'no'}</td></tr>`,
)}
</tbody></table></div></details>`
}

/** An endpoint study file as stored (harness/speculative/endpoints/study-file.ts; URLs without credentials). */
interface EndpointSpec {
  description?: string
  model?: string
  api?: string
  apiKeyEnv?: string
  off?: string
  on?: { k: number; url: string }[]
  draftAlone?: string
  prompts?: string[]
  maxTokens?: number
  /** Times every prompt went to every endpoint, interleaved when > 1 (absent: 1). */
  rounds?: number
  /** Unmeasured requests per endpoint first (absent in studies stored before it existed: none were sent). */
  warmup?: number
}

interface EndpointDetails {
  off?: { decodeTokensPerS?: number; decodeSource?: string; speculation?: { draftTokens?: number } }
  c?: { value: number; source: 'measured' | 'given' } | null
  draftAlone?: { decodeTokensPerS?: number; decodeSource?: string }
}

/** How the figures of a K row were reported (spec_endpoint_k.counters_source). */
const COUNTERS: Record<string, string> = {
  metrics: '/metrics Δ',
  timings: 'response timings',
  gauges: 'server gauges',
}

/**
 * Why an endpoint study has no acceptance-by-position chart: nothing was drafted at all (a server that does
 * not speculate: the study's error names it), or the servers drafted but did not count by position.
 */
function noPositionsHint(rows: StudyModel['endpointK']): Html {
  const drafted = rows.some((r) => (r.drafted ?? 0) > 0 || (r.drafts ?? 0) > 0)
  return drafted
    ? h`<p class="hint" id="no-positions">No acceptance by position: the servers did not count it (llama-server’s response timings alone, or SGLang’s gauges).</p>`
    : h`<p class="hint" id="no-positions">No acceptance by position: no server drafted a token (see the study’s error above).</p>`
}

/** One endpoint study (`bench spec-endpoints`): the servers, c, the charts that apply and the per-K table. */
function endpointStudyPage(m: StudyModel): Html {
  const s = m.study
  const spec = s.study as EndpointSpec
  const details = (s.details ?? {}) as EndpointDetails
  const env = (s.environment ?? {}) as StudyEnvironment
  const live = s.state === 'queued' || s.state === 'running'
  const rows = m.endpointK
  const charts = rows.length > 0
  const positions = rows.some((r) => r.positions.length > 0)
  const c = details.c ?? null
  return page({
    title: `Study ${s.id}: ${s.name}`,
    active: 'studies',
    charts,
    scripts: ['writes.js', 'studies.js'],
    body: h`<p class="lede" id="study-status" data-study-id="${s.id}" data-state="${s.state}" data-study-kind="endpoint">
  ${stateBadge(s.state)}
  ${live ? progressCell(s) : ''}
  ${s.error ? h`<span class="reason">${s.error}</span>` : ''}
  <a href="/api/studies/${s.id}">JSON</a> · <a href="/studies">all studies</a>${s.matrixId !== null ? h` · <a href="/matrices/${s.matrixId}">queue job</a>` : ''}
</p>
${s.state === 'queued' ? noWorker(m.liveWorkers) : ''}
<table class="kv" id="study-facts"><caption>Endpoint study: the same greedy prompts to the target served without and with speculation</caption><tbody>
  ${spec.description ? h`<tr><th scope="row">description</th><td>${spec.description}</td></tr>` : ''}
  <tr><th scope="row">model</th><td><code>${spec.model ?? ''}</code> <small>(${spec.api ?? 'completions'} API${spec.apiKeyEnv ? h`; key from <code>$${spec.apiKeyEnv}</code>, not stored` : ''})</small></td></tr>
  <tr><th scope="row">without speculation</th><td><code>${spec.off ?? ''}</code>: ${fixed(details.off?.decodeTokensPerS, 1)} decode tok/s <small>(${details.off?.decodeSource ?? ''})</small></td></tr>
  <tr><th scope="row">with speculation</th><td>${(spec.on ?? []).map((o, i) => h`${i > 0 ? h`<br>` : ''}K = ${o.k}: <code>${o.url}</code>`)}</td></tr>
  <tr><th scope="row">c</th><td>${
    c === null
      ? h`unknown <small>(no draft served alone and none given: no predicted speedup)</small>`
      : h`${fixed(c.value, 3)} <small>(draft ÷ target per-token cost, ${c.source === 'measured' ? h`measured: the draft alone at <code>${spec.draftAlone ?? ''}</code> decoded ${fixed(details.draftAlone?.decodeTokensPerS, 1)} tok/s` : 'given in the study file'})</small>`
  }</td></tr>
  <tr><th scope="row">prompts</th><td>${(spec.prompts ?? []).map((p, i) => h`${i > 0 ? h`<br>` : ''}${i}: <code>${p}</code>`)}<br><small>${spec.maxTokens ?? ''} tokens each, greedy, one request at a time${(spec.rounds ?? 1) > 1 ? h`; ${spec.rounds} rounds, the endpoints interleaved prompt by prompt` : ''}${(spec.warmup ?? 0) > 0 ? h`; after ${spec.warmup} unmeasured warm-up request${spec.warmup === 1 ? '' : 's'} per endpoint` : ''}</small></td></tr>
  <tr><th scope="row">best K (predicted)</th><td>${s.optimalK === null ? '–' : h`${s.optimalK}: S = ${fixed(s.optimalSpeedup)}×${s.worthwhile === false ? h` — <strong>not worthwhile</strong> (S ≤ 1)` : ''}`}</td></tr>
  ${studyRunRows(s, env, 'client machine')}
</tbody></table>
${
  charts
    ? h`<div class="chart-grid">
${chartFigure({ id: 'chart-study-speedup', title: 'Speedup over K: measured vs predicted from the server’s α̂ and c, with the error', config: speedupChart(m.charts) })}
${positions ? chartFigure({ id: 'chart-study-positions', title: 'Acceptance by drafted position (accepted at i ÷ drafts)', config: positionChart(m.charts) }) : ''}
</div>
${positions ? '' : noPositionsHint(rows)}
${endpointKTable(rows)}`
    : notice(
        live ? 'The study has not finished: its figures appear here when it has.' : 'This study stored no K.',
        'warn',
      )
}`,
  })
}

function endpointKTable(rows: readonly EndpointKRow[]): Html {
  return h`<h2>Per K</h2>
<div class="table-wrap"><table class="data" id="study-k">
<thead><tr>
  <th scope="col">K</th><th scope="col">drafted</th><th scope="col">accepted</th><th scope="col">drafts<br><small class="unit">verify steps</small></th>
  <th scope="col">acceptance rate<br><small class="unit">accepted / drafted</small></th>
  <th scope="col">τ<br><small class="unit">1 + accepted / drafts</small></th>
  <th scope="col">α̂<br><small class="unit">E(α̂, K) = τ</small></th>
  <th scope="col">tok/s<br><small class="unit">speculative</small></th>
  <th scope="col">tok/s<br><small class="unit">without</small></th>
  <th scope="col">c</th>
  <th scope="col">measured speedup</th>
  <th scope="col">predicted speedup<br><small class="unit">E(α̂, K)/(K·c + 1)</small></th>
  <th scope="col">error<br><small class="unit">measured − predicted</small></th>
  <th scope="col">error<br><small class="unit">÷ predicted</small></th>
  <th scope="col">same output</th>
  <th scope="col">counters</th>
</tr></thead>
<tbody>
${rows.map(
  (r) => h`<tr data-k="${r.k}">
  <td class="num">${r.k}</td>
  <td class="num">${countOf(r.drafted)}</td>
  <td class="num">${countOf(r.accepted)}</td>
  <td class="num">${countOf(r.drafts)}</td>
  <td class="num">${percent(r.acceptanceRate)}</td>
  <td class="num">${fixed(r.meanAcceptanceLength)}</td>
  <td class="num">${fixed(r.alphaHat, 3)}</td>
  <td class="num">${fixed(r.tokensPerS, 1)}</td>
  <td class="num">${fixed(r.baselineTokensPerS, 1)}</td>
  <td class="num">${fixed(r.costRatio, 3)}</td>
  <td class="num" data-measured>${fixed(r.measuredSpeedup)}</td>
  <td class="num" data-predicted>${fixed(r.predictedSpeedup)}</td>
  <td class="num" data-error>${r.error === null ? '–' : signed(r.error)}</td>
  <td class="num">${r.relativeError === null ? '–' : `${r.relativeError >= 0 ? '+' : '−'}${Math.abs(100 * r.relativeError).toFixed(0)} %`}</td>
  <td>${r.sameOutput ? 'yes' : h`<strong>no</strong>`}</td>
  <td class="nowrap">${r.countersSource === null ? '–' : (COUNTERS[r.countersSource] ?? r.countersSource)}</td>
</tr>`,
)}
</tbody></table></div>`
}
