/**
 * What each flat metric means: unit, which way is better, and a description with the names other tools
 * use (METRICS.md). One source for the CLI table, the regression gate and the dashboard's tooltips.
 * @module
 */
import type { RequestErrorKind } from '../errors.ts'
import { MICRO_METRICS, type MicroStat } from '../micro/metrics.ts'
import type { Distribution, MetricRow, RunMetrics } from './types.ts'

export type MetricUnit =
  | 'ms'
  | 'tokens/s'
  | 'requests/s'
  | 'ratio'
  | '%'
  | 'tokens'
  | 'count'
  | 'bool'
  | 'tokens/chunk'
  | 'bytes'
  | 'nats'
  | 'ops/s'
  | 'chars/s'

export type MetricDirection = MetricRow['direction']

export interface MetricInfo {
  unit: MetricUnit
  direction: MetricDirection
  description: string
}

type KeysOfType<T, V> = { [K in keyof T]-?: NonNullable<T[K]> extends V ? K : never }[keyof T]

/** RunMetrics fields that are Distributions; flattened as `${name}${Stat}`. */
export type DistributionMetricName = KeysOfType<RunMetrics, Distribution>
/** RunMetrics fields flattened under their own name (sample counts travel as MetricRow.n instead). */
export type ScalarMetricName = Exclude<
  KeysOfType<RunMetrics, number | boolean>,
  'tokenCountDiscrepancyN' | 'tokensPerChunkN' | 'peakRssSamplesN' | 'serverTimingsN'
>
/** One row per error kind that occurred, e.g. `errorsTimeout`. */
export type ErrorKindMetricName = `errors${Capitalize<RequestErrorKind>}`
export type MetricName =
  | ScalarMetricName
  | DistributionMetricName
  | ErrorKindMetricName
  | NativeMetricName
  | AccuracyMetricName
  | QualityMetricName
  | MicroMetricName

/** Statistics of a Distribution, in row order; `P999` is the 99.9th percentile. */
export const DISTRIBUTION_STATS = ['Mean', 'Sd', 'Min', 'Max', 'P50', 'P90', 'P95', 'P99', 'P999'] as const
export type DistributionStat = (typeof DISTRIBUTION_STATS)[number]

export const STAT_FIELDS: Readonly<Record<DistributionStat, Exclude<keyof Distribution, 'n'>>> = {
  Mean: 'mean',
  Sd: 'sd',
  Min: 'min',
  Max: 'max',
  P50: 'p50',
  P90: 'p90',
  P95: 'p95',
  P99: 'p99',
  P999: 'p999',
}

const STAT_DESCRIPTIONS: Readonly<Record<DistributionStat, string>> = {
  Mean: 'Mean',
  Sd: 'Sample standard deviation (n − 1)',
  Min: 'Minimum',
  Max: 'Maximum',
  P50: 'Median (50th percentile, linear interpolation)',
  P90: '90th percentile (linear interpolation)',
  P95: '95th percentile (linear interpolation)',
  P99: '99th percentile (linear interpolation)',
  P999: '99.9th percentile (linear interpolation)',
}

export const SCALAR_METRICS: Readonly<Record<ScalarMetricName, MetricInfo>> = {
  windowMs: {
    unit: 'ms',
    direction: 'none',
    description: 'Measurement window: first measured tSend → last measured tLast (warmup excluded).',
  },
  attempted: { unit: 'count', direction: 'none', description: 'Measured requests sent (ok + errors).' },
  ok: { unit: 'count', direction: 'none', description: 'Requests that completed without error.' },
  errors: { unit: 'count', direction: 'none', description: 'Requests that ended in an error of any kind.' },
  requestsPerS: {
    unit: 'requests/s',
    direction: 'higher',
    description: 'Ok requests / window. vLLM "request throughput".',
  },
  outputTokensPerS: {
    unit: 'tokens/s',
    direction: 'higher',
    description:
      'Σ outputTokens of ok requests / window — the headline throughput. vLLM "output token throughput".',
  },
  totalTokensPerS: {
    unit: 'tokens/s',
    direction: 'higher',
    description: 'Σ (promptTokens + outputTokens) of ok requests / window; a missing prompt count adds 0.',
  },
  peakOutputTokensPerS: {
    unit: 'tokens/s',
    direction: 'higher',
    description:
      'Most output tokens in one 1-s bucket (laid from the window start, plus one ending at the window end); counts tokens, spread evenly over each request’s chunks.',
  },
  effectiveConcurrency: {
    unit: 'count',
    direction: 'none',
    description: 'Σ e2eMs / window: the mean number of requests in flight.',
  },
  errorRate: {
    unit: 'ratio',
    direction: 'lower',
    description: 'Error requests / attempted requests (requests aborted by an interrupt excluded).',
  },
  goodputRequestsPerS: {
    unit: 'requests/s',
    direction: 'higher',
    description:
      'Ok requests meeting every SLO bound (ttftMs, tpotMs, e2eMs) / window; a request without a TPOT meets the TPOT bound.',
  },
  goodFraction: {
    unit: 'ratio',
    direction: 'higher',
    description: 'Requests meeting the SLO / (ok + errors).',
  },
  droppedRequests: {
    unit: 'count',
    direction: 'none',
    description: 'Open-loop arrivals not sent because maxInFlight was full.',
  },
  abortedRequests: {
    unit: 'count',
    direction: 'none',
    description:
      'Requests the run’s interrupt (Ctrl-C) aborted; left out of every other figure, errorRate included.',
  },
  connectionRetries: {
    unit: 'count',
    direction: 'lower',
    description:
      'Requests sent again on a fresh connection because a reused one closed before any byte of the response (a server closing kept-alive connections); the retry’s time is in the request’s TTFT.',
  },
  promptCacheHits: {
    unit: 'count',
    direction: 'none',
    description:
      'Ok requests whose prompt the server took at least half from its prompt cache (llama-server timings.cache_n ≥ prompt_n): their TTFT measured mostly a cache hit. (Not cache_n > 0: llama-server reuses the BOS token of any earlier prompt, so unrelated prompts report cache_n = 1.)',
  },
  promptCachedTokensPct: {
    unit: '%',
    direction: 'none',
    description:
      'Prompt tokens the server took from its cache: Σ cache_n / Σ (prompt_n + cache_n) over requests with server timings.',
  },
  tokenCountDiscrepancyPct: {
    unit: '%',
    direction: 'lower',
    description:
      'Mean |server − tokenizer| / server output-token count over requests with both; above 10 % the token counts disagree.',
  },
  clientSaturated: {
    unit: 'bool',
    direction: 'none',
    description:
      '1 when client event-loop delay p99 or scheduleLagMs p99 exceeded its threshold: the figures then describe the client, not the server.',
  },
  eventLoopDelayP99Ms: {
    unit: 'ms',
    direction: 'none',
    description:
      'p99 event-loop delay of the load-generating client during the window: how late a 5 ms sampling timer fired.',
  },
  tokensPerChunk: {
    unit: 'tokens/chunk',
    direction: 'none',
    description: 'Mean (outputTokens − 1) / (chunks − 1) over ok requests with ≥ 2 chunks.',
  },
  // Memory of the process hosting a native engine (isolated engines; harness/memory).
  peakRssBytes: {
    unit: 'bytes',
    direction: 'lower',
    description:
      'Max RSS of the native engine process during the window, sampled ≥ 10 Hz (on Linux also the kernel peak, VmHWM).',
  },
  loadRssBytes: {
    unit: 'bytes',
    direction: 'lower',
    description: 'RSS of the native engine process right after the model loaded.',
  },
  loadPeakRssBytes: {
    unit: 'bytes',
    direction: 'lower',
    description: 'Max RSS of the native engine process from its start to the end of the model load.',
  },
  loadMs: { unit: 'ms', direction: 'lower', description: 'Model load time of the native engine.' },
  modelBytes: { unit: 'bytes', direction: 'none', description: 'Model file size.' },
  vramBytes: {
    unit: 'bytes',
    direction: 'lower',
    description: 'Device memory in use as the engine reports it (node-llama-cpp on a GPU backend).',
  },
}

export const DISTRIBUTION_METRICS: Readonly<Record<DistributionMetricName, MetricInfo>> = {
  ttftMs: {
    unit: 'ms',
    direction: 'lower',
    description:
      'Time to first token, t1 − tSend (service view); t1 is the first chunk carrying generated content. TTFT in vLLM, AIPerf and guidellm.',
  },
  ttftSchedMs: {
    unit: 'ms',
    direction: 'lower',
    description:
      'TTFT from the scheduled start, t1 − tSched (response view; corrects coordinated omission in open-loop runs).',
  },
  scheduleLagMs: {
    unit: 'ms',
    direction: 'none',
    description:
      'tSend − tSched: how late the client sent. Large values mean the client or maxInFlight limited the load.',
  },
  tpotMs: {
    unit: 'ms',
    direction: 'lower',
    description:
      'Time per output token, (e2eMs − ttftMs) / (outputTokens − 1), requests with ≥ 2 output tokens. vLLM/SGLang "TPOT" = AIPerf/guidellm "ITL".',
  },
  chunkGapsMs: {
    unit: 'ms',
    direction: 'lower',
    description:
      'Gap between consecutive content chunks, tk − tk−1, one sample per chunk pooled over requests. = vLLM "ITL" = AIPerf inter-chunk latency; not per-token time when chunks carry several tokens.',
  },
  e2eMs: {
    unit: 'ms',
    direction: 'lower',
    description: 'End-to-end latency, tLast − tSend. vLLM "E2EL", AIPerf "request latency".',
  },
  e2eSchedMs: {
    unit: 'ms',
    direction: 'lower',
    description: 'End-to-end latency from the scheduled start, tLast − tSched.',
  },
  decodeTokensPerS: {
    unit: 'tokens/s',
    direction: 'higher',
    description: 'Per-user decode speed, 1000 / tpotMs.',
  },
  prefillTokensPerS: {
    unit: 'tokens/s',
    direction: 'higher',
    description: 'promptTokens / TTFT in seconds (includes queueing and transport, not pure prefill).',
  },
  serverPromptMs: {
    unit: 'ms',
    direction: 'lower',
    description:
      'The server’s own prompt evaluation time (llama-server timings.prompt_ms): uncached prompt tokens only, without queueing, HTTP or client.',
  },
  serverTpotMs: {
    unit: 'ms',
    direction: 'lower',
    description:
      'The server’s own time per output token, timings.predicted_ms / (predicted_n − 1) (predicted_ms starts at the first generated token), requests with ≥ 2.',
  },
  ttftOverServerMs: {
    unit: 'ms',
    direction: 'lower',
    description:
      'ttftMs − serverPromptMs per request: the part of TTFT the server’s prompt time does not explain (queueing in the server, HTTP, the client).',
  },
  tpotOverServerMs: {
    unit: 'ms',
    direction: 'lower',
    description:
      'tpotMs − serverTpotMs per request: per-token time the server’s clock does not explain (transport and client).',
  },
  outputTokens: {
    unit: 'tokens',
    direction: 'none',
    description: 'Output tokens per ok request: server usage, else tokenizer, else content chunks.',
  },
  promptTokens: {
    unit: 'tokens',
    direction: 'none',
    description: 'Prompt tokens per ok request: server usage, else tokenizer.',
  },
}

const ERROR_KIND_DESCRIPTIONS: Readonly<Record<RequestErrorKind, string>> = {
  timeout: 'no complete answer within requestTimeoutMs',
  http: 'a non-2xx HTTP status',
  stream: 'a malformed or dropped stream',
  engine: 'an error reported by the engine',
  crash: 'the engine process crashed',
  aborted: 'the run was interrupted while in flight',
}

export function errorKindMetricName(kind: RequestErrorKind): ErrorKindMetricName {
  return `errors${kind.charAt(0).toUpperCase()}${kind.slice(1)}` as ErrorKindMetricName
}

export const ERROR_KIND_METRICS = Object.fromEntries(
  (Object.entries(ERROR_KIND_DESCRIPTIONS) as [RequestErrorKind, string][]).map(([kind, text]) => [
    errorKindMetricName(kind),
    { unit: 'count', direction: 'none', description: `Requests that failed with kind "${kind}": ${text}.` },
  ]),
) as Readonly<Record<ErrorKindMetricName, MetricInfo>>

/**
 * llama-bench-style engine throughput over repetitions (METRICS.md): what native engines report and what
 * `bench import` maps llama-bench `-o json` records to. Not part of RunMetrics (no HTTP, no tokenization).
 */
export const NATIVE_METRICS = {
  promptTokensPerS: {
    unit: 'tokens/s',
    direction: 'higher',
    description:
      'Prompt processing speed, mean over repetitions (llama-bench "pp" avg_ts); excludes HTTP and tokenization.',
  },
  promptTokensPerSSd: {
    unit: 'tokens/s',
    direction: 'none',
    description:
      'Sample standard deviation (n − 1) of promptTokensPerS over repetitions (llama-bench stddev_ts).',
  },
  genTokensPerS: {
    unit: 'tokens/s',
    direction: 'higher',
    description:
      'Generation speed, mean over repetitions (llama-bench "tg" avg_ts); excludes HTTP and tokenization.',
  },
  genTokensPerSSd: {
    unit: 'tokens/s',
    direction: 'none',
    description:
      'Sample standard deviation (n − 1) of genTokensPerS over repetitions (llama-bench stddev_ts).',
  },
} as const satisfies Record<string, MetricInfo>
export type NativeMetricName = keyof typeof NATIVE_METRICS

/**
 * An accuracy run's figures (harness/accuracy/run-metrics.ts, METRICS.md "Accuracy"); per-subject rows
 * `acc/<subject>` and `accStderr/<subject>` resolve through SUBJECT_METRICS.
 */
export const ACCURACY_METRICS = {
  acc: {
    unit: 'ratio',
    direction: 'higher',
    description: 'Accuracy: correct / scored items (failed items left out). lm-evaluation-harness "acc".',
  },
  accStderr: {
    unit: 'ratio',
    direction: 'none',
    description: 'Standard error of acc, sqrt(acc·(1−acc)/(n−1)).',
  },
  accNorm: {
    unit: 'ratio',
    direction: 'higher',
    description:
      'Length-normalized accuracy (mmlu-continuation): argmax of loglik / choice length. lm-evaluation-harness "acc_norm".',
  },
  accNormStderr: { unit: 'ratio', direction: 'none', description: 'Standard error of accNorm.' },
  accWeighted: {
    unit: 'ratio',
    direction: 'higher',
    description:
      'Size-weighted average of the subjects’ accuracies (= acc), lm-evaluation-harness’s group figure.',
  },
  accWeightedStderr: {
    unit: 'ratio',
    direction: 'none',
    description: 'Pooled standard error of accWeighted (lm-evaluation-harness).',
  },
  accMacro: {
    unit: 'ratio',
    direction: 'higher',
    description: 'Unweighted mean of the subjects’ accuracies.',
  },
  accMacroStderr: { unit: 'ratio', direction: 'none', description: 'Standard error of accMacro.' },
  accItems: { unit: 'count', direction: 'none', description: 'Items scored (attempted − failed).' },
  accErrors: { unit: 'count', direction: 'none', description: 'Items that failed (not scored).' },
  accErrorRate: {
    unit: 'ratio',
    direction: 'lower',
    description: 'Failed items / attempted items (items aborted by an interrupt excluded).',
  },
} as const satisfies Record<string, MetricInfo>
export type AccuracyMetricName = keyof typeof ACCURACY_METRICS

/** Per-subject accuracy rows, `${base}/${subject}`. */
export const SUBJECT_METRICS = ['acc', 'accStderr'] as const satisfies readonly AccuracyMetricName[]

/**
 * A quality run's figures against its reference target (harness/quality/run-metrics.ts, METRICS.md
 * "Quality relative to a reference variant"; llama-perplexity --kl-divergence's names in the descriptions).
 */
export const QUALITY_METRICS = {
  klDivergence: {
    unit: 'nats',
    direction: 'lower',
    description:
      'Mean KL divergence Σ p_ref·(ln p_ref − ln p_var) of the next-token distributions over the scored positions (llama-perplexity "Mean KLD").',
  },
  klDivergenceSe: { unit: 'nats', direction: 'none', description: 'Standard error of klDivergence.' },
  klDivergenceMedian: { unit: 'nats', direction: 'lower', description: 'Median per-position KLD.' },
  klDivergenceP99: { unit: 'nats', direction: 'lower', description: '99th percentile of per-position KLD.' },
  klDivergenceMax: { unit: 'nats', direction: 'lower', description: 'Largest per-position KLD.' },
  top1Agreement: {
    unit: 'ratio',
    direction: 'higher',
    description:
      'Fraction of positions where variant and reference rank the same token first (llama-perplexity "Same top p").',
  },
  top1AgreementSe: {
    unit: 'ratio',
    direction: 'none',
    description: 'Standard error of top1Agreement, sqrt(p(1−p)/(n−1)).',
  },
  deltaPMean: {
    unit: 'ratio',
    direction: 'none',
    description: 'Mean of p_var(x) − p_ref(x) for the actual next token x (llama-perplexity "Mean Δp").',
  },
  deltaPRms: { unit: 'ratio', direction: 'lower', description: 'RMS of Δp (llama-perplexity "RMS Δp").' },
  lnPplRatio: {
    unit: 'nats',
    direction: 'lower',
    description:
      'ln(PPL_var / PPL_ref) = mean(nll_var − nll_ref) (llama-perplexity "Mean ln(PPL(Q)/PPL(base))").',
  },
  lnPplRatioSe: { unit: 'nats', direction: 'none', description: 'Standard error of lnPplRatio.' },
  qualityTokens: {
    unit: 'count',
    direction: 'none',
    description: 'Scored positions behind the quality figures.',
  },
  qualityTopK: {
    unit: 'count',
    direction: 'none',
    description:
      'k of the top-k lists the figures come from: an endpoint (topKLogProbs), approximate (harness/quality/top-k.ts); absent = full distributions, exact.',
  },
} as const satisfies Record<string, MetricInfo>
export type QualityMetricName = keyof typeof QUALITY_METRICS

/** A micro figure's catalogue name, whatever the task: `micro/meanMs` for row `micro/forward-128/meanMs`. */
export type MicroMetricName = `micro/${MicroStat}`

/** Every metric by base name: scalars, error kinds and distributions (whose rows add a Stat suffix). */
export const METRIC_CATALOGUE: Readonly<Record<MetricName, MetricInfo>> = {
  ...SCALAR_METRICS,
  ...ERROR_KIND_METRICS,
  ...DISTRIBUTION_METRICS,
  ...NATIVE_METRICS,
  ...ACCURACY_METRICS,
  ...QUALITY_METRICS,
  ...(Object.fromEntries(
    Object.entries(MICRO_METRICS).map(([stat, info]) => [`micro/${stat}`, info]),
  ) as Record<MicroMetricName, MetricInfo>),
}

export interface ResolvedMetricInfo extends MetricInfo {
  /** Catalogue entry the row belongs to, e.g. `ttftMs` for `ttftMsP95`. */
  base: MetricName
  /** Set for a distribution's statistic rows. */
  stat?: DistributionStat
}

/** A latency's spread is better smaller; the spread of a throughput or a count is descriptive. */
function statDirection(stat: DistributionStat, base: MetricDirection): MetricDirection {
  return stat === 'Sd' && base !== 'lower' ? 'none' : base
}

/** Catalogue entry of one statistic of a distribution, e.g. (`ttftMs`, `P95`) for row `ttftMsP95`. */
export function statInfo(base: DistributionMetricName, stat: DistributionStat): ResolvedMetricInfo {
  const info = DISTRIBUTION_METRICS[base]
  return {
    unit: info.unit,
    direction: statDirection(stat, info.direction),
    description: `${STAT_DESCRIPTIONS[stat]} of: ${info.description}`,
    base,
    stat,
  }
}

/**
 * Catalogue entry of a MetricRow name (`outputTokensPerS`, `ttftMsP95`, `errorsHttp`, `acc/anatomy`);
 * undefined if unknown.
 */
export function metricInfo(name: string): ResolvedMetricInfo | undefined {
  if (Object.hasOwn(METRIC_CATALOGUE, name)) {
    const base = name as MetricName
    return { ...METRIC_CATALOGUE[base], base }
  }
  // micro/<task>/<stat>: the task's own id between the slashes.
  const micro = /^micro\/([^/]+)\/([A-Za-z0-9]+)$/.exec(name)
  if (micro) {
    const stat = micro[2] as MicroStat
    if (!Object.hasOwn(MICRO_METRICS, stat)) return undefined
    const info = MICRO_METRICS[stat]
    return { ...info, description: `${info.description} Task ${micro[1]}.`, base: `micro/${stat}` }
  }
  const slash = name.indexOf('/')
  if (slash > 0) {
    const base = name.slice(0, slash) as (typeof SUBJECT_METRICS)[number]
    if (!SUBJECT_METRICS.includes(base) || slash === name.length - 1) return undefined
    const info = ACCURACY_METRICS[base]
    return { ...info, description: `${info.description} Subject ${name.slice(slash + 1)} only.`, base }
  }
  for (const stat of DISTRIBUTION_STATS) {
    const base = name.slice(0, -stat.length)
    if (name.endsWith(stat) && Object.hasOwn(DISTRIBUTION_METRICS, base))
      return statInfo(base as DistributionMetricName, stat)
  }
  return undefined
}
