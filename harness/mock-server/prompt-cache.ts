/**
 * llama-server's prompt reuse as a client sees it (llama-server personality). llama.cpp keeps each slot's
 * tokens (prompt + answer) and a RAM cache of earlier ones (`--cache-ram`, 8 GiB by default); a new task
 * reuses the longest common prefix (tools/server/server-context.cpp: `get_common_prefix`, slot selection by
 * LCP similarity, `server_prompt_cache::load`), but always evaluates at least one token for the logits
 * ([TAG_PROMPT_LOGITS]: `n_past--` when the whole prompt matched). The mock keeps that outcome: cache_n =
 * the longest prefix (in tokens = words) shared with a cached sequence, at most prompt tokens − 1.
 *
 * Prefixes are kept as keys in one set (every prefix of every cached sequence), so a lookup is a binary
 * search over the prompt's prefix keys (a cached prefix of length k implies every shorter one) instead of a
 * scan of all entries.
 * @module
 */
import { hashString, mix32 } from './text.ts'

/**
 * Tokens kept in total, most recently inserted sequences first. Far below what llama-server's 8 GiB holds
 * for a small model; it only keeps the mock's memory flat (~100 bytes per token).
 */
export const PROMPT_CACHE_TOKENS = 262_144

/** 2^21: the second hash lane's top 21 bits go below the first lane's 32 (a 53-bit safe integer key). */
const LANE_SHIFT = 2 ** 21

/** Builds prefix keys: keys[k] identifies tokens [0, k] (two 32-bit hash lanes, collisions ~2^-53). */
export class PrefixKeys {
  readonly keys: number[] = []
  #a = 0x9e3779b9
  #b = 0x85ebca6b

  /** Appends the words of `text` (whitespace-separated, like the mock's token count). */
  addText(text: string): this {
    for (const word of text.split(/\s+/)) if (word !== '') this.add(word)
    return this
  }

  /** Appends token ids (a completions prompt given as ids). */
  addIds(ids: readonly number[]): this {
    for (const id of ids) this.add(`#${id}`)
    return this
  }

  add(token: string): void {
    const h = hashString(token)
    this.#a = mix32(this.#a, h)
    this.#b = mix32(this.#b ^ 0x27d4eb2f, hashString(token, h))
    this.keys.push((this.#a >>> 0) * LANE_SHIFT + ((this.#b >>> 0) >>> 11))
  }
}

export class PromptCache {
  readonly #capacityTokens: number
  /** Full-sequence key → its prefix keys, oldest first (Map keeps insertion order). */
  readonly #entries = new Map<number, readonly number[]>()
  /** Prefix key → how many cached sequences contain it. */
  readonly #refs = new Map<number, number>()
  #tokens = 0

  constructor(capacityTokens = PROMPT_CACHE_TOKENS) {
    this.#capacityTokens = capacityTokens
  }

  /** Tokens held (sum of the cached sequences' lengths). */
  get tokens(): number {
    return this.#tokens
  }

  /** Length of the longest prefix of `keys` that a cached sequence starts with. */
  longestPrefix(keys: readonly number[]): number {
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.#refs.has(keys[mid - 1]!)) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /**
   * Tokens of a `promptTokens`-token prompt reused from the cache: the longest cached prefix, less one
   * when it covers the whole prompt (llama-server evaluates at least one token).
   */
  reusable(keys: readonly number[], promptTokens: number): number {
    const n = Math.min(this.longestPrefix(keys), promptTokens)
    return n > 0 && n === promptTokens ? n - 1 : n
  }

  /** Caches a sequence (prompt, plus its answer when it was generated); evicts the oldest beyond capacity. */
  insert(keys: readonly number[]): void {
    if (keys.length === 0 || keys.length > this.#capacityTokens) return
    const id = keys.at(-1)!
    const existing = this.#entries.get(id)
    if (existing !== undefined) this.#remove(id, existing)
    this.#entries.set(id, keys)
    for (const key of keys) this.#refs.set(key, (this.#refs.get(key) ?? 0) + 1)
    this.#tokens += keys.length
    for (const [oldId, old] of this.#entries) {
      if (this.#tokens <= this.#capacityTokens) break
      this.#remove(oldId, old)
    }
  }

  #remove(id: number, keys: readonly number[]): void {
    this.#entries.delete(id)
    this.#tokens -= keys.length
    for (const key of keys) {
      const n = this.#refs.get(key)! - 1
      if (n === 0) this.#refs.delete(key)
      else this.#refs.set(key, n)
    }
  }
}
