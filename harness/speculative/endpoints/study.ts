/**
 * A speculative-decoding study against deployed endpoints (issue 20 item 2): the same prompts, greedy, sent
 * to the target served without speculation (`off`) and with it at each draft length K (`on`: llama-server
 * takes K as a server flag, `--spec-draft-n-max`, so one endpoint per K), optionally to the draft model
 * served alone (to measure c). Per K: what the server says it accepted (server-counters.ts: acceptance
 * rate, τ, α̂ from τ), decode speed with and without speculation, the measured speedup, the speedup the
 * analytic model predicts from α̂ and c (model.ts), their relative error, and whether the output stayed
 * the same token for token (it must, at temperature 0).
 *
 * Decode speed: Σ generated tokens after the first / Σ time between first and last token. From the
 * server's `timings` (predicted_n − 1 over predicted_ms, as llama-server's predicted_per_second counts)
 * when every response carries them, else from the client's first and last chunk (wall ms). Requests run
 * one at a time: concurrency would mix batching into the speedup. With `rounds` > 1 the endpoints take
 * turns prompt by prompt, round after round, so a drifting load hits them alike.
 * @module
 */
import type { Engine, StreamEvent } from '../../engines/engine.ts'
import { HarnessError } from '../../errors.ts'
import type { ServerTimings } from '../../results.ts'
import { scrapeMetrics } from '../../server-metrics/scrape.ts'
import { diffScrapes } from '../../server-metrics/session.ts'
import { alphaFromTau, predictedSpeedup } from '../model.ts'
import { type ServerSpeculation, speculationFromMetrics, speculationFromTimings } from './server-counters.ts'

/** An endpoint as the study uses it: an engine (openai) that generates, and where its /metrics are. */
export interface StudyEndpoint {
  engine: Engine
  /** The server's Prometheus endpoint (e.g. http://127.0.0.1:8080/metrics); none: counters from timings only. */
  metricsUrl?: string
  /** Headers the scrape sends (the endpoint's Authorization); never stored. */
  metricsHeaders?: Record<string, string>
}

export interface EndpointStudyOptions {
  off: StudyEndpoint
  on: readonly { k: number; endpoint: StudyEndpoint }[]
  /** The draft model served alone: c = its per-token time / the target's. */
  draftAlone?: StudyEndpoint
  /** c given instead of measured (draft / target cost of one token). */
  c?: number
  prompts: readonly string[]
  /** Tokens generated per prompt (forced: ignore_eos), ≥ 2. */
  maxTokens: number
  /**
   * 1 (default): one pass per endpoint in turn. More: every prompt goes to every endpoint `rounds` times,
   * interleaved prompt by prompt (off, draft alone, each K, then the next prompt), so load drifting on a
   * shared machine hits each endpoint alike; each endpoint's /metrics window spans the whole study (its
   * URL must be its own). Decode rates pool every round; outputs are compared on the first.
   */
  rounds?: number
  /**
   * Requests each endpoint answers first, unmeasured and before its /metrics "before" scrape (the first
   * prompt, maxTokens tokens): a cold server's first request pays for paging the model in. @default 1
   */
  warmup?: number
  signal?: AbortSignal
  /**
   * Called before each pass, with what it measures ('without speculation', 'draft alone', 'K = 3'):
   * endpointStudyPhases(…) calls in all.
   */
  onProgress?: (message: string) => void
}

/**
 * onProgress calls a study makes: one per pass (the target without speculation, the draft alone, each K),
 * or one per round when the endpoints are interleaved (rounds > 1).
 */
export function endpointStudyPhases(o: {
  on: readonly unknown[]
  draftAlone?: unknown
  rounds?: number
}): number {
  if ((o.rounds ?? 1) > 1) return o.rounds ?? 1
  return 1 + (o.draftAlone !== undefined ? 1 : 0) + o.on.length
}

/** One endpoint's pass over the prompts. */
export interface EndpointPass {
  texts: string[]
  /** tokens/s after the first token. */
  decodeTokensPerS: number
  /** Where decodeTokensPerS comes from. */
  decodeSource: 'server timings' | 'client chunks'
  /** What the server reported about speculation over this pass (/metrics first, else timings). */
  speculation?: ServerSpeculation
  /** The same from the responses' own `timings` alone (llama-server), to check one source against the other. */
  timingsSpeculation?: ServerSpeculation
}

export interface EndpointStudyRow {
  k: number
  pass: EndpointPass
  /** Output identical to the `off` pass, prompt for prompt. */
  sameOutput: boolean
  acceptanceRate?: number
  /** τ: tokens per verification step (needs the server's drafts counter). */
  meanAcceptanceLength?: number
  /** α̂ with E(α̂, K) = τ. */
  alphaHat?: number
  /** decode tokens/s with speculation ÷ without. */
  measuredSpeedup: number
  /** E(α̂, K) / (K·c + 1); absent without τ or c. */
  predictedSpeedup?: number
  /** (measured − predicted) / predicted. */
  relativeError?: number
}

export interface EndpointStudyResult {
  off: EndpointPass
  /** c used for the predictions, and whether it was measured (draftAlone) or given. */
  c?: { value: number; source: 'measured' | 'given' }
  draftAlone?: EndpointPass
  rows: EndpointStudyRow[]
}

export async function runEndpointStudy(o: EndpointStudyOptions): Promise<EndpointStudyResult> {
  if (o.prompts.length === 0) throw new HarnessError('an endpoint study needs at least one prompt')
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 2)
    throw new HarnessError(
      `maxTokens must be an integer ≥ 2 (decode speed counts tokens after the first), got ${o.maxTokens}`,
    )
  const rounds = o.rounds ?? 1
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new HarnessError(`rounds must be an integer ≥ 1, got ${rounds}`)
  const warmup = o.warmup ?? 1
  if (!Number.isInteger(warmup) || warmup < 0)
    throw new HarnessError(`warmup must be an integer ≥ 0, got ${warmup}`)
  if (rounds > 1) return interleavedStudy(o, rounds)
  o.onProgress?.('without speculation')
  const off = await measurePass(o.off, o)
  if (o.draftAlone) o.onProgress?.('draft alone')
  const draftAlone = o.draftAlone ? await measurePass(o.draftAlone, o) : undefined
  const c = costRatio(off, draftAlone, o.c)
  const rows: EndpointStudyRow[] = []
  for (const { k, endpoint } of o.on) {
    o.onProgress?.(`K = ${k}`)
    rows.push(endpointStudyRow(k, await measurePass(endpoint, o), off, c?.value))
  }
  return { off, ...(c ? { c } : {}), ...(draftAlone ? { draftAlone } : {}), rows }
}

/**
 * One K's row from its pass and the pass without speculation (pure): the server's acceptance, τ and α̂,
 * measured speedup, and with c the predicted speedup and relative error.
 */
export function endpointStudyRow(
  k: number,
  pass: EndpointPass,
  off: EndpointPass,
  c: number | undefined,
): EndpointStudyRow {
  const s = pass.speculation
  const tau = s?.meanAcceptanceLength
  const alphaHat = tau !== undefined && k >= 1 ? alphaFromTau(tau, k) : undefined
  const measuredSpeedup = pass.decodeTokensPerS / off.decodeTokensPerS
  const predicted = alphaHat !== undefined && c !== undefined ? predictedSpeedup(alphaHat, k, c) : undefined
  return {
    k,
    pass,
    sameOutput: pass.texts.every((t, i) => t === off.texts[i]),
    ...(s?.acceptanceRate !== undefined ? { acceptanceRate: s.acceptanceRate } : {}),
    ...(tau !== undefined ? { meanAcceptanceLength: tau } : {}),
    ...(alphaHat !== undefined ? { alphaHat } : {}),
    measuredSpeedup,
    ...(predicted !== undefined
      ? { predictedSpeedup: predicted, relativeError: (measuredSpeedup - predicted) / predicted }
      : {}),
  }
}

const scrapeOf = (endpoint: StudyEndpoint, signal: AbortSignal) =>
  endpoint.metricsUrl === undefined
    ? undefined
    : scrapeMetrics({
        url: endpoint.metricsUrl,
        ...(endpoint.metricsHeaders ? { headers: endpoint.metricsHeaders } : {}),
        signal,
      })

/** What one endpoint answered over a pass (or over every round), before it becomes an EndpointPass. */
interface PassAccumulator {
  texts: string[]
  timings: (ServerTimings | undefined)[]
  clientTokens: number
  clientMs: number
}

const newAccumulator = (): PassAccumulator => ({ texts: [], timings: [], clientTokens: 0, clientMs: 0 })

/** One greedy request; its text, server timings and client decode time added to `acc`. */
async function sendPrompt(
  endpoint: StudyEndpoint,
  prompt: string,
  o: EndpointStudyOptions,
  signal: AbortSignal,
  acc: PassAccumulator,
  keepText: boolean,
): Promise<void> {
  let text = ''
  let first: number | undefined
  let last = 0
  let done: Extract<StreamEvent, { type: 'done' }> | undefined
  for await (const event of endpoint.engine.generate(
    {
      prompt,
      maxTokens: o.maxTokens,
      minTokens: o.maxTokens,
      ignoreEos: true,
      sampling: { temperature: 0 },
    },
    signal,
  )) {
    if (event.type === 'token') {
      text += event.text
      const at = event.atMs ?? performance.timeOrigin + performance.now()
      first ??= at
      last = at
    } else if (event.type === 'done') done = event
  }
  if (done === undefined)
    throw new HarnessError(`the endpoint ended a response without finishing it (prompt ${acc.texts.length})`)
  if (keepText) acc.texts.push(text)
  acc.timings.push(done.serverTimings)
  const generated = done.outputTokens ?? o.maxTokens
  if (first !== undefined && last > first) {
    acc.clientTokens += generated - 1
    acc.clientMs += last - first
  }
}

/** c: the target's decode rate ÷ the draft's served alone (measured), else the study's given c. */
function costRatio(
  off: EndpointPass,
  draftAlone: EndpointPass | undefined,
  given: number | undefined,
): EndpointStudyResult['c'] {
  if (draftAlone !== undefined)
    return { value: off.decodeTokensPerS / draftAlone.decodeTokensPerS, source: 'measured' }
  return given !== undefined ? { value: given, source: 'given' } : undefined
}

/** `o.warmup` requests of the first prompt, thrown away: before the scrape, so outside every figure. */
async function warmUp(endpoint: StudyEndpoint, o: EndpointStudyOptions, signal: AbortSignal): Promise<void> {
  const prompt = o.prompts[0]
  if (prompt === undefined) return
  for (let i = 0; i < (o.warmup ?? 1); i++)
    await sendPrompt(endpoint, prompt, o, signal, newAccumulator(), false)
}

async function measurePass(endpoint: StudyEndpoint, o: EndpointStudyOptions): Promise<EndpointPass> {
  const signal = o.signal ?? new AbortController().signal
  await warmUp(endpoint, o, signal)
  const before = await scrapeOf(endpoint, signal)
  const acc = newAccumulator()
  for (const prompt of o.prompts) await sendPrompt(endpoint, prompt, o, signal, acc, true)
  return finishPass(endpoint, acc, before, await scrapeOf(endpoint, signal))
}

/** rounds > 1: every endpoint scraped, then each prompt sent to each endpoint in turn, round after round. */
async function interleavedStudy(o: EndpointStudyOptions, rounds: number): Promise<EndpointStudyResult> {
  const signal = o.signal ?? new AbortController().signal
  const endpoints = [o.off, ...(o.draftAlone ? [o.draftAlone] : []), ...o.on.map((e) => e.endpoint)]
  for (const endpoint of endpoints) await warmUp(endpoint, o, signal)
  const before = await Promise.all(endpoints.map((e) => scrapeOf(e, signal)))
  const accs = endpoints.map(newAccumulator)
  for (let r = 0; r < rounds; r++) {
    o.onProgress?.(`round ${r + 1} of ${rounds} (every endpoint, prompt by prompt)`)
    for (const prompt of o.prompts)
      for (const [i, endpoint] of endpoints.entries())
        await sendPrompt(endpoint, prompt, o, signal, accs[i]!, r === 0)
  }
  const after = await Promise.all(endpoints.map((e) => scrapeOf(e, signal)))
  const passes = endpoints.map((e, i) => finishPass(e, accs[i]!, before[i], after[i]))
  const off = passes[0]!
  const draftAlone = o.draftAlone ? passes[1] : undefined
  const onPasses = passes.slice(o.draftAlone ? 2 : 1)
  const c = costRatio(off, draftAlone, o.c)
  const rows = o.on.map(({ k }, i) => endpointStudyRow(k, onPasses[i]!, off, c?.value))
  return { off, ...(c ? { c } : {}), ...(draftAlone ? { draftAlone } : {}), rows }
}

function finishPass(
  endpoint: StudyEndpoint,
  acc: PassAccumulator,
  before: Awaited<ReturnType<typeof scrapeOf>>,
  after: Awaited<ReturnType<typeof scrapeOf>>,
): EndpointPass {
  const { texts, timings, clientTokens, clientMs } = acc
  const fromServer = timings.every(
    (t) => t?.predictedN !== undefined && t.predictedMs !== undefined && t.predictedMs > 0,
  )
  let decodeTokensPerS: number
  let decodeSource: EndpointPass['decodeSource']
  if (fromServer) {
    const tokens = timings.reduce((s, t) => s + Math.max(0, (t?.predictedN ?? 0) - 1), 0)
    const ms = timings.reduce((s, t) => s + (t?.predictedMs ?? 0), 0)
    decodeTokensPerS = (1000 * tokens) / ms
    decodeSource = 'server timings'
  } else {
    if (clientMs <= 0) throw new HarnessError('no decode time measured: every response arrived in one chunk')
    decodeTokensPerS = (1000 * clientTokens) / clientMs
    decodeSource = 'client chunks'
  }
  let speculation: ServerSpeculation | undefined
  if (before?.state === 'ok' && after?.state === 'ok' && endpoint.metricsUrl !== undefined)
    speculation = speculationFromMetrics(
      diffScrapes(endpoint.metricsUrl, before.families, after.families).rows,
    )
  const timingsSpeculation = speculationFromTimings(timings)
  speculation ??= timingsSpeculation
  return {
    texts,
    decodeTokensPerS,
    decodeSource,
    ...(speculation ? { speculation } : {}),
    ...(timingsSpeculation ? { timingsSpeculation } : {}),
  }
}

/**
 * What makes a study's figures meaningless, one line each naming the study field to fix (pure; the CLI
 * prints them and exits 1): an `on` endpoint whose counters say it drafted no token over its pass is not
 * speculating — llama-server without `--spec-type`, or a draft it refused at start (its log: "the target and
 * draft vocabs are not compatible") — so its K measures the target alone; an `off` endpoint that drafted is
 * speculating, so every speedup is against the wrong baseline. A server that reports no counters at all is
 * not judged (its row shows – for acceptance, τ and the prediction). `study.on[i]` is `r.rows[i]`'s endpoint.
 */
export function endpointStudyProblems(
  r: EndpointStudyResult,
  study: { off: string; on: readonly { k: number; url: string }[] },
): string[] {
  const problems: string[] = []
  const offDrafted = r.off.speculation?.draftTokens
  if (offDrafted !== undefined && offDrafted > 0)
    problems.push(
      `off (${study.off}): the server drafted ${offDrafted} tokens over its pass (${r.off.speculation?.source}): it speculates, so no speedup here is against the target alone; serve the target there without -md / --spec-type`,
    )
  r.rows.forEach((row, i) => {
    const s = row.pass.speculation
    if (s?.draftTokens !== 0) return
    const url = study.on[i]?.url ?? '?'
    problems.push(
      `on[${i}].url (K = ${row.k}, ${url}): the server drafted no token over its pass (${s.source}): it is not speculating, so this K measured the target alone; start it with -md DRAFT.gguf --spec-type draft-simple --spec-draft-n-max ${row.k}; if it has those flags, its log says why it refused the draft (e.g. "the target and draft vocabs are not compatible": the draft needs the target's tokenizer)`,
    )
  })
  return problems
}

/** The study as a text table: one row per K, the `off` pass and c above it. */
export function formatEndpointStudy(r: EndpointStudyResult): string {
  const f = (v: number | undefined, d = 2) => (v === undefined ? '–' : v.toFixed(d))
  const lines = [
    `without speculation: ${f(r.off.decodeTokensPerS, 1)} decode tok/s (${r.off.decodeSource})`,
    r.c
      ? `c = draft / target per-token cost: ${f(r.c.value, 3)} (${r.c.source}${r.draftAlone ? `; draft alone ${f(r.draftAlone.decodeTokensPerS, 1)} tok/s` : ''})`
      : 'c unknown (no draft endpoint, none given): no predicted speedup',
    'K  acceptance  tau   alpha^  tok/s    measured  predicted  error   same output',
  ]
  for (const row of r.rows)
    lines.push(
      [
        String(row.k).padEnd(2),
        f(row.acceptanceRate, 3).padStart(10),
        f(row.meanAcceptanceLength).padStart(5),
        f(row.alphaHat, 3).padStart(7),
        f(row.pass.decodeTokensPerS, 1).padStart(8),
        f(row.measuredSpeedup).padStart(9),
        f(row.predictedSpeedup).padStart(10),
        (row.relativeError === undefined ? '–' : `${(100 * row.relativeError).toFixed(0)} %`).padStart(6),
        row.sameOutput ? '  yes' : '  NO',
      ].join(' '),
    )
  return lines.join('\n')
}
