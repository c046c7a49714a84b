/**
 * Student's two-sample t-test with pooled variance, two-sided: the significance step Hunter/Otava put in
 * place of E-divisive's permutation test (apache/otava `otava/analysis.py`, `TTestSignificanceTester`,
 * which calls scipy's `ttest_ind_from_stats` with its default equal variances). Otava hands it numpy's
 * population sd (ddof 0) where scipy expects the sample sd; we use the sample sd, so our p-values are a
 * little larger than Otava's on short segments.
 * @module
 */
import { studentTSf } from './distributions.ts'

export interface SampleStats {
  n: number
  mean: number
  /** Sample standard deviation (n − 1); 0 for a single value. */
  sd: number
}

export interface TwoSampleTTest {
  left: SampleStats
  right: SampleStats
  t: number
  df: number
  /** Two-sided; 1 when df = 0 (two single points carry no notion of spread). */
  pValue: number
}

export function sampleStats(values: readonly number[], from = 0, to = values.length): SampleStats {
  const n = to - from
  let sum = 0
  for (let i = from; i < to; i++) sum += values[i]!
  const mean = n > 0 ? sum / n : Number.NaN
  let squares = 0
  for (let i = from; i < to; i++) squares += (values[i]! - mean) ** 2
  return { n, mean, sd: n > 1 ? Math.sqrt(squares / (n - 1)) : 0 }
}

export function twoSampleTTest(left: SampleStats, right: SampleStats): TwoSampleTTest {
  const df = left.n + right.n - 2
  if (df <= 0) return { left, right, t: 0, df: Math.max(df, 0), pValue: 1 }
  const pooledVariance = ((left.n - 1) * left.sd ** 2 + (right.n - 1) * right.sd ** 2) / df
  const diff = right.mean - left.mean
  const se = Math.sqrt(pooledVariance * (1 / left.n + 1 / right.n))
  if (se === 0) {
    // No spread on either side: identical means are no change, different ones are certain.
    return {
      left,
      right,
      t: diff === 0 ? 0 : Math.sign(diff) * Number.POSITIVE_INFINITY,
      df,
      pValue: diff === 0 ? 1 : 0,
    }
  }
  const t = diff / se
  return { left, right, t, df, pValue: Math.min(1, 2 * studentTSf(Math.abs(t), df)) }
}
