/**
 * Scoring rules of one item, pure.
 * - loglik (lm-eval `acc`): the predicted choice is the argmax of the log-likelihoods of " A" … " D"
 *   after the prompt; ties go to the lowest index (numpy's argmax, which lm-eval uses).
 * - loglik, length-normalized (lm-eval `acc_norm`): argmax of loglik / length of the choice text in
 *   characters (Unicode code points, Python's len(); lm-eval lm_eval/api/task.py process_results,
 *   `completion_len`), for continuations that are full answers rather than letters.
 * - generate: the letter extractChoiceLetter reads, or `none`, which is wrong.
 * @module
 */
import { extractChoiceLetter, NO_ANSWER } from './extract.ts'
import { CHOICE_LETTERS } from './types.ts'

export interface ChoiceScore {
  /** 0-based index of the predicted choice; undefined when a generation named none. */
  readonly predicted: number | undefined
  readonly correct: boolean
}

/**
 * Index of the largest value; the lowest index among equal ones. -Infinity is a value (probability 0).
 * @throws RangeError for an empty list or a NaN (an engine that failed to score, never a choice)
 */
export function argmaxIndex(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('argmax of no values')
  let best = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (Number.isNaN(v))
      throw new RangeError(`log-likelihood ${i} is NaN: the engine did not score choice ${i}`)
    if (v > values[best]!) best = i
  }
  return best
}

/** lm-eval `acc`: argmax of the choices' log-likelihoods (natural log), compared with `answer`. */
export function scoreLoglik(logliks: readonly number[], answer: number): ChoiceScore {
  checkAnswer(answer, logliks.length)
  const predicted = argmaxIndex(logliks)
  return { predicted, correct: predicted === answer }
}

/**
 * lm-eval `acc_norm`: argmax of loglik_i / (code points of choiceTexts_i), compared with `answer`.
 * @param choiceTexts the choice strings without the leading delimiter space
 * @throws RangeError when lengths differ or a choice text is empty (nothing to divide by)
 */
export function scoreLoglikNorm(
  logliks: readonly number[],
  choiceTexts: readonly string[],
  answer: number,
): ChoiceScore {
  if (choiceTexts.length !== logliks.length)
    throw new RangeError(`${logliks.length} log-likelihoods for ${choiceTexts.length} choice texts`)
  checkAnswer(answer, logliks.length)
  const normalized = logliks.map((ll, i) => {
    const length = [...choiceTexts[i]!].length
    if (length === 0) throw new RangeError(`choice ${i} is empty: acc_norm divides by its length`)
    return ll / length
  })
  const predicted = argmaxIndex(normalized)
  return { predicted, correct: predicted === answer }
}

export interface GenerateScore extends ChoiceScore {
  /** The letter read from the generation, or `none`. */
  readonly extracted: string
}

/** Generate mode: the letter the generation names (extractChoiceLetter) against `answer`; `none` is wrong. */
export function scoreGenerate(text: string, answer: number, choiceCount = 4): GenerateScore {
  checkAnswer(answer, choiceCount)
  const extracted = extractChoiceLetter(text, choiceCount)
  const predicted = extracted === NO_ANSWER ? undefined : CHOICE_LETTERS.indexOf(extracted)
  return { extracted, predicted, correct: predicted === answer }
}

function checkAnswer(answer: number, choiceCount: number): void {
  if (choiceCount < 2) throw new RangeError(`an item needs at least 2 choices, got ${choiceCount}`)
  if (!(Number.isInteger(answer) && answer >= 0 && answer < choiceCount))
    throw new RangeError(`answer must be an integer in 0..${choiceCount - 1}, got ${answer}`)
}
