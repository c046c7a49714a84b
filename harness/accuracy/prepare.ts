/**
 * From a scenario's `accuracy` field to the prompts a run scores: load the dataset (MMLU CSV directory or
 * JSONL file), select items (subjects, per-subject limit, order, seed), put lm-eval's k dev shots before
 * each. Done once per scenario before any target starts (and by `bench run` for every scenario before the
 * first runs), so a missing file, a bad row, an unknown subject or too few dev shots is a ScenarioError
 * naming the field and the fix, never a half-written run.
 * @module
 */
import { createHash } from 'node:crypto'
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { canonicalJson } from '../canonical-json.ts'
import type { AccuracyConfig } from '../config/schema.ts'
import { HarnessError, ScenarioError } from '../errors.ts'
import type { AccuracySpec } from '../results.ts'
import { loadMcJsonl } from './load-jsonl.ts'
import { loadMmluCsv } from './load-mmlu-csv.ts'
import { answerContinuations, choiceContinuations, continuationPrompt, mmluPrompt } from './prompt.ts'
import { fewShots, selectItems } from './select.ts'
import type { McDataset, McItem } from './types.ts'

/** One item to score with its full prompt (shots included, ending `Answer:`). */
export interface PreparedItem {
  readonly item: McItem
  readonly prompt: string
  /** What loglik scores after the prompt: `[" A", …]`, or each choice's text (mmlu-continuation). */
  readonly continuations: readonly string[]
  /** mmlu-continuation: the choice texts acc_norm divides by (their lengths); absent for letters. */
  readonly normalizeBy?: readonly string[]
}

export interface PreparedAccuracy {
  readonly items: readonly PreparedItem[]
  /** The run's spec except what the engine decides (scoring, requestedScoring). */
  readonly spec: Omit<AccuracySpec, 'scoring' | 'requestedScoring'>
  readonly requestedScoring: AccuracyConfig['scoring']
  /** Items in flight at once (accuracy.concurrency). */
  readonly concurrency: number
}

/**
 * @param baseDir where a relative `dataset` resolves (the scenario file's directory)
 * @param scenarioSeed used when `accuracy.seed` is absent
 * @param source the scenario's file, for the error
 * @throws ScenarioError naming the `accuracy.*` field at fault and the fix
 */
export async function prepareAccuracy(
  config: AccuracyConfig,
  options: { baseDir: string; scenarioSeed: number; source: string },
): Promise<PreparedAccuracy> {
  const fail = (field: string, message: string): never => {
    throw new ScenarioError(options.source, [{ path: `accuracy.${field}`, message }])
  }
  const file = path.resolve(options.baseDir, config.dataset)
  const format = config.format ?? (file.endsWith('.jsonl') ? 'jsonl' : 'mmlu-csv')
  const kind = await stat(file).then(
    (s) => (s.isDirectory() ? 'directory' : 'file'),
    () => undefined,
  )
  if (kind === undefined)
    fail(
      'dataset',
      `${file} does not exist: give the MMLU data directory (dev/ val/ test/ of {subject}_{split}.csv) or a ` +
        'JSONL file; `bench fixtures` writes a sample set to .bench/models/knowledge',
    )
  if (format === 'mmlu-csv' && kind !== 'directory')
    fail(
      'dataset',
      `${file} is a file; the mmlu-csv format reads a directory holding dev/ val/ test/ (or set format: 'jsonl')`,
    )
  if (format === 'jsonl' && kind !== 'file')
    fail('dataset', `${file} is a directory; the jsonl format reads one file (or set format: 'mmlu-csv')`)

  let dataset: McDataset
  try {
    dataset =
      format === 'jsonl'
        ? await loadMcJsonl(file)
        : await loadMmluCsv(file, { required: config.shots > 0 ? [config.split, 'dev'] : [config.split] })
  } catch (err) {
    if (err instanceof HarnessError) return fail('dataset', err.message)
    throw err
  }
  const seed = config.seed ?? options.scenarioSeed
  let selected: McItem[] = []
  try {
    selected = selectItems(dataset[config.split], {
      ...(config.subjects ? { subjects: config.subjects } : {}),
      ...(config.limitPerSubject !== undefined ? { limit: config.limitPerSubject } : {}),
      order: config.order,
      seed,
    })
  } catch (err) {
    fail('subjects', (err as Error).message)
  }
  if (selected.length === 0)
    fail('split', `the ${config.split} split of ${file} holds no items: pick another split or dataset`)
  const shotsBySubject = new Map<string, McItem[]>()
  const items: PreparedItem[] = []
  for (const item of selected) {
    let shots = shotsBySubject.get(item.subject)
    if (shots === undefined) {
      try {
        shots = fewShots(dataset.dev, item.subject, config.shots)
      } catch (err) {
        return fail('shots', (err as Error).message)
      }
      shotsBySubject.set(item.subject, shots)
    }
    items.push(
      config.prompt === 'mmlu-continuation'
        ? {
            item,
            prompt: continuationPrompt(item, shots),
            continuations: answerContinuations(item.choices),
            normalizeBy: item.choices,
          }
        : { item, prompt: mmluPrompt(item, shots), continuations: choiceContinuations(item.choices.length) },
    )
  }
  // What was asked, by content: the same prompts and answers compare whatever the file is called.
  const itemsSha256 = createHash('sha256')
    .update(canonicalJson(items.map(({ item, prompt }) => [item.id, prompt, item.choices, item.answer])))
    .digest('hex')
  return {
    items,
    requestedScoring: config.scoring,
    concurrency: config.concurrency,
    spec: {
      kind: 'accuracy',
      dataset: path.basename(file),
      format,
      split: config.split,
      shots: config.shots,
      prompt: config.prompt,
      items: items.length,
      itemsSha256,
      ...(config.limitPerSubject !== undefined ? { limitPerSubject: config.limitPerSubject } : {}),
      ...(config.subjects ? { subjects: [...config.subjects] } : {}),
      order: config.order,
      seed,
    },
  }
}
