/**
 * One scored position t, from the full next-token distributions of the reference and the variant
 * (METRICS.md, Quality):
 *   KLD_t     = Σ_v p_ref(v)·(ln p_ref(v) − ln p_var(v))
 *   Δp_t      = p_var(x_t) − p_ref(x_t), x_t the actual next token
 *   sameTop_t = [argmax p_var = argmax p_ref], ties to the lowest token id in both (as llama.cpp's loops)
 * and the two negative log-likelihoods −ln p(x_t) for ln(PPL_var/PPL_ref).
 *
 * Compared with llama.cpp (tools/perplexity/perplexity.cpp, log_softmax(…, kl_divergence_result &)):
 * the same sums, except that llama.cpp skips reference tokens with ln p_ref ≤ −16, because it reads the
 * reference from its --kl-divergence-base file, where log-probs are quantized to 16 bits. METRICS.md sums
 * over every v, so that is the default here; `refLogProbFloor: -16` reproduces llama.cpp's figures.
 * @module
 */
import type { LogProbs } from './log-softmax.ts'

export interface PositionComparison {
  /** KLD_t in nats; ≥ 0 up to rounding; +Infinity when the variant gives 0 to a token the reference does not. */
  readonly kld: number
  /** p_var(x_t) − p_ref(x_t), in [−1, 1]. */
  readonly deltaP: number
  readonly sameTop: boolean
  /** −ln p_ref(x_t), nats. */
  readonly nllRef: number
  /** −ln p_var(x_t), nats. */
  readonly nllVariant: number
}

export interface ComparePositionOptions {
  /** Reference tokens with ln p_ref ≤ this are left out of the KLD sum. @default -Infinity (none left out) */
  refLogProbFloor?: number
}

/** How far Σ p may be from 1 before the vector is refused as not log-probabilities. */
const NORMALIZATION_TOLERANCE = 1e-3

/**
 * The statistics of one position.
 * @param position named in errors
 * @throws RangeError when the vectors differ in length, nextToken is out of range, or a vector does not
 *   sum to 1 (logits passed where log-probabilities belong: run them through logSoftmax first)
 */
export function comparePosition(
  ref: LogProbs,
  variant: LogProbs,
  nextToken: number,
  options: ComparePositionOptions = {},
  position = 0,
): PositionComparison {
  const n = ref.length
  if (variant.length !== n)
    throw new RangeError(
      `position ${position}: reference has ${n} tokens, variant ${variant.length}: same vocabulary needed`,
    )
  if (!(Number.isInteger(nextToken) && nextToken >= 0 && nextToken < n))
    throw new RangeError(`position ${position}: next token ${nextToken} is not a token id in 0..${n - 1}`)
  const floor = options.refLogProbFloor ?? Number.NEGATIVE_INFINITY
  let kld = 0
  let refMass = 0
  let varMass = 0
  let refTop = 0
  let varTop = 0
  for (let v = 0; v < n; v++) {
    const lr = ref[v]!
    const lv = variant[v]!
    if (lr > ref[refTop]!) refTop = v
    if (lv > variant[varTop]!) varTop = v
    const pr = Math.exp(lr)
    refMass += pr
    varMass += Math.exp(lv)
    if (pr > 0 && lr > floor) kld += pr * (lr - lv)
  }
  for (const [name, mass] of [
    ['reference', refMass],
    ['variant', varMass],
  ] as const)
    if (!(Math.abs(mass - 1) <= NORMALIZATION_TOLERANCE))
      throw new RangeError(
        `position ${position}: the ${name} probabilities sum to ${mass}, not 1: pass log-probabilities (logSoftmax of the logits)`,
      )
  const lrx = ref[nextToken]!
  const lvx = variant[nextToken]!
  return {
    kld,
    deltaP: Math.exp(lvx) - Math.exp(lrx),
    sameTop: refTop === varTop,
    nllRef: -lrx,
    nllVariant: -lvx,
  }
}

/**
 * comparePosition over a sequence: `ref[t]` and `variant[t]` predict `nextTokens[t]`.
 * @throws RangeError when the three lengths differ, or as comparePosition
 */
export function compareSequence(
  ref: readonly LogProbs[],
  variant: readonly LogProbs[],
  nextTokens: readonly number[],
  options: ComparePositionOptions = {},
): PositionComparison[] {
  if (ref.length !== variant.length || ref.length !== nextTokens.length)
    throw new RangeError(
      `${ref.length} reference, ${variant.length} variant distributions and ${nextTokens.length} next tokens: one each per position`,
    )
  return ref.map((r, t) => comparePosition(r, variant[t]!, nextTokens[t]!, options, t))
}
