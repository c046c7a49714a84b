/**
 * Log-probabilities from logits, numerically stable: ln p_v = x_v − (max + ln Σ exp(x − max)), the max
 * subtracted first so no exp overflows, the sum kept in double precision (llama.cpp's log_softmax in
 * tools/perplexity/perplexity.cpp does the same, summing exp in double).
 * @module
 */

/** A distribution over the vocabulary as natural-log probabilities, one entry per token id. */
export type LogProbs = Float32Array | Float64Array

/**
 * ln softmax(logits). -Infinity logits (masked tokens) give -Infinity; at least one must be finite.
 * @throws RangeError for an empty vector, a NaN or +Infinity logit, or no finite logit
 */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const n = logits.length
  if (n === 0) throw new RangeError('log-softmax of an empty logit vector')
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < n; i++) {
    const x = logits[i]!
    if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY)
      throw new RangeError(`logit ${i} is ${x}: the engine returned an invalid distribution`)
    if (x > max) max = x
  }
  if (max === Number.NEGATIVE_INFINITY) throw new RangeError('every logit is -Infinity: no token is possible')
  let sum = 0
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i]! - max)
  const logNormalizer = max + Math.log(sum)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = logits[i]! - logNormalizer
  return out
}
