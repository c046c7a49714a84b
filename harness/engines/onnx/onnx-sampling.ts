/**
 * Next-token choice from raw logits for the ONNX engine, in llama.cpp's order so both native engines
 * sample alike: bans (minTokens / ignoreEos) → repetition, frequency and presence penalties over the last
 * 64 tokens → top-k → top-p (on the untempered distribution) → temperature → a draw from a seeded RNG.
 * Temperature 0 (the default) is greedy; with temperature > 0 unset topK / topP default to node-llama-cpp's
 * 40 and 0.95. Also log-softmax and top-k extraction for logprobs.
 * @module
 */
import type { Random } from '../../random.ts'
import type { Sampling } from '../engine.ts'

/** node-llama-cpp's defaults when temperature > 0, so both native engines sample the same way. */
const DEFAULT_TOP_K = 40
const DEFAULT_TOP_P = 0.95
/** Tokens that repetition penalties look back over (llama.cpp `penalty_last_n`). */
export const PENALTY_WINDOW = 64

/**
 * Copies `logits` into `scores` with the bans and penalties applied.
 * @param history prompt and generated tokens so far; the last PENALTY_WINDOW are penalized
 */
export function applyPenalties(
  logits: ArrayLike<number>,
  scores: Float64Array,
  options: { banned?: readonly number[]; history?: readonly number[]; sampling?: Sampling },
): void {
  for (let v = 0; v < scores.length; v++) scores[v] = logits[v]!
  const { repetitionPenalty = 1, frequencyPenalty = 0, presencePenalty = 0 } = options.sampling ?? {}
  if ((repetitionPenalty !== 1 || frequencyPenalty !== 0 || presencePenalty !== 0) && options.history) {
    const counts = new Map<number, number>()
    for (const t of options.history.slice(-PENALTY_WINDOW)) counts.set(t, (counts.get(t) ?? 0) + 1)
    for (const [t, n] of counts) {
      if (t < 0 || t >= scores.length) continue
      let s = scores[t]!
      s = s > 0 ? s / repetitionPenalty : s * repetitionPenalty
      scores[t] = s - n * frequencyPenalty - presencePenalty
    }
  }
  for (const t of options.banned ?? []) if (t >= 0 && t < scores.length) scores[t] = Number.NEGATIVE_INFINITY
}

export function argmax(scores: ArrayLike<number>): number {
  let best = 0
  for (let v = 1; v < scores.length; v++) if (scores[v]! > scores[best]!) best = v
  return best
}

/** Picks the next token from penalized scores. */
export function sampleToken(scores: Float64Array, sampling: Sampling | undefined, random: Random): number {
  const temperature = sampling?.temperature ?? 0
  if (temperature <= 0) return argmax(scores)
  const topK = Math.min(sampling?.topK ?? DEFAULT_TOP_K, scores.length)
  const topP = sampling?.topP ?? DEFAULT_TOP_P
  const ids = Array.from(scores.keys())
    .filter((v) => scores[v]! > Number.NEGATIVE_INFINITY)
    .sort((a, b) => scores[b]! - scores[a]!)
  if (ids.length === 0) return argmax(scores)
  let kept = ids.slice(0, topK > 0 ? topK : ids.length)
  if (topP < 1) {
    const probs = softmaxOf(kept.map((v) => scores[v]!))
    let cumulative = 0
    let n = 0
    while (n < kept.length) {
      cumulative += probs[n]!
      n++
      if (cumulative >= topP) break
    }
    kept = kept.slice(0, n)
  }
  const probs = softmaxOf(kept.map((v) => scores[v]! / temperature))
  let u = random.next()
  for (let i = 0; i < kept.length; i++) {
    u -= probs[i]!
    if (u < 0) return kept[i]!
  }
  return kept.at(-1)!
}

function softmaxOf(values: readonly number[]): number[] {
  const max = Math.max(...values)
  const exps = values.map((x) => Math.exp(x - max))
  const sum = exps.reduce((a, b) => a + b, 0)
  return exps.map((e) => e / sum)
}

/** log softmax(logits), computed stably in float64. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const out = new Float64Array(logits.length)
  let max = Number.NEGATIVE_INFINITY
  for (let v = 0; v < logits.length; v++) max = Math.max(max, logits[v]!)
  let sum = 0
  for (let v = 0; v < logits.length; v++) sum += Math.exp(logits[v]! - max)
  const logZ = max + Math.log(sum)
  for (let v = 0; v < logits.length; v++) out[v] = logits[v]! - logZ
  return out
}

/** The k largest entries, best first (ties: lower id first). */
export function topEntries(logprobs: ArrayLike<number>, k: number): { id: number; logprob: number }[] {
  const top: { id: number; logprob: number }[] = []
  if (k <= 0) return top
  for (let v = 0; v < logprobs.length; v++) {
    const lp = logprobs[v]!
    if (top.length === k && lp <= top[k - 1]!.logprob) continue
    let i = top.length
    while (i > 0 && top[i - 1]!.logprob < lp) i--
    top.splice(i, 0, { id: v, logprob: lp })
    if (top.length > k) top.pop()
  }
  return top
}
