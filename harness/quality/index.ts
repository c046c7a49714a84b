/**
 * Quality of a variant relative to a reference: KLD, Δp and top-1 agreement over a text, from full
 * distributions (native engines) or top-k lists (endpoints, approximate). Pure. Contract: README.md.
 * @module
 */
export { type LogProbs, logSoftmax } from './log-softmax.ts'
export {
  collectReference,
  compareWithReference,
  REFERENCE_MAX_BYTES,
  REFERENCE_MEMORY_BYTES,
  type ReferenceDistributions,
  type ReferenceWindow,
  readReferenceRows,
  scoredPerWindow,
} from './measure.ts'
export {
  type ComparePositionOptions,
  comparePosition,
  compareSequence,
  type PositionComparison,
} from './position.ts'
export { type PreparedQuality, prepareQuality } from './prepare.ts'
export { qualityMetricRows } from './run-metrics.ts'
export {
  type MeanSe,
  MIN_SCORED_TOKENS,
  type QualityInsufficient,
  type QualityStats,
  type QualitySummary,
  summarizeQuality,
} from './summary.ts'
export {
  type ApproximatePositionComparison,
  compareTopK,
  type KnownNextLogprobs,
  type TokenLogprob,
} from './top-k.ts'
export { compareTopKWithReference, QUALITY_TOP_K, topKOfRow } from './top-k-measure.ts'
