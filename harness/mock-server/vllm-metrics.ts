/**
 * The vllm personality's `/metrics`: names, help texts and buckets of vLLM 0.11's v1 engine
 * (vllm/v1/metrics/loggers.py, PrometheusStatLogger), labelled `model_name` and `engine` like vLLM's.
 * 0.11 serves both `vllm:time_per_output_token_seconds` (deprecated there, removed in 0.13) and its
 * replacement `vllm:inter_token_latency_seconds`, observed per output (here: per content write). The mock
 * has no scheduler queue or KV cache: queue time and KV usage stay 0 (waiting is the capacity model's
 * queue). Prefix-cache queries and hits are counted as vLLM's KVCacheManager.get_computed_blocks counts
 * them (vllm/v1/core/kv_cache_manager.py): queries += every prompt token, hits += the longest cached prefix
 * in whole blocks of VLLM_BLOCK_SIZE tokens, at most prompt − 1 (`max_cache_hit_length = num_tokens − 1`:
 * the last token is computed for its logits); a request's prompt and answer enter the cache when it ends
 * (vLLM caches blocks as they fill: a request overlapping another in time may hit earlier there). Metrics
 * only: the mock's TTFT does not shrink with a hit (the llama-server personality's does). Kept apart from vllm.ts (the personality's
 * other behaviour) so the metrics and the wire can change independently; harness/server-metrics reads them.
 *
 * With the speculative option, vLLM's speculative-decoding counters (vllm/v1/spec_decode/metrics.py,
 * SpecDecodingProm), counted from the same draws as the llama-server personality's (speculation.ts): a
 * vLLM started without a speculative config registers none of them, and neither does the mock.
 * @module
 */
import type { GenerationEnd, GenerationObserver } from './generation.ts'
import { Histogram, metricFamily } from './prometheus.ts'
import { PrefixKeys, PromptCache } from './prompt-cache.ts'
import { SpeculationTotals } from './speculation.ts'
import { tokenIndex, VOCABULARY } from './text.ts'

/** vLLM's default KV-cache block size on GPU (CacheConfig.block_size 16): prefix hits come in whole blocks. */
export const VLLM_BLOCK_SIZE = 16

/** vLLM sizes its token-count buckets by max_model_len; the mock has no context limit and assumes this. */
export const VLLM_MAX_MODEL_LEN = 32_768

/** 1, 2, 5, 10, 20, 50 … up to `max` (loggers.py build_1_2_5_buckets). */
export function buckets125(max: number): number[] {
  const out: number[] = []
  for (let scale = 1; ; scale *= 10)
    for (const m of [1, 2, 5]) {
      if (m * scale > max) return out
      out.push(m * scale)
    }
}

const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
  80.0, 160.0, 640.0, 2560.0,
]
const ITL_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
]
const REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
  960.0, 1920.0, 7680.0,
]

/** vLLM's FinishReason values, as `finished_reason` labels. */
const FINISH_REASONS = ['stop', 'length', 'abort'] as const

export class VllmMetrics implements GenerationObserver {
  readonly #model: string
  #promptTokens = 0
  #generationTokens = 0
  #prefixHits = 0
  /** Token sequences (prompt + answer) whose blocks vLLM would hold, by prefix. */
  readonly #prefixCache = new PromptCache()
  readonly #success: Record<(typeof FINISH_REASONS)[number], number> = { stop: 0, length: 0, abort: 0 }
  readonly #promptTokensRequest = new Histogram(buckets125(VLLM_MAX_MODEL_LEN))
  readonly #generationTokensRequest = new Histogram(buckets125(VLLM_MAX_MODEL_LEN))
  readonly #ttft = new Histogram(TTFT_BUCKETS)
  readonly #tpot = new Histogram(ITL_BUCKETS)
  readonly #itl = new Histogram(ITL_BUCKETS)
  readonly #requestTpot = new Histogram(ITL_BUCKETS)
  readonly #e2e = new Histogram(REQUEST_LATENCY_BUCKETS)
  readonly #queue = new Histogram(REQUEST_LATENCY_BUCKETS)
  readonly #inference = new Histogram(REQUEST_LATENCY_BUCKETS)
  readonly #prefill = new Histogram(REQUEST_LATENCY_BUCKETS)
  readonly #decode = new Histogram(REQUEST_LATENCY_BUCKETS)

  /** Speculative-decoding totals; undefined without the speculative option (no series, as in vLLM). */
  readonly #spec: SpeculationTotals | undefined

  /**
   * `model` labels every series (`model_name`, the served model). `speculativeTokens`: vLLM's
   * num_speculative_tokens (the option's draftMax), the per-position series registered at start; none
   * without speculation.
   */
  constructor(model: string, speculativeTokens?: number) {
    this.#model = model
    this.#spec = speculativeTokens === undefined ? undefined : new SpeculationTotals(speculativeTokens)
  }

  /** One output per content write: the first gap is to the previous write, the rest of a burst are 0. */
  onContent(writtenMs: number, previousMs: number | undefined, count: number): void {
    const first = previousMs === undefined ? 1 : 0
    if (first === 0) {
      const gapS = (writtenMs - previousMs!) / 1000
      this.#itl.observe(gapS)
      this.#tpot.observe(gapS)
    }
    for (let i = 1; i < count; i++) {
      this.#itl.observe(0)
      this.#tpot.observe(0)
    }
  }

  onEnd(end: GenerationEnd): void {
    const { plan } = end
    if (end.firstMs === undefined || end.lastMs === undefined) {
      this.#success.abort++
      return
    }
    // vLLM counts each verification step as it happens; the mock draws a response's steps when it ends.
    if (end.speculation !== undefined) this.#spec?.add(end.speculation)
    const ttftS = (end.firstMs - end.arrivalMs) / 1000
    const decodeS = (end.lastMs - end.firstMs) / 1000
    this.#promptTokens += plan.promptTokens
    this.#generationTokens += end.tokens
    this.#countPrefixHits(end)
    this.#ttft.observe(ttftS)
    this.#success[end.completed ? plan.finishReason : 'abort']++
    this.#e2e.observe(ttftS + decodeS)
    this.#queue.observe(0)
    this.#prefill.observe(ttftS)
    this.#decode.observe(decodeS)
    this.#inference.observe(ttftS + decodeS)
    this.#promptTokensRequest.observe(plan.promptTokens)
    this.#generationTokensRequest.observe(end.tokens)
    if (end.tokens > 1) this.#requestTpot.observe(decodeS / (end.tokens - 1))
  }

  /**
   * SpecDecodingProm's counters (prometheus_client appends `_total`), labelled like the rest; per position
   * one series per drafted position 0..K − 1, present from start.
   */
  #speculationFamilies(out: string[], labels: string, spec: SpeculationTotals): void {
    const counter = (name: string, help: string, value: number) =>
      metricFamily(out, name, 'counter', help, [`${name}{${labels}} ${value}`])
    counter('vllm:spec_decode_num_drafts_total', 'Number of spec decoding drafts.', spec.drafts)
    counter('vllm:spec_decode_num_draft_tokens_total', 'Number of draft tokens.', spec.draftTokens)
    counter('vllm:spec_decode_num_accepted_tokens_total', 'Number of accepted tokens.', spec.acceptedTokens)
    const perPos = 'vllm:spec_decode_num_accepted_tokens_per_pos_total'
    metricFamily(
      out,
      perPos,
      'counter',
      'Accepted tokens per draft position.',
      spec.acceptedAtPosition.map((n, i) => `${perPos}{${labels},position="${i}"} ${n}`),
    )
  }

  /** Prefix-cache hits of the request's prompt, then its prompt (and answer, when sent in full) cached. */
  #countPrefixHits(end: GenerationEnd): void {
    const { plan } = end
    const keys = new PrefixKeys()
    const source = plan.promptSource
    if (source.length > 0 && typeof source[0] === 'number') keys.addIds(source as readonly number[])
    else for (const text of source as readonly string[]) keys.addText(text)
    const reusable = Math.min(this.#prefixCache.longestPrefix(keys.keys), plan.promptTokens - 1)
    this.#prefixHits += Math.floor(Math.max(0, reusable) / VLLM_BLOCK_SIZE) * VLLM_BLOCK_SIZE
    if (end.completed) for (let p = 0; p < end.tokens; p++) keys.add(VOCABULARY[tokenIndex(plan.textKey, p)]!)
    this.#prefixCache.insert(keys.keys)
  }

  /** Prometheus text; `running` = requests in flight, `waiting` = requests queued for a slot (capacity model). */
  toPrometheus(running: number, waiting = 0): string {
    const labels = `model_name=${JSON.stringify(this.#model)},engine="0"`
    const out: string[] = []
    const one = (name: string, type: string, help: string, value: number) =>
      metricFamily(out, name, type, help, [`${name}{${labels}} ${value}`])
    const histogram = (name: string, help: string, h: Histogram) =>
      metricFamily(out, name, 'histogram', help, h.samples(name, labels))
    // First: PrometheusStatLogger creates SpecDecodingProm before its other metrics, and the registry
    // writes families in the order they were registered.
    if (this.#spec !== undefined) this.#speculationFamilies(out, labels, this.#spec)
    one('vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', running)
    one('vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', waiting)
    one('vllm:kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', 0)
    one(
      'vllm:prefix_cache_queries_total',
      'counter',
      'Prefix cache queries, in terms of number of queried tokens.',
      this.#promptTokens,
    )
    one(
      'vllm:prefix_cache_hits_total',
      'counter',
      'Prefix cache hits, in terms of number of cached tokens.',
      this.#prefixHits,
    )
    one('vllm:num_preemptions_total', 'counter', 'Cumulative number of preemption from the engine.', 0)
    one('vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', this.#promptTokens)
    one(
      'vllm:generation_tokens_total',
      'counter',
      'Number of generation tokens processed.',
      this.#generationTokens,
    )
    metricFamily(
      out,
      'vllm:request_success_total',
      'counter',
      'Count of successfully processed requests.',
      FINISH_REASONS.map(
        (reason) =>
          `vllm:request_success_total{${labels},finished_reason="${reason}"} ${this.#success[reason]}`,
      ),
    )
    histogram('vllm:request_prompt_tokens', 'Number of prefill tokens processed.', this.#promptTokensRequest)
    histogram(
      'vllm:request_generation_tokens',
      'Number of generation tokens processed.',
      this.#generationTokensRequest,
    )
    histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', this.#ttft)
    histogram(
      'vllm:time_per_output_token_seconds',
      'Histogram of time per output token in seconds.DEPRECATED: Use vllm:inter_token_latency_seconds instead.',
      this.#tpot,
    )
    histogram('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', this.#itl)
    histogram(
      'vllm:request_time_per_output_token_seconds',
      'Histogram of time_per_output_token_seconds per request.',
      this.#requestTpot,
    )
    histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', this.#e2e)
    histogram(
      'vllm:request_queue_time_seconds',
      'Histogram of time spent in WAITING phase for request.',
      this.#queue,
    )
    histogram(
      'vllm:request_inference_time_seconds',
      'Histogram of time spent in RUNNING phase for request.',
      this.#inference,
    )
    histogram(
      'vllm:request_prefill_time_seconds',
      'Histogram of time spent in PREFILL phase for request.',
      this.#prefill,
    )
    histogram(
      'vllm:request_decode_time_seconds',
      'Histogram of time spent in DECODE phase for request.',
      this.#decode,
    )
    return `${out.join('\n')}\n`
  }
}
