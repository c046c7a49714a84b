/**
 * The continuous distributions the regression tests need, written out because no statistics package is
 * installed: log-gamma, regularized incomplete gamma and beta, the normal and Student-t CDFs and their
 * quantiles. Relative error below 1e-11 for df ≤ 1000 and below 1e-7 up to df = 1e7, past which t is the normal
 * (checked against scipy while writing; the unit tests hold tabled values).
 * @module
 */

const LANCZOS_G = 7
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; reflection below 0.5). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x)
  const z = x - 1
  let sum = LANCZOS[0]!
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i)
  const t = z + LANCZOS_G + 0.5
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum)
}

const EPSILON = 1e-15
const TINY = 1e-300
const MAX_ITERATIONS = 500

/** Q(a, x) = Γ(a, x) / Γ(a), the upper regularized incomplete gamma function, for a > 0, x ≥ 0. */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError(`regularizedGammaQ needs a > 0, x ≥ 0, got ${a}, ${x}`)
  if (x === 0) return 1
  const front = Math.exp(-x + a * Math.log(x) - lnGamma(a))
  if (x < a + 1) {
    // Series for P(a, x); Q = 1 − P is fine here because P is not close to 1 below a + 1.
    let term = 1 / a
    let sum = term
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n)
      sum += term
      if (Math.abs(term) < Math.abs(sum) * EPSILON) break
    }
    return 1 - sum * front
  }
  // Continued fraction for Q (modified Lentz), which keeps relative accuracy deep in the tail.
  let b = x + 1 - a
  let c = 1 / TINY
  let d = 1 / b
  let h = d
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < TINY) d = TINY
    c = b + an / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPSILON) break
  }
  return front * h
}

/** Complementary error function, through erfc(x) = Q(½, x²); relative accuracy holds in the far tail. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN
  const q = regularizedGammaQ(0.5, x * x)
  return x >= 0 ? q : 2 - q
}

/** Φ(x), the standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2)
}

/** 1 − Φ(x) without cancellation for large x. */
export function normalSf(x: number): number {
  return 0.5 * erfc(x / Math.SQRT2)
}

// Acklam's rational approximation (relative error < 1.15e-9), refined below with one Halley step.
const ACKLAM_A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
]
const ACKLAM_B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
]
const ACKLAM_C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
]
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
const ACKLAM_LOW = 0.02425

function polynomial(coefficients: readonly number[], x: number): number {
  let value = 0
  for (const c of coefficients) value = value * x + c
  return value
}

/**
 * Φ⁻¹(p), the standard normal quantile, for p in (0, 1); ±Infinity at 0 and 1.
 * @throws RangeError when p is outside [0, 1]
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile needs p in [0, 1], got ${p}`)
  if (p === 0) return Number.NEGATIVE_INFINITY
  if (p === 1) return Number.POSITIVE_INFINITY
  let x: number
  if (p < ACKLAM_LOW || p > 1 - ACKLAM_LOW) {
    const q = Math.sqrt(-2 * Math.log(p < ACKLAM_LOW ? p : 1 - p))
    x = polynomial(ACKLAM_C, q) / (polynomial(ACKLAM_D, q) * q + 1)
    if (p > 1 - ACKLAM_LOW) x = -x
  } else {
    const q = p - 0.5
    const r = q * q
    x = (polynomial(ACKLAM_A, r) * q) / (polynomial(ACKLAM_B, r) * r + 1)
  }
  // One Halley step on Φ(x) − p brings the 1e-9 approximation to full double precision.
  const e = p < 0.5 ? normalCdf(x) - p : 1 - p - normalSf(x)
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2)
  return x - u / (1 + (x * u) / 2)
}

function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  let d = 1 - (qab * x) / qap
  if (Math.abs(d) < TINY) d = TINY
  d = 1 / d
  let h = d
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2))
    d = 1 + aa * d
    if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPSILON) break
  }
  return h
}

/**
 * I_x(a, b), the regularized incomplete beta function (continued fraction, modified Lentz).
 * @param y 1 − x, passed separately when the caller has it without cancellation
 */
export function regularizedBeta(x: number, a: number, b: number, y = 1 - x): number {
  if (!(a > 0) || !(b > 0)) throw new RangeError(`regularizedBeta needs a, b > 0, got ${a}, ${b}`)
  if (!(x >= 0 && x <= 1)) throw new RangeError(`regularizedBeta needs x in [0, 1], got ${x}`)
  if (x === 0) return 0
  if (y === 0) return 1
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(y))
  // The fraction converges fast on the side of the mean a / (a + b); use the symmetry on the other.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a
  return 1 - (front * betaContinuedFraction(b, a, y)) / b
}

// Beyond this the t distribution is the normal to well below double precision for our uses.
const NORMAL_DF = 1e7

/** P(T ≤ t) for Student's t with df > 0 degrees of freedom (df need not be an integer). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTCdf needs df > 0, got ${df}`)
  if (Number.isNaN(t)) return Number.NaN
  if (t === Number.POSITIVE_INFINITY) return 1
  if (t === Number.NEGATIVE_INFINITY) return 0
  if (df > NORMAL_DF) return normalCdf(t)
  const t2 = t * t
  // tail = P(T > |t|) = ½ I_{df/(df+t²)}(df/2, ½), with both arguments formed without cancellation.
  const tail = 0.5 * regularizedBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2))
  return t > 0 ? 1 - tail : tail
}

/** P(T > t) without cancellation for large t. */
export function studentTSf(t: number, df: number): number {
  return studentTCdf(-t, df)
}

/** Density of Student's t. */
export function studentTPdf(t: number, df: number): number {
  const logC = lnGamma((df + 1) / 2) - lnGamma(df / 2) - 0.5 * Math.log(df * Math.PI)
  return Math.exp(logC - ((df + 1) / 2) * Math.log1p((t * t) / df))
}

/**
 * The p-quantile of Student's t with df > 0 degrees of freedom: closed forms for df = 1 and 2, otherwise
 * a Cornish–Fisher start refined by safeguarded Newton steps on the tail probability.
 * @throws RangeError when p is outside [0, 1] or df ≤ 0
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`studentTQuantile needs p in [0, 1], got ${p}`)
  if (!(df > 0)) throw new RangeError(`studentTQuantile needs df > 0, got ${df}`)
  if (p === 0) return Number.NEGATIVE_INFINITY
  if (p === 1) return Number.POSITIVE_INFINITY
  if (p === 0.5) return 0
  if (p < 0.5) return -upperTailQuantile(p, df)
  return upperTailQuantile(1 - p, df)
}

/** The t ≥ 0 with P(T > t) = q, for q in (0, ½). */
function upperTailQuantile(q: number, df: number): number {
  if (df > NORMAL_DF) return -normalQuantile(q)
  if (df === 1) return 1 / Math.tan(Math.PI * q)
  if (df === 2) return (1 - 2 * q) / Math.sqrt(2 * q * (1 - q))
  const z = -normalQuantile(q)
  const z2 = z * z
  const g1 = (z2 + 1) * z * 0.25
  const g2 = ((5 * z2 + 16) * z2 + 3) * z * (1 / 96)
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z * (1 / 384)
  const g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z * (1 / 92160)
  let t = z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4
  // Bracket the root: the tail probability falls as t grows.
  let lo = 0
  let hi = Math.max(t, 1)
  while (studentTSf(hi, df) > q) {
    lo = hi
    hi *= 2
  }
  if (!(t > lo && t < hi)) t = (lo + hi) / 2
  for (let i = 0; i < 100; i++) {
    const f = studentTSf(t, df) - q
    if (f > 0) lo = t
    else hi = t
    let next = t + f / studentTPdf(t, df)
    if (!(next > lo && next < hi)) next = (lo + hi) / 2
    if (Math.abs(next - t) <= 1e-14 * Math.max(1, Math.abs(t))) return next
    t = next
  }
  return t
}
