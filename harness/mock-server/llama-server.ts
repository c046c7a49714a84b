/**
 * The llama-server personality's server state: its RAM prompt cache (cache_n, and a TTFT that only counts
 * the uncached prompt tokens) and its `llamacpp:` metrics.
 * @module
 */
import type { GenerationEnd, GenerationObserver } from './generation.ts'
import { LlamaServerMetrics } from './llama-server-metrics.ts'
import { PrefixKeys, PromptCache } from './prompt-cache.ts'
import type { GenerationPlan } from './protocol.ts'
import { tokenIndex, VOCABULARY } from './text.ts'

export class LlamaServerModel implements GenerationObserver {
  readonly metrics = new LlamaServerMetrics()
  readonly cache = new PromptCache()
  /** Each accepted request's prompt keys, until it ends and its tokens enter the cache. */
  readonly #keys = new WeakMap<GenerationPlan, PrefixKeys>()

  /**
   * Looks the prompt up in the cache: sets `plan.cacheN` and returns the TTFT scale. The model: the mock's
   * TTFT stands for processing the whole prompt, so a request with cache_n reused tokens waits
   * TTFT × (prompt − cache_n) / prompt (a repeated 10-token prompt: 1 token left, a tenth of the TTFT).
   */
  admit(plan: GenerationPlan): number {
    const keys = new PrefixKeys()
    const source = plan.promptSource
    if (source.length > 0 && typeof source[0] === 'number') keys.addIds(source as readonly number[])
    else for (const text of source as readonly string[]) keys.addText(text)
    this.#keys.set(plan, keys)
    plan.cacheN = this.cache.reusable(keys.keys, plan.promptTokens)
    return plan.promptTokens > 0 ? (plan.promptTokens - plan.cacheN) / plan.promptTokens : 1
  }

  onContent(): void {}

  /**
   * The slot's tokens enter the cache once the request ends, as llama-server keeps a slot's prompt and
   * answer (the answer only when it was generated in full here); metrics as server-context.cpp counts them.
   */
  onEnd(end: GenerationEnd): void {
    const { plan } = end
    const keys = this.#keys.get(plan)
    this.#keys.delete(plan)
    if (end.firstMs === undefined || end.lastMs === undefined) return // the prompt never finished
    const promptN = plan.promptTokens - plan.cacheN
    this.metrics.recordPrompt(promptN, plan.cacheN, end.firstMs - end.arrivalMs)
    this.metrics.recordPrediction(end.tokens, end.lastMs - end.firstMs, plan.promptTokens + end.tokens)
    if (end.speculation) this.metrics.recordSpeculation(end.speculation)
    if (keys === undefined) return
    if (end.completed) for (let p = 0; p < end.tokens; p++) keys.add(VOCABULARY[tokenIndex(plan.textKey, p)]!)
    this.cache.insert(keys.keys)
  }
}
