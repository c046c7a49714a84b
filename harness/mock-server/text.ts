/**
 * The mock's "model": deterministic words and pseudo log-probability distributions, both a pure function
 * of a per-request key and the token position, so the same request gives the same answer whatever the
 * order in which requests arrive (like greedy decoding).
 * @module
 */
import { createRandom } from '../random.ts'

/** 64 short ASCII words; one word is one token. A power of two so a hash picks one without bias. */
export const VOCABULARY: readonly string[] = (
  'the model runs fast on small data and every token counts in a long stream of bright words that flow ' +
  'through quiet servers while clocks tick over open fields near old rivers where light falls soft green ' +
  'stone paths lead to warm rooms with blue doors under clear skies as birds sing new songs for us all day ' +
  'then night comes slowly again home'
).split(' ')

const VOCAB_MASK = VOCABULARY.length - 1

/** murmur3's 32-bit finalizer. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Combines two 32-bit values into a well-mixed 32-bit hash. */
export function mix32(a: number, b: number): number {
  return fmix32((fmix32(a >>> 0) + Math.imul(b >>> 0, 0x9e3779b1)) >>> 0)
}

/** FNV-1a over UTF-16 code units, continuing from `hash`. */
export function hashString(text: string, hash = 0x811c9dc5): number {
  let h = hash >>> 0
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  return h
}

/** Whitespace-separated words: the mock's prompt token count (the harness's synthetic prompts are one word per token). */
export function countWords(text: string): number {
  let words = 0
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    // ASCII whitespace plus NBSP and the other JS \s code points that occur in practice.
    const space =
      c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x2028 || c === 0x2029 || c === 0xfeff
    if (space) inWord = false
    else if (!inWord) {
      inWord = true
      words++
    }
  }
  return words
}

/** Vocabulary index of the token at `position` (also the top-1 of its log-probability distribution). */
export function tokenIndex(key: number, position: number): number {
  return mix32(key, position) & VOCAB_MASK
}

/** Token text: the word, preceded by a space except at the very start of a chat answer. */
export function tokenText(index: number, leadingSpace: boolean): string {
  const word = VOCABULARY[index]!
  return leadingSpace ? ` ${word}` : word
}

export interface TopLogprob {
  token: string
  logprob: number
  bytes: number[]
}

export interface TokenLogprobs extends TopLogprob {
  top_logprobs: TopLogprob[]
}

const encoder = new TextEncoder()

function withBytes(token: string, logprob: number): TopLogprob {
  return { token, logprob, bytes: Array.from(encoder.encode(token)) }
}

/** Sharper than a flat Dirichlet draw so the top token usually dominates, as in a real model. */
const PEAK_EXPONENT = 3

/**
 * The pseudo distribution at `position`: probabilities over the whole vocabulary (drawn from the seeded
 * generator, sorted descending, normalised to 1), the sampled token first (greedy), the other words in a
 * seeded order. Returns the sampled token's entry with the `top` most likely alternatives (itself first).
 */
export function tokenLogprobs(
  key: number,
  position: number,
  leadingSpace: boolean,
  top: number,
): TokenLogprobs {
  const chosen = tokenIndex(key, position)
  const random = createRandom(mix32(key ^ 0x6a09e667, position))
  const n = VOCABULARY.length
  const weights = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) {
    const w = (-Math.log(1 - random.next())) ** PEAK_EXPONENT
    weights[i] = w
    sum += w
  }
  weights.sort().reverse()
  const order: number[] = [chosen]
  const others = [...Array(n).keys()].filter((i) => i !== chosen)
  const k = Math.min(top, n)
  // Partial Fisher–Yates: only the first k − 1 alternatives need a place.
  for (let i = 0; i < k - 1; i++) {
    const j = i + Math.floor(random.next() * (others.length - i))
    const a = others[i]!
    others[i] = others[j]!
    others[j] = a
    order.push(others[i]!)
  }
  const logprobOf = (rank: number) => Math.log(weights[rank]! / sum)
  const entry = withBytes(tokenText(chosen, leadingSpace), logprobOf(0))
  const alternatives: TopLogprob[] = []
  for (let rank = 0; rank < k; rank++)
    alternatives.push(withBytes(tokenText(order[rank]!, leadingSpace), logprobOf(rank)))
  return { ...entry, top_logprobs: alternatives }
}
