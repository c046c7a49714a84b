/**
 * `vllm bench serve --save-result [--save-detailed]` JSON → a run in our terms.
 *
 * Names (METRICS.md): vLLM TTFT = ttftMs, vLLM TPOT = tpotMs (same formula, per request, requests with
 * ≥ 2 output tokens), vLLM ITL = chunkGapsMs (one sample per chunk gap, pooled), vLLM E2EL = e2eMs. Their
 * mean, median and `p<k>` percentiles (numpy linear interpolation, as ours) are stored as given:
 * `<base>Mean`, `<base>P50`, `<base>P90`, `<base>P95`, `<base>P99`, `<base>P999`. vLLM's `std` is the
 * population deviation (ddof 0); ours is the sample deviation (n − 1), so `<base>Sd` is computed from the
 * per-request samples when the file has them, else converted as std·√(n/(n − 1)) when n is known.
 * With --save-detailed (per-request ttfts, itls, input_lens, output_lens, errors) every request becomes a
 * request row (seconds → ms; e2eMs = ttft + Σ itl, which is how vLLM measures latency) and the figures the
 * file lacks (min, max, other percentiles) are computed from those samples with our definitions.
 * @module
 */
import { STATUS_CODES } from 'node:http'
import { z } from 'zod'
import {
  DISTRIBUTION_STATS,
  type DistributionStat,
  errorKindMetricName,
  STAT_FIELDS,
} from '../../harness/metrics/catalogue.ts'
import { distribution } from '../../harness/metrics/percentile.ts'
import type { Distribution, MetricRow } from '../../harness/metrics/types.ts'
import { canonicalJson, sha256Hex } from '../identity.ts'
import type { RequestFields } from '../request-rows.ts'
import { type ImportContext, ImportError, type ImportedRun, importFingerprint, metricRow } from './types.ts'
import { describeIssues } from './zod-issues.ts'

const count = z.number().int().nonnegative()
const vllmResultSchema = z.looseObject({
  date: z.string().nullish(),
  backend: z.string().nullish(),
  endpoint_type: z.string().nullish(),
  label: z.string().nullish(),
  model_id: z.string().min(1),
  tokenizer_id: z.string().nullish(),
  num_prompts: count.nullish(),
  request_rate: z.union([z.number().positive(), z.literal('inf')]).nullish(),
  burstiness: z.number().positive().nullish(),
  max_concurrency: z.number().int().positive().nullish(),
  ramp_up_strategy: z.string().nullish(),
  ramp_up_start_rps: z.number().nullish(),
  ramp_up_end_rps: z.number().nullish(),
  duration: z.number().positive(),
  completed: count,
  failed: count.nullish(),
  total_input_tokens: count.nullish(),
  total_output_tokens: count.nullish(),
  request_throughput: z.number().nonnegative(),
  request_goodput: z.number().nonnegative().nullish(),
  output_throughput: z.number().nonnegative(),
  total_token_throughput: z.number().nonnegative().nullish(),
  input_lens: z.array(count).nullish(),
  output_lens: z.array(count).nullish(),
  ttfts: z.array(z.number().nonnegative()).nullish(),
  itls: z.array(z.array(z.number())).nullish(),
  errors: z.array(z.string().nullable()).nullish(),
  max_output_tokens_per_s: z.unknown().optional(),
})
type VllmResult = z.infer<typeof vllmResultSchema>

/** `mean_ttft_ms`, `median_itl_ms`, `std_tpot_ms`, `p99_e2el_ms`, `p99.9_ttft_ms` … */
const STAT_KEY = /^(mean|median|std|p(\d+(?:\.\d+)?))_(ttft|tpot|itl|e2el)_ms$/
const BASES = { ttft: 'ttftMs', tpot: 'tpotMs', itl: 'chunkGapsMs', e2el: 'e2eMs' } as const
type VllmBase = keyof typeof BASES
const PERCENTILE_STATS: Readonly<Record<string, DistributionStat>> = {
  '50': 'P50',
  '90': 'P90',
  '95': 'P95',
  '99': 'P99',
  '99.9': 'P999',
}
/** Fields vLLM writes itself; any other top-level scalar came from `--metadata KEY=VALUE`. */
const KNOWN_FIELDS = new Set([
  ...Object.keys(vllmResultSchema.shape),
  'generated_texts',
  'max_concurrent_requests',
  'rps_change_events',
])

export function mapVllmResult(raw: unknown, context: ImportContext, index = 0): ImportedRun {
  const where = index > 0 ? `result ${index + 1}: ` : ''
  const parsed = vllmResultSchema.safeParse(raw)
  if (!parsed.success)
    throw new ImportError(
      context.file,
      `${where}not a vllm bench serve result: ${describeIssues(parsed.error)}`,
    )
  const r = parsed.data
  const notes: string[] = []
  const detail = perRequestDetail(r, context.file, where)

  const failed =
    r.failed ??
    (detail ? detail.length - r.completed : Math.max(0, (r.num_prompts ?? r.completed) - r.completed))
  const attempted = r.completed + failed
  const metrics: MetricRow[] = [
    metricRow('windowMs', r.duration * 1000, attempted),
    metricRow('attempted', attempted, attempted),
    metricRow('ok', r.completed, attempted),
    metricRow('errors', failed, attempted),
    metricRow('requestsPerS', r.request_throughput, r.completed),
    metricRow('outputTokensPerS', r.output_throughput, r.completed),
    metricRow('errorRate', attempted > 0 ? failed / attempted : 0, attempted),
  ]
  if (r.total_token_throughput != null)
    metrics.push(metricRow('totalTokensPerS', r.total_token_throughput, r.completed))
  if (r.request_goodput != null) metrics.push(metricRow('goodputRequestsPerS', r.request_goodput, attempted))
  notes.push(
    'windowMs is vLLM duration (benchmark start → last response); request rows have no send times (NaN), vLLM does not save them',
  )
  if (r.max_output_tokens_per_s !== undefined)
    notes.push('max_output_tokens_per_s counts chunks per 1-s bucket, not tokens: kept in the document only')

  const requests: RequestFields[] = []
  const samples: Partial<Record<VllmBase | 'outputTokens' | 'promptTokens', number[]>> = {}
  if (detail) {
    const okCount = detail.filter((d) => d.ok).length
    if (okCount !== r.completed)
      notes.push(`per-request detail has ${okCount} successful requests, the summary says ${r.completed}`)
    const ttft: number[] = []
    const tpot: number[] = []
    const itl: number[] = []
    const e2e: number[] = []
    const outputTokens: number[] = []
    const promptTokens: number[] = []
    const errorKinds = new Map<ClassifiedError['kind'], number>()
    for (const [i, d] of detail.entries()) {
      if (!d.ok) {
        const error = classifyError(d.error)
        errorKinds.set(error.kind, (errorKinds.get(error.kind) ?? 0) + 1)
        requests.push({
          seq: i,
          state: 'error',
          promptIndex: i,
          errorKind: error.kind,
          httpStatus: error.status,
          message: error.message,
          promptTokens: d.promptTokens,
        })
        continue
      }
      const ttftS = d.ttftS
      let lastS = ttftS
      for (const gap of d.itlS) lastS += gap
      const gapsMs = d.itlS.map((g) => g * 1000)
      // No send times (vLLM does not save them: NaN) and no token source: vLLM counts from server usage when
      // the endpoint reports it, else by re-tokenizing, and the file does not say which.
      requests.push({
        seq: i,
        state: 'ok',
        promptIndex: i,
        ttftMs: ttftS * 1000,
        e2eMs: lastS * 1000,
        chunks: gapsMs.length + 1,
        promptTokens: d.promptTokens,
        outputTokens: d.outputTokens,
        chunkGapsMs: gapsMs,
      })
      ttft.push(ttftS * 1000)
      e2e.push(lastS * 1000)
      for (const g of gapsMs) itl.push(g)
      if (d.outputTokens >= 2) tpot.push(((lastS - ttftS) / (d.outputTokens - 1)) * 1000)
      outputTokens.push(d.outputTokens)
      if (d.promptTokens !== null) promptTokens.push(d.promptTokens)
    }
    Object.assign(samples, { ttft, tpot, itl, e2el: e2e, outputTokens, promptTokens })
    for (const [kind, n] of errorKinds) metrics.push(metricRow(errorKindMetricName(kind), n, attempted))
    if (errorKinds.size > 0)
      notes.push(
        'error kinds are read from vLLM error texts: a timeout, an HTTP reason phrase (http), else stream',
      )
  }

  metrics.push(...latencyMetrics(r, samples, notes))
  for (const base of ['outputTokens', 'promptTokens'] as const) {
    const d = samples[base] && distribution(samples[base])
    if (d) metrics.push(...distributionRows(base, d))
  }

  const metadata = Object.fromEntries(
    Object.entries(r).filter(
      ([k, v]) => !KNOWN_FIELDS.has(k) && !STAT_KEY.test(k) && (v === null || typeof v !== 'object'),
    ),
  )
  const rate = r.request_rate ?? 'inf'
  const requestsPlanned = r.num_prompts ?? attempted
  const load: Record<string, unknown> = r.ramp_up_strategy
    ? {
        kind: 'ramp-up',
        strategy: r.ramp_up_strategy,
        startRatePerS: r.ramp_up_start_rps ?? null,
        endRatePerS: r.ramp_up_end_rps ?? null,
        maxConcurrency: r.max_concurrency ?? null,
        requests: requestsPlanned,
      }
    : rate === 'inf'
      ? { kind: 'concurrent', concurrency: r.max_concurrency ?? requestsPlanned, requests: requestsPlanned }
      : {
          kind: 'poisson',
          ratePerS: rate,
          burstiness: r.burstiness ?? 1,
          maxConcurrency: r.max_concurrency ?? null,
          requests: requestsPlanned,
        }
  if (load.kind === 'poisson' && r.max_concurrency != null)
    notes.push(
      'vLLM max_concurrency queues requests beyond the limit (our maxInFlight drops them): kept as maxConcurrency',
    )
  const scenario = {
    tool: 'vllm bench serve',
    numPrompts: r.num_prompts ?? null,
    requestRate: rate,
    burstiness: r.burstiness ?? 1,
    maxConcurrency: r.max_concurrency ?? null,
    rampUp: r.ramp_up_strategy
      ? { strategy: r.ramp_up_strategy, startRps: r.ramp_up_start_rps, endRps: r.ramp_up_end_rps }
      : null,
  }
  const scenarioHash = sha256Hex(canonicalJson(scenario))
  const engineOptions: Record<string, unknown> = {
    backend: r.backend ?? null,
    endpointType: r.endpoint_type ?? null,
    tokenizer: r.tokenizer_id ?? null,
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  }
  const engineKind = r.backend ?? r.endpoint_type ?? 'vllm-bench'
  const finishedAt = parseVllmDate(r.date) ?? context.fileModifiedAt
  if (!parseVllmDate(r.date))
    notes.push("no readable `date` in the result: its time is the file's modification time")
  return {
    scenarioName: context.scenarioName ?? 'vllm-bench-serve',
    scenarioHash,
    scenario,
    targetName: r.label ?? r.model_id,
    engineKind,
    engineVersion: null,
    engineModel: r.model_id,
    engineDevice: null,
    engineOptions,
    load,
    loadKind: String(load.kind),
    label: r.label ?? null,
    fingerprint: importFingerprint('vllm-bench-serve', {
      model: r.model_id,
      engine: { kind: engineKind, options: engineOptions },
      scenario: scenarioHash,
      load,
    }),
    startedAt: new Date(Math.round(finishedAt.getTime() - r.duration * 1000)),
    finishedAt,
    metrics,
    requests,
    document: raw,
    notes,
  }
}

interface RequestDetail {
  ok: boolean
  ttftS: number
  itlS: number[]
  outputTokens: number
  promptTokens: number | null
  error: string
}

/** The per-request arrays (--save-detailed), checked for equal lengths; undefined without them. */
function perRequestDetail(r: VllmResult, file: string, where: string): RequestDetail[] | undefined {
  const { ttfts, itls, output_lens: outputLens, input_lens: inputLens, errors } = r
  if (ttfts == null && itls == null && outputLens == null) return undefined
  if (ttfts == null || itls == null || outputLens == null)
    throw new ImportError(file, `${where}per-request detail needs ttfts, itls and output_lens together`)
  const n = ttfts.length
  for (const [name, values] of Object.entries({
    itls,
    output_lens: outputLens,
    input_lens: inputLens,
    errors,
  }))
    if (values != null && values.length !== n)
      throw new ImportError(file, `${where}${name} has ${values.length} entries, ttfts has ${n}`)
  const failedByText = (i: number) => (errors?.[i] ?? '') !== ''
  let failed = failedByText
  // vLLM records a failure with an empty reason as ttft 0, no chunks and 0 output tokens.
  if (Array.from({ length: n }, (_, i) => !failedByText(i)).filter(Boolean).length !== r.completed)
    failed = (i) => failedByText(i) || (ttfts[i] === 0 && itls[i]?.length === 0 && outputLens[i] === 0)
  return Array.from({ length: n }, (_, i) => ({
    ok: !failed(i),
    ttftS: ttfts[i] ?? 0,
    itlS: itls[i] ?? [],
    outputTokens: outputLens[i] ?? 0,
    promptTokens: inputLens?.[i] ?? null,
    error: errors?.[i] ?? '',
  }))
}

/** ttftMs, tpotMs, chunkGapsMs and e2eMs statistics: the file's figures, completed from the samples. */
function latencyMetrics(
  r: VllmResult,
  samples: Partial<Record<VllmBase, number[]>>,
  notes: string[],
): MetricRow[] {
  const given = new Map<VllmBase, Map<string, number>>()
  const unmapped: string[] = []
  for (const [key, value] of Object.entries(r)) {
    const m = STAT_KEY.exec(key)
    if (!m) continue
    if (typeof value !== 'number' || !Number.isFinite(value)) continue
    const base = m[3] as VllmBase
    const stat =
      m[2] !== undefined
        ? PERCENTILE_STATS[m[2]]
        : m[1] === 'mean'
          ? 'Mean'
          : m[1] === 'median'
            ? 'P50'
            : 'std'
    if (stat === undefined) {
      unmapped.push(key)
      continue
    }
    const stats = given.get(base) ?? new Map<string, number>()
    // `median_` and `p50_` are the same figure; median wins.
    if (!(stat === 'P50' && m[1] !== 'median' && stats.has('P50'))) stats.set(stat, value)
    given.set(base, stats)
  }
  if (unmapped.length > 0)
    notes.push(`percentiles with no name of ours, kept in the document only: ${unmapped.join(', ')}`)
  if (r.completed === 0) {
    if (given.size > 0)
      notes.push('no request completed: vLLM latency statistics over no samples are not imported')
    return []
  }
  const rows: MetricRow[] = []
  let unknownN = false
  for (const base of Object.keys(BASES) as VllmBase[]) {
    const name = BASES[base]
    const fromFile = given.get(base) ?? new Map<string, number>()
    const sampleValues = samples[base]
    const computed = sampleValues && distribution(sampleValues)
    if (sampleValues && !computed) continue
    if (!computed && fromFile.size === 0) continue
    // Without samples, n is known for per-request figures of every completed request (ttft, e2el).
    const n = computed?.n ?? (base === 'ttft' || base === 'e2el' ? r.completed : undefined)
    if (n === undefined) unknownN = true
    for (const stat of DISTRIBUTION_STATS) {
      let value: number | undefined
      if (stat === 'Sd') {
        const std = fromFile.get('std')
        value = computed
          ? computed.sd
          : std !== undefined && n !== undefined && n > 1
            ? std * Math.sqrt(n / (n - 1))
            : undefined
      } else value = fromFile.get(stat) ?? computed?.[STAT_FIELDS[stat]]
      if (value !== undefined) rows.push(metricRow(`${name}${stat}`, value, n ?? r.completed))
    }
  }
  if (unknownN)
    notes.push(
      'no per-request detail: n of tpotMs and chunkGapsMs statistics is the completed request count, and their Sd is left out',
    )
  return rows
}

function distributionRows(base: string, d: Distribution): MetricRow[] {
  return DISTRIBUTION_STATS.map((stat) => metricRow(`${base}${stat}`, d[STAT_FIELDS[stat]], d.n))
}

type ClassifiedError = { kind: 'timeout' | 'http' | 'stream'; status: number | null; message: string }

const REASON_TO_STATUS = new Map(Object.entries(STATUS_CODES).map(([code, reason]) => [reason, Number(code)]))

/** vLLM keeps the HTTP reason phrase for a bad status, else the exception's traceback. */
export function classifyError(text: string): ClassifiedError {
  const message = text.length > 4000 ? `${text.slice(0, 4000)}…` : text
  if (/timeout|timed out/i.test(text)) return { kind: 'timeout', status: null, message }
  const status = REASON_TO_STATUS.get(text.trim())
  if (status !== undefined) return { kind: 'http', status, message }
  return { kind: 'stream', status: null, message }
}

/** vLLM's `date` is `%Y%m%d-%H%M%S` in the benchmarking machine's local time, taken when it finished. */
function parseVllmDate(date: string | null | undefined): Date | undefined {
  const m = date ? /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/.exec(date) : null
  if (!m) return undefined
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number]
  const at = new Date(y, mo - 1, d, h, mi, s)
  return Number.isNaN(at.getTime()) ? undefined : at
}
