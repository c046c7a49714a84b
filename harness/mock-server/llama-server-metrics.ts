/**
 * llama-server's /metrics (`--metrics`), with the names, help texts, types and order of
 * tools/server/server-task.cpp `server_task_result_metrics::to_metrics()` in the llama.cpp that
 * node-llama-cpp bundles: counters first, then gauges, all prefixed `llamacpp:`. Values follow
 * server-context.cpp's bookkeeping: prompt tokens exclude cached ones (those are counted apart); a
 * generation's tokens are timed from the end of its prompt to its last token over n − 1 decode steps (the
 * first token comes from the prompt batch's logits); the two throughput gauges cover the window since the
 * previous scrape (the buckets reset on every /metrics read).
 * @module
 */
import { metricFamily } from './prometheus.ts'
import { type SpeculationCounts, SpeculationTotals } from './speculation.ts'

/** Tokens, decode steps and time (ms) accumulated since start or since the last scrape. */
class Bucket {
  tokens = 0
  steps = 0
  ms = 0

  add(tokens: number, steps: number, ms: number): void {
    this.tokens += tokens
    this.steps += steps
    this.ms += ms
  }

  /** llama.cpp's `n_per_second`: decode steps per second of the bucket's time. */
  perSecond(): number {
    return this.ms > 0 ? (1000 * this.steps) / this.ms : 0
  }
}

export class LlamaServerMetrics {
  readonly #prompt = new Bucket()
  readonly #predict = new Bucket()
  #promptBucket = new Bucket()
  #predictBucket = new Bucket()
  #promptCached = 0
  #nDecode = 0
  #busySlots = 0
  #nTokensMax = 0
  /** No position series before the first draft, as server-task.cpp writes them only once drafted. */
  readonly #spec = new SpeculationTotals()

  /**
   * A prompt was processed: `processed` tokens evaluated in `ms`, `cached` reused. One llama_decode call
   * (the mock evaluates each prompt as one batch, alone: one busy slot per decode, as with `-np 1`).
   */
  recordPrompt(processed: number, cached: number, ms: number): void {
    this.#prompt.add(processed, processed, ms)
    this.#promptBucket.add(processed, processed, ms)
    this.#promptCached += cached
    if (processed > 0) this.#decodes(1, processed + cached)
  }

  /** A generation finished: `tokens` generated over `ms` after the prompt (tokens − 1 decode steps). */
  recordPrediction(tokens: number, ms: number, sequenceTokens: number): void {
    const steps = Math.max(0, tokens - 1)
    this.#predict.add(tokens, steps, ms)
    this.#predictBucket.add(tokens, steps, ms)
    this.#decodes(steps, sequenceTokens)
  }

  /** A response's speculative-decoding counts (the speculative option; speculation.ts). */
  recordSpeculation(c: SpeculationCounts): void {
    this.#spec.add(c)
  }

  /**
   * Prometheus text; `processing` = requests in flight, `deferred` = requests queued for a slot (capacity
   * model). Resets the throughput gauges' window.
   */
  toPrometheus(processing: number, deferred = 0): string {
    const out: string[] = []
    const one = (name: string, type: string, help: string, value: number) =>
      metricFamily(out, `llamacpp:${name}`, type, help, [`llamacpp:${name} ${value}`])
    const counter = (name: string, help: string, value: number) => one(name, 'counter', help, value)
    const gauge = (name: string, help: string, value: number) => one(name, 'gauge', help, value)
    counter(
      'prompt_tokens_total',
      'Number of prompt tokens processed, excluding cached tokens',
      this.#prompt.tokens,
    )
    counter('prompt_tokens_cached_total', 'Number of prompt tokens reused from the cache', this.#promptCached)
    counter('prompt_seconds_total', 'Total time spent processing prompts', this.#prompt.ms / 1000)
    counter('tokens_predicted_total', 'Number of generation tokens processed', this.#predict.tokens)
    counter('tokens_predicted_seconds_total', 'Total time spent generating tokens', this.#predict.ms / 1000)
    counter(
      'n_decode_total',
      'Total number of llama_decode() calls, excluding speculative decoding and multimodal decoding',
      this.#nDecode,
    )
    counter('n_tokens_max', 'Largest observed sequence length (prompt + generation)', this.#nTokensMax)
    counter(
      'spec_decode_num_draft_tokens_total',
      'Speculative: Total draft tokens generated',
      this.#spec.draftTokens,
    )
    counter(
      'spec_decode_num_accepted_tokens_total',
      'Speculative: Total draft tokens accepted by the target model',
      this.#spec.acceptedTokens,
    )
    counter(
      'spec_decode_num_drafts_total',
      'Speculative: Total speculative decoding verification steps',
      this.#spec.drafts,
    )
    gauge('prompt_tokens_seconds', 'Average prompt throughput in tokens/s', this.#promptBucket.perSecond())
    gauge(
      'predicted_tokens_seconds',
      'Average generation throughput in tokens/s',
      this.#predictBucket.perSecond(),
    )
    gauge('requests_processing', 'Number of requests processing', processing)
    // Without the capacity model the mock serves every request at once: nothing waits for a slot.
    gauge('requests_deferred', 'Number of requests deferred', deferred)
    gauge(
      'n_busy_slots_per_decode',
      'Average number of busy slots per llama_decode() call',
      this.#busySlots / Math.max(this.#nDecode, 1),
    )
    // Last, as server-task.cpp writes it: only once the server has drafted, one series per draft position.
    if (this.#spec.acceptedAtPosition.length > 0) {
      const name = 'llamacpp:spec_decode_num_accepted_tokens_per_pos_total'
      metricFamily(
        out,
        name,
        'counter',
        'Accepted tokens per draft position',
        this.#spec.acceptedAtPosition.map((n, i) => `${name}{position="${i}"} ${n}`),
      )
    }
    this.#promptBucket = new Bucket()
    this.#predictBucket = new Bucket()
    return `${out.join('\n')}\n`
  }

  #decodes(n: number, sequenceTokens: number): void {
    this.#nDecode += n
    this.#busySlots += n
    this.#nTokensMax = Math.max(this.#nTokensMax, sequenceTokens)
  }
}
