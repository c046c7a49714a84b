/**
 * Generate-mode answer extraction: which choice letter a short generation names.
 *
 * The request (the caller's): at most GENERATE_MAX_TOKENS tokens at temperature 0, stopping at a newline
 * (METRICS.md; lm-eval's mmlu_generative `until: ["</s>", "\n"]`; AIPerf's `stop: ["\n"]`).
 *
 * The reading follows lm-eval's mmlu_generative filter (lm_eval/tasks/mmlu/generative/_default_template_yaml,
 * version 3): keep the first line, trim it, then accept a letter only when the line is that letter alone —
 * with decoration around it or after an "answer is"/"answer:"/"option" lead-in — case-insensitively:
 *   accepted  "B", " b", "B.", "(B)", "B)", "**B**", "Answer: B", "The answer is B.", "option B"
 *   refused   "B. Paris", "All of the above", "A dog", "I think B", "", "\nB"   → `none`
 * So "first A–D letter" (METRICS.md) means the letter of a line that holds nothing else: a bare scan for
 * the first A–D character would read "All of the above" as A. AIPerf's MMLU grader (graders/multiple_choice.py,
 * lighteval's exact match) is stricter still: the stripped first line must equal the letter, so it refuses
 * "B." and "(B)", which this accepts. A refused line scores as wrong, never as a guess.
 * @module
 */
import { CHOICE_LETTERS, choiceLetter } from './types.ts'

/** Most tokens a generate-mode request may produce (METRICS.md). */
export const GENERATE_MAX_TOKENS = 5

/** Stop sequences of a generate-mode request. */
export const GENERATE_STOP: readonly string[] = ['\n']

/** What extractChoiceLetter returns when the line names no single choice. */
export const NO_ANSWER = 'none'

// Python's \W (Unicode): neither a letter, a number nor `_`.
const NON_WORD = '[^\\p{L}\\p{N}_]'

const patterns = new Map<number, RegExp>()

function patternFor(choiceCount: number): RegExp {
  let pattern = patterns.get(choiceCount)
  if (pattern === undefined) {
    const letters = `[${CHOICE_LETTERS[0]}-${choiceLetter(choiceCount - 1)}]`
    pattern = new RegExp(
      `(?:^${NON_WORD}*|answer\\s*(?:is)?\\s*[:\\-]?\\s*|option\\s*[:\\-]?\\s*)\\(?(${letters})\\)?${NON_WORD}*$`,
      'iu',
    )
    patterns.set(choiceCount, pattern)
  }
  return pattern
}

/**
 * The upper-case letter the generation names, or `none`.
 * @param choiceCount letters A… up to this many are answers @default 4
 */
export function extractChoiceLetter(text: string, choiceCount = 4): string {
  if (!(Number.isInteger(choiceCount) && choiceCount >= 2))
    throw new RangeError(`choiceCount must be an integer ≥ 2, got ${choiceCount}`)
  const newline = text.indexOf('\n')
  const firstLine = (newline < 0 ? text : text.slice(0, newline)).trim()
  const match = patternFor(choiceCount).exec(firstLine)
  return match?.[1] === undefined ? NO_ANSWER : match[1].toUpperCase()
}
