/**
 * Regression detection, pure statistics with no I/O: Bencher-style thresholds, asv-style Mann–Whitney,
 * Otava-style change points, and the `evaluate` entry the CI gate calls.
 * @module
 */
export {
  type AccuracyComparisonOf,
  type AccuracyEvaluateOptions,
  type AccuracyGateMethod,
  compareItems,
  evaluateAccuracy,
  type ItemResult,
} from './accuracy.ts'
export {
  type ChangePoint,
  type ChangePointOptions,
  type ChangePointSignificance,
  detectChangePoints,
} from './change-points.ts'
export {
  erfc,
  lnGamma,
  normalCdf,
  normalQuantile,
  normalSf,
  regularizedBeta,
  regularizedGammaQ,
  studentTCdf,
  studentTPdf,
  studentTQuantile,
  studentTSf,
} from './distributions.ts'
export {
  type BaselineSummary,
  EVALUATE_DEFAULTS,
  type EvaluateOptions,
  evaluate,
  GATE_METHODS,
  type GatedDirection,
  type GateMethod,
  type Verdict,
  type VerdictState,
} from './evaluate.ts'
export {
  deltaIqrLimits,
  deltaQuartiles,
  iqrLimits,
  type Limits,
  type MeanSd,
  percentageLimits,
  type Quartiles,
  quartiles,
  tTestLimits,
  zScoreLimits,
} from './limits.ts'
export {
  MANN_WHITNEY_EXACT_MAX_N,
  type MannWhitneyMethod,
  type MannWhitneyOptions,
  type MannWhitneyResult,
  mannWhitneyU,
} from './mann-whitney.ts'
export { type SampleStats, sampleStats, type TwoSampleTTest, twoSampleTTest } from './t-test.ts'
