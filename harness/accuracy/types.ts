/**
 * A multiple-choice item as every accuracy module sees it, whatever file layout it came from.
 * @module
 */

/** The MMLU splits: `dev` holds the few-shot examples, `test` the scored items, `val` is spare. */
export type McSplit = 'dev' | 'val' | 'test'

export const MC_SPLITS: readonly McSplit[] = ['dev', 'val', 'test']

export interface McItem {
  /** `{subject}/{split}/{index}`: the same item has the same id in every run, so variants pair up. */
  readonly id: string
  /** As in the file name or the `subject` field, underscores kept (`high_school_physics`). */
  readonly subject: string
  readonly split: McSplit
  /** 0-based position among the items of this subject and split, in file order. */
  readonly index: number
  /** As written in the file (the prompt strips it, as lm-eval does). */
  readonly question: string
  /** 2 to 26 choices (letters A–Z); the MMLU CSV layout always has 4. */
  readonly choices: readonly string[]
  /** 0-based index of the right choice. */
  readonly answer: number
  /** Where the item was read from; `line` is 1-based, the line its record starts on. */
  readonly source: { readonly file: string; readonly line: number }
}

/** Items of each split, subjects in name order, items of a subject in file order. */
export interface McDataset {
  readonly dev: readonly McItem[]
  readonly val: readonly McItem[]
  readonly test: readonly McItem[]
}

/** Letters of choices by index: 0 → `A`. */
export const CHOICE_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'

/** Most choices an item may have: one per letter. */
export const MAX_CHOICES = CHOICE_LETTERS.length

/** The letter of choice `index` (0 → `A`). @throws RangeError outside 0..25 */
export function choiceLetter(index: number): string {
  const letter = CHOICE_LETTERS[index]
  if (letter === undefined || !Number.isInteger(index))
    throw new RangeError(`choice index must be an integer in 0..${MAX_CHOICES - 1}, got ${index}`)
  return letter
}
