/**
 * Reading the right answer of a row: a letter (`A`…, as in the MMLU CSV files) or a 0-based index (as in
 * the Hugging Face `cais/mmlu` rows). Shared by the loaders so both refuse the same things.
 * @module
 */
import { CHOICE_LETTERS, choiceLetter } from './types.ts'

/**
 * The 0-based answer index, or a sentence saying what is wrong with `value`.
 * Letters are matched after trimming, in either case (`b` is B); numbers must be integers in range.
 * A numeric string ("2") is refused: it could mean index 2 (C) or choice 2 (B).
 */
export function parseAnswer(
  value: unknown,
  choiceCount: number,
  accept: 'letter' | 'letter-or-index',
): number | { problem: string } {
  const last = choiceLetter(choiceCount - 1)
  if (typeof value === 'string') {
    const letter = value.trim().toUpperCase()
    if (letter === '') return { problem: 'the answer is empty' }
    const index = CHOICE_LETTERS.indexOf(letter)
    if (letter.length !== 1 || index < 0 || index >= choiceCount)
      return { problem: `the answer ${JSON.stringify(value)} is not a letter A–${last}` }
    return index
  }
  if (accept === 'letter-or-index' && typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value >= choiceCount)
      return { problem: `the answer index ${value} is not an integer in 0..${choiceCount - 1}` }
    return value
  }
  if (value === undefined || value === null) return { problem: 'the answer is missing' }
  return {
    problem: `the answer ${JSON.stringify(value)} is neither a letter A–${last}${accept === 'letter-or-index' ? ' nor an index' : ''}`,
  }
}
