/**
 * Comparing the accuracy of a variant with a base (METRICS.md: paired comparison by McNemar's exact test).
 *
 * Paired (the same items scored by both):
 * - mcnemarExact: the discordant pairs b (base right, variant wrong) and c (base wrong, variant right);
 *   under H0 each discordant pair goes either way with probability ½, so with X ~ Binomial(b + c, ½)
 *   the two-sided p = min(1, 2·P(X ≤ min(b, c))), exact for any n (summed in log space, binomial.ts).
 * - deltaAccPaired: Δacc = acc_variant − acc_base = (c − b)/n with Newcombe's method 10 interval
 *   (R. G. Newcombe, "Improved confidence intervals for the difference between binomial proportions based
 *   on paired data", Stat Med 1998;17:2635–50): the Wilson score limits of both accuracies combined with
 *   the phi correlation of the 2×2 table. Chosen over the paired Wald interval, whose coverage Newcombe
 *   found poor and which overshoots [−1, 1] when few pairs are discordant (exactly the regime of a good
 *   quantization); closed form, unlike Tango's score interval, which needs an iterative root search for a
 *   similar coverage.
 * Unpaired (different item sets):
 * - deltaAccUnpaired: Newcombe's method 10 for independent proportions (the hybrid Wilson score interval,
 *   "Interval estimation for the difference between independent proportions: comparison of eleven
 *   methods", Stat Med 1998;17:873–90), with the same reasons.
 * The gate (accuracyDropTest) asks one-sided "did accuracy drop?": McNemar's exact tail P(X ≥ b) when
 * paired; otherwise the pooled two-proportion z-test, or Fisher's exact test when an expected cell count is
 * below 5 (Cochran's rule, where the normal approximation is not trusted).
 * @module
 */
import { normalQuantile, normalSf } from '../regression/distributions.ts'
import { binomialHalfCdf, hypergeometricCdf } from './binomial.ts'

/** Paired outcomes of the same items under base and variant. */
export interface PairedTable {
  readonly n: number
  readonly bothCorrect: number
  /** Base right, variant wrong: McNemar's b. */
  readonly onlyBase: number
  /** Base wrong, variant right: McNemar's c. */
  readonly onlyVariant: number
  readonly neither: number
}

/**
 * The 2×2 table of two outcome lists over the same items, in the same order.
 * @throws RangeError when the lengths differ or are 0
 */
export function pairedTable(base: readonly boolean[], variant: readonly boolean[]): PairedTable {
  if (base.length !== variant.length)
    throw new RangeError(
      `paired outcomes need the same items: ${base.length} base vs ${variant.length} variant`,
    )
  if (base.length === 0) throw new RangeError('no paired items')
  let bothCorrect = 0
  let onlyBase = 0
  let onlyVariant = 0
  let neither = 0
  for (let i = 0; i < base.length; i++) {
    if (base[i]) {
      if (variant[i]) bothCorrect++
      else onlyBase++
    } else if (variant[i]) onlyVariant++
    else neither++
  }
  return { n: base.length, bothCorrect, onlyBase, onlyVariant, neither }
}

/**
 * The 2×2 table of outcomes keyed by item id (McItem.id), so the order of the runs does not matter.
 * @throws RangeError when an id is scored on one side only, or twice on one side
 */
export function pairByItemId(
  base: readonly { readonly id: string; readonly correct: boolean }[],
  variant: readonly { readonly id: string; readonly correct: boolean }[],
): PairedTable {
  const index = (side: string, rows: readonly { id: string; correct: boolean }[]) => {
    const map = new Map<string, boolean>()
    for (const r of rows) {
      if (map.has(r.id)) throw new RangeError(`item ${r.id} is scored twice in the ${side} run`)
      map.set(r.id, r.correct)
    }
    return map
  }
  const b = index('base', base)
  const v = index('variant', variant)
  const onlyOneSide = [...b.keys()]
    .filter((id) => !v.has(id))
    .concat([...v.keys()].filter((id) => !b.has(id)))
  if (onlyOneSide.length > 0)
    throw new RangeError(
      `${onlyOneSide.length} item(s) scored in one run only (e.g. ${onlyOneSide.slice(0, 3).join(', ')}): ` +
        'pair runs of the same items (same subjects, limit, order and seed) or compare them unpaired',
    )
  const ids = [...b.keys()]
  return pairedTable(
    ids.map((id) => b.get(id)!),
    ids.map((id) => v.get(id)!),
  )
}

export interface McNemarExact {
  /** Base right, variant wrong. */
  readonly onlyBase: number
  /** Base wrong, variant right. */
  readonly onlyVariant: number
  /** min(1, 2·P(X ≤ min(b, c))), X ~ Binomial(b + c, ½); 1 when no pair is discordant. */
  readonly pTwoSided: number
  /** One-sided, H1 the variant is worse: P(X ≥ b) = P(X ≤ c). */
  readonly pVariantWorse: number
  /** One-sided, H1 the variant is better: P(X ≤ b). */
  readonly pVariantBetter: number
}

/** McNemar's exact test on the discordant counts (see the module comment). */
export function mcnemarExact(onlyBase: number, onlyVariant: number): McNemarExact {
  if (!(Number.isInteger(onlyBase) && onlyBase >= 0 && Number.isInteger(onlyVariant) && onlyVariant >= 0))
    throw new RangeError(`discordant counts must be integers ≥ 0, got ${onlyBase} and ${onlyVariant}`)
  const m = onlyBase + onlyVariant
  return {
    onlyBase,
    onlyVariant,
    pTwoSided: Math.min(1, 2 * binomialHalfCdf(Math.min(onlyBase, onlyVariant), m)),
    pVariantWorse: binomialHalfCdf(onlyVariant, m),
    pVariantBetter: binomialHalfCdf(onlyBase, m),
  }
}

export interface Interval {
  readonly lower: number
  readonly upper: number
  /** Two-sided confidence level, e.g. 0.95. */
  readonly confidence: number
}

/** Wilson's score interval for x successes out of n. */
export function wilsonInterval(x: number, n: number, confidence = 0.95): Interval {
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(x) && x >= 0 && x <= n))
    throw new RangeError(`Wilson interval needs integers 0 ≤ x ≤ n, n ≥ 1, got x = ${x}, n = ${n}`)
  const z = zFor(confidence)
  const p = x / n
  const z2 = z * z
  const center = (p + z2 / (2 * n)) / (1 + z2 / n)
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))
  // Clamp the rounding at the ends: at x = 0 the lower limit is 0 exactly.
  return {
    lower: x === 0 ? 0 : Math.max(0, center - half),
    upper: x === n ? 1 : Math.min(1, center + half),
    confidence,
  }
}

export interface DeltaAcc extends Interval {
  /** acc_variant − acc_base, negative when the variant is worse. */
  readonly delta: number
  readonly method: 'newcombe-paired-score' | 'newcombe-hybrid-score'
}

/** Δacc of paired items with Newcombe's paired method 10 interval. */
export function deltaAccPaired(table: PairedTable, confidence = 0.95): DeltaAcc {
  const { n, bothCorrect: a, onlyVariant: b, onlyBase: c, neither: d } = table
  if (a + b + c + d !== n || n < 1)
    throw new RangeError(`paired table cells must add up to n ≥ 1, got ${JSON.stringify(table)}`)
  // p1 the variant's accuracy (a + b)/n, p2 the base's (a + c)/n.
  const p1 = (a + b) / n
  const p2 = (a + c) / n
  const w1 = wilsonInterval(a + b, n, confidence)
  const w2 = wilsonInterval(a + c, n, confidence)
  const marginals = (a + b) * (c + d) * (a + c) * (b + d)
  const phi = marginals === 0 ? 0 : (a * d - b * c) / Math.sqrt(marginals)
  const dl1 = p1 - w1.lower
  const du1 = w1.upper - p1
  const dl2 = p2 - w2.lower
  const du2 = w2.upper - p2
  const delta = p1 - p2
  const below = Math.sqrt(Math.max(0, dl1 * dl1 - 2 * phi * dl1 * du2 + du2 * du2))
  const above = Math.sqrt(Math.max(0, du1 * du1 - 2 * phi * du1 * dl2 + dl2 * dl2))
  return {
    delta,
    lower: Math.max(-1, delta - below),
    upper: Math.min(1, delta + above),
    confidence,
    method: 'newcombe-paired-score',
  }
}

export interface Proportion {
  readonly correct: number
  readonly n: number
}

/** Δacc of independent item sets with Newcombe's hybrid score interval (method 10). */
export function deltaAccUnpaired(base: Proportion, variant: Proportion, confidence = 0.95): DeltaAcc {
  const p1 = variant.correct / variant.n
  const p2 = base.correct / base.n
  const w1 = wilsonInterval(variant.correct, variant.n, confidence)
  const w2 = wilsonInterval(base.correct, base.n, confidence)
  const delta = p1 - p2
  return {
    delta,
    lower: delta - Math.hypot(p1 - w1.lower, w2.upper - p2),
    upper: delta + Math.hypot(w1.upper - p1, p2 - w2.lower),
    confidence,
    method: 'newcombe-hybrid-score',
  }
}

export type AccuracyComparison =
  | { readonly kind: 'paired'; readonly table: PairedTable }
  | { readonly kind: 'unpaired'; readonly base: Proportion; readonly variant: Proportion }

export interface AccuracyDropTest {
  readonly method: 'mcnemar-exact' | 'two-proportion-z' | 'fisher-exact'
  /** One-sided p-value of H1 "the variant's accuracy is lower than the base's". */
  readonly pValue: number
  readonly alpha: number
  /** pValue < alpha. */
  readonly dropped: boolean
  /** Δacc with its interval at `confidence`. */
  readonly delta: DeltaAcc
}

/**
 * The gate's test of an accuracy drop (see the module comment for the choice of test).
 * @param alpha significance level of the one-sided test @default 0.05
 * @param confidence level of the reported Δacc interval @default 0.95
 */
export function accuracyDropTest(
  comparison: AccuracyComparison,
  alpha = 0.05,
  confidence = 0.95,
): AccuracyDropTest {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`)
  if (comparison.kind === 'paired') {
    const { table } = comparison
    const pValue = mcnemarExact(table.onlyBase, table.onlyVariant).pVariantWorse
    return {
      method: 'mcnemar-exact',
      pValue,
      alpha,
      dropped: pValue < alpha,
      delta: deltaAccPaired(table, confidence),
    }
  }
  const { base, variant } = comparison
  for (const [side, p] of [
    ['base', base],
    ['variant', variant],
  ] as const)
    if (
      !(
        Number.isInteger(p.n) &&
        p.n >= 1 &&
        Number.isInteger(p.correct) &&
        p.correct >= 0 &&
        p.correct <= p.n
      )
    )
      throw new RangeError(`${side} needs integers 0 ≤ correct ≤ n, n ≥ 1, got ${JSON.stringify(p)}`)
  const delta = deltaAccUnpaired(base, variant, confidence)
  const total = base.n + variant.n
  const pooled = (base.correct + variant.correct) / total
  const smallestExpected = Math.min(base.n, variant.n) * Math.min(pooled, 1 - pooled)
  if (smallestExpected < 5) {
    const pValue = hypergeometricCdf(variant.correct, total, base.correct + variant.correct, variant.n)
    return { method: 'fisher-exact', pValue, alpha, dropped: pValue < alpha, delta }
  }
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / base.n + 1 / variant.n))
  const z = (base.correct / base.n - variant.correct / variant.n) / se
  const pValue = normalSf(z)
  return { method: 'two-proportion-z', pValue, alpha, dropped: pValue < alpha, delta }
}

function zFor(confidence: number): number {
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`confidence must be in (0, 1), got ${confidence}`)
  return normalQuantile(1 - (1 - confidence) / 2)
}
