/**
 * The approximation for endpoints that return only the top-k log-probabilities of each position
 * (METRICS.md: "union of the top-k sets plus one bucket for the rest; approximate: true").
 *
 * Categories: U = topk_ref ∪ topk_var ∪ {x_t} (the actual next token added so Δp and the NLLs are
 * defined), plus one bucket `rest` for every other token. Each side m gives a probability to each
 * category:
 * - a token it listed: its own exp(logprob);
 * - a token of U it did not list (its share of the unlisted mass): R_m = 1 − Σ listed p_m is split evenly
 *   between those M_m missing tokens and the rest bucket, each missing token getting
 *   min(smallest listed p_m, R_m / (|M_m| + 1)) — it was not in the top k, so it cannot exceed the k-th;
 * - the rest bucket: what is left, R_m − |M_m|·share (≥ R_m / (|M_m| + 1), so > 0 whenever R_m > 0).
 * R_m below 1e-6 counts as 0 only when both sides list every token of U and both R are below it (two
 * lists covering the vocabulary, which sum to 1 only up to rounding); otherwise each side's R is taken as at
 * least 1e-6, so no category gets 0 on one side and mass on the other (an infinite term): a peaked top 20
 * can sum to 1 − 1e-7 on one side and 1 − 2e-6 on the other.
 * Then KLD_t = Σ_c p_ref(c)·ln(p_ref(c)/p_var(c)) over the categories. When k covers the vocabulary U is
 * every token, both rests are 0 and the figure equals the exact one (tested); otherwise it is an estimate.
 * @module
 */
import type { PositionComparison } from './position.ts'

/** One entry of an endpoint's top-k list: a token (id or text, the same kind on both sides) and ln p. */
export interface TokenLogprob {
  readonly token: number | string
  readonly logprob: number
}

export interface ApproximatePositionComparison extends PositionComparison {
  readonly approximate: true
}

/** Unlisted mass below this is rounding of a full list, not probability. */
const REST_EPSILON = 1e-6

/**
 * ln p of the actual next token on each side when known apart from the top-k list (vLLM's echo lists it
 * beyond the top k): it counts as listed, but does not lower the bound `smallest listed p` that the tokens
 * a side did not list are held under (only the k-th of its top k does: an unlisted token may lie anywhere
 * below that, above the next token too). Ignored when the list already holds the token.
 */
export interface KnownNextLogprobs {
  readonly ref?: number
  readonly variant?: number
}

/**
 * The statistics of one position from two top-k lists.
 * @throws RangeError for an empty list, a repeated token, a logprob above 0 or NaN, or listed
 *   probabilities summing above 1
 */
export function compareTopK(
  ref: readonly TokenLogprob[],
  variant: readonly TokenLogprob[],
  nextToken: number | string,
  position = 0,
  known: KnownNextLogprobs = {},
): ApproximatePositionComparison {
  const r = sideOf('reference', ref, position, nextToken, known.ref)
  const v = sideOf('variant', variant, position, nextToken, known.variant)
  const union = new Set<number | string>([...r.listed.keys(), ...v.listed.keys(), nextToken])
  const missingR = countMissing(r, union)
  const missingV = countMissing(v, union)
  const partial = missingR > 0 || missingV > 0 || r.unlisted >= REST_EPSILON || v.unlisted >= REST_EPSILON
  const pr = completeSide(r, missingR, partial)
  const pv = completeSide(v, missingV, partial)
  let kld = 0
  for (const token of union) kld += term(pr.of(token), pv.of(token))
  kld += term(pr.rest, pv.rest)
  const refX = pr.of(nextToken)
  const varX = pv.of(nextToken)
  return {
    kld,
    deltaP: varX - refX,
    sameTop: r.top === v.top,
    nllRef: -Math.log(refX),
    nllVariant: -Math.log(varX),
    approximate: true,
  }
}

function term(p: number, q: number): number {
  if (p === 0) return 0
  return p * (Math.log(p) - Math.log(q))
}

interface Side {
  readonly listed: Map<number | string, number>
  readonly top: number | string
  readonly smallest: number
  /** 1 − Σ listed p (≥ 0). */
  readonly unlisted: number
}

function sideOf(
  name: string,
  list: readonly TokenLogprob[],
  position: number,
  nextToken: number | string,
  nextLogprob: number | undefined,
): Side {
  if (list.length === 0) throw new RangeError(`position ${position}: the ${name} top-k list is empty`)
  const listed = new Map<number | string, number>()
  let top = list[0]!
  let smallest = 1
  let sum = 0
  for (const entry of list) {
    if (listed.has(entry.token))
      throw new RangeError(
        `position ${position}: token ${JSON.stringify(entry.token)} is listed twice in the ${name} top-k`,
      )
    if (!(entry.logprob <= 1e-6))
      throw new RangeError(
        `position ${position}: ${name} logprob ${entry.logprob} of ${JSON.stringify(entry.token)} is not ≤ 0`,
      )
    const p = Math.exp(Math.min(0, entry.logprob))
    listed.set(entry.token, p)
    if (entry.logprob > top.logprob) top = entry
    smallest = Math.min(smallest, p)
    sum += p
  }
  if (nextLogprob !== undefined && !listed.has(nextToken)) {
    if (!(nextLogprob <= 1e-6))
      throw new RangeError(
        `position ${position}: ${name} logprob ${nextLogprob} of the next token ${JSON.stringify(nextToken)} is not ≤ 0`,
      )
    const p = Math.exp(Math.min(0, nextLogprob))
    listed.set(nextToken, p)
    sum += p
  }
  if (sum > 1 + 1e-3)
    throw new RangeError(
      `position ${position}: the ${name} top-k probabilities sum to ${sum} > 1: pass natural-log probabilities`,
    )
  return { listed, top: top.token, smallest, unlisted: Math.max(0, 1 - sum) }
}

function countMissing(side: Side, union: ReadonlySet<number | string>): number {
  let missing = 0
  for (const token of union) if (!side.listed.has(token)) missing++
  return missing
}

/**
 * A side's probability per category. `partial`: some list does not cover the vocabulary, so each side's
 * unlisted mass is real even where rounding makes it look 0, and is taken as at least REST_EPSILON; else
 * (both full) the rests are rounding and count as 0.
 */
function completeSide(
  side: Side,
  missing: number,
  partial: boolean,
): { of(token: number | string): number; rest: number } {
  const mass = partial ? Math.max(side.unlisted, REST_EPSILON) : 0
  const share = missing === 0 ? 0 : Math.min(side.smallest, mass / (missing + 1))
  return { of: (token) => side.listed.get(token) ?? share, rest: mass - missing * share }
}
