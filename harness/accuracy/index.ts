/**
 * Accuracy: MMLU-style datasets, the lm-eval prompt, choice scoring, stderr and paired tests. Pure except
 * the two loaders, which read files. The contract is README.md beside this file.
 * @module
 */
export { parseAnswer } from './answer.ts'
export { binomialHalfCdf, hypergeometricCdf, logSumExp } from './binomial.ts'
export {
  type AccuracyComparison,
  type AccuracyDropTest,
  accuracyDropTest,
  type DeltaAcc,
  deltaAccPaired,
  deltaAccUnpaired,
  type Interval,
  type McNemarExact,
  mcnemarExact,
  type PairedTable,
  type Proportion,
  pairByItemId,
  pairedTable,
  wilsonInterval,
} from './compare.ts'
export { type CsvRecord, parseCsv } from './csv.ts'
export { DatasetError } from './dataset-error.ts'
export { extractChoiceLetter, GENERATE_MAX_TOKENS, GENERATE_STOP, NO_ANSWER } from './extract.ts'
export { loadMcJsonl, parseMcJsonl } from './load-jsonl.ts'
export { type LoadMmluCsvOptions, loadMmluCsv, parseMmluCsv } from './load-mmlu-csv.ts'
export {
  answerContinuations,
  choiceContinuations,
  continuationPrompt,
  formatQuestion,
  formatShot,
  MMLU_CONTINUATIONS,
  mmluPrompt,
  pythonStrip,
  subjectDescription,
} from './prompt.ts'
export {
  argmaxIndex,
  type ChoiceScore,
  type GenerateScore,
  scoreGenerate,
  scoreLoglik,
  scoreLoglikNorm,
} from './score.ts'
export { fewShots, type SelectOptions, selectItems } from './select.ts'
export {
  type AccuracyStat,
  type AccuracySummary,
  type AverageAccuracy,
  accuracy,
  accuracyOf,
  type GroupSummary,
  macroAverage,
  type SubjectAccuracy,
  summarizeAccuracy,
  weightedAverage,
} from './stats.ts'
export {
  CHOICE_LETTERS,
  choiceLetter,
  MAX_CHOICES,
  MC_SPLITS,
  type McDataset,
  type McItem,
  type McSplit,
} from './types.ts'
