/**
 * The token choices of speculative decoding, pure over probability vectors (index = token id), so the
 * native loop and the tests share them. Sampled mode is Leviathan et al.'s rejection sampling (Algorithm 1):
 * a drafted token x ~ q is kept with probability min(1, p(x) / q(x)); on the first rejection the emitted
 * token is drawn from norm(max(0, p − q)); after K kept tokens the bonus token is drawn from p. The emitted
 * tokens are then distributed exactly as the target's p. Greedy mode keeps x when x = argmax p.
 * Uniforms come from the caller (a seeded harness/random.ts generator), so a run is reproducible.
 * @module
 */

/** The index of the largest entry (the first on a tie, as llama.cpp's greedy sampler). */
export function argmax(p: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i
  return best
}

/**
 * Inverse-CDF draw from a non-negative vector, normalized by its sum (float probabilities from the engine
 * sum to 1 only up to rounding). @param u uniform in [0, 1)
 */
export function sampleIndex(p: ArrayLike<number>, u: number): number {
  let total = 0
  for (let i = 0; i < p.length; i++) total += p[i]!
  if (!(total > 0)) throw new RangeError('cannot sample from a distribution with no mass')
  const target = u * total
  let acc = 0
  let last = -1
  for (let i = 0; i < p.length; i++) {
    if (p[i]! <= 0) continue
    acc += p[i]!
    last = i
    if (target < acc) return i
  }
  // u·total can reach the float sum only through rounding: the last token with mass.
  return last
}

/** Accept a drafted token x? u < p(x) / q(x) (always when p(x) ≥ q(x)). @param u uniform in [0, 1) */
export function acceptDraftToken(p: ArrayLike<number>, q: ArrayLike<number>, x: number, u: number): boolean {
  const px = p[x] ?? 0
  const qx = q[x] ?? 0
  if (px >= qx) return true
  // qx > px ≥ 0 here, so the ratio is finite.
  return u < px / qx
}

/**
 * norm(max(0, p − q)), the distribution a rejected position is resampled from. When it has no mass (p ≤ q
 * everywhere, i.e. p = q up to rounding, where a rejection has probability ~0) p itself.
 */
export function residualDistribution(p: ArrayLike<number>, q: ArrayLike<number>): Float64Array {
  const out = new Float64Array(p.length)
  let total = 0
  for (let i = 0; i < p.length; i++) {
    const d = p[i]! - (q[i] ?? 0)
    if (d > 0) {
      out[i] = d
      total += d
    }
  }
  if (total > 0) {
    for (let i = 0; i < out.length; i++) out[i]! /= total
    return out
  }
  return Float64Array.from(p as ArrayLike<number>)
}

/** One verify step's outcome: how many drafted tokens were kept, and the token emitted after them. */
export interface VerifyOutcome {
  /** Drafted tokens accepted, 0..K (a prefix: acceptance stops at the first rejection). */
  accepted: number
  /** The correction token (resampled at the first rejected position) or the bonus token (all K kept). */
  next: number
}

/**
 * Rejection sampling over one step. `p` has K + 1 rows (the target's distributions after the last
 * committed token and after each drafted token), `q` K rows (the draft's, which `drafts` were sampled
 * from). `uniform()` is called once per examined draft token, then once for the emitted token.
 */
export function verifySampled(
  p: readonly ArrayLike<number>[],
  q: readonly ArrayLike<number>[],
  drafts: readonly number[],
  uniform: () => number,
): VerifyOutcome {
  const k = drafts.length
  if (p.length !== k + 1 || q.length !== k)
    throw new RangeError(`verifySampled needs K + 1 target rows and K draft rows for K = ${k}`)
  for (let i = 0; i < k; i++) {
    if (!acceptDraftToken(p[i]!, q[i]!, drafts[i]!, uniform()))
      return { accepted: i, next: sampleIndex(residualDistribution(p[i]!, q[i]!), uniform()) }
  }
  return { accepted: k, next: sampleIndex(p[k]!, uniform()) }
}

/**
 * Greedy verification: `targetTokens` are the target's argmax after the last committed token and after
 * each drafted token (K + 1 entries). Keeps drafts while they equal the target's choice; the next token is
 * the target's choice at the first mismatch, or its choice after the last draft (the bonus).
 */
export function verifyGreedy(targetTokens: readonly number[], drafts: readonly number[]): VerifyOutcome {
  const k = drafts.length
  if (targetTokens.length !== k + 1)
    throw new RangeError(`verifyGreedy needs K + 1 target tokens for K = ${k}, got ${targetTokens.length}`)
  let i = 0
  while (i < k && drafts[i] === targetTokens[i]) i++
  return { accepted: i, next: targetTokens[i]! }
}
