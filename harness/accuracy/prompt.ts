/**
 * The lm-evaluation-harness MMLU prompt (task `mmlu`, lm_eval/tasks/mmlu/default/_default_template_yaml and
 * the per-subject mmlu_{subject}.yaml), as METRICS.md gives it:
 *
 *   The following are multiple choice questions (with answers) about {subject}.\n\n
 *   {question}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\nAnswer: {letter}\n\n      ← k shots
 *   {question}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\nAnswer:                  ← the item
 *
 * `{subject}` has its underscores as spaces (the yaml `description`); `{question}` is `question.strip()`
 * (the template's `{{question.strip()}}`, Python's whitespace set), choices are as written. A shot ends
 * in target_delimiter " " + its letter, then fewshot_delimiter "\n\n" (lm-eval's defaults). The loglik
 * continuations are " A" … " D" (target_delimiter + doc_to_choice).
 * @module
 */
import { choiceLetter, type McItem } from './types.ts'

/** The few-shot header of one subject. */
export function subjectDescription(subject: string): string {
  return `The following are multiple choice questions (with answers) about ${subject.replaceAll('_', ' ')}.\n\n`
}

/** One item without its answer: question, lettered choices, `Answer:` (no trailing space). */
export function formatQuestion(item: Pick<McItem, 'question' | 'choices'>): string {
  const choices = item.choices.map((choice, i) => `\n${choiceLetter(i)}. ${choice}`).join('')
  return `${pythonStrip(item.question)}${choices}\nAnswer:`
}

/** A few-shot example: the question block, then ` {letter}\n\n`. */
export function formatShot(item: Pick<McItem, 'question' | 'choices' | 'answer'>): string {
  return `${formatQuestion(item)} ${choiceLetter(item.answer)}\n\n`
}

/**
 * The whole prompt for `item` after `shots` (in order; fewShots() picks lm-eval's first k of the subject's
 * dev split). Ends with `Answer:`; the model continues with " A" … or generates.
 */
export function mmluPrompt(
  item: Pick<McItem, 'subject' | 'question' | 'choices'>,
  shots: readonly Pick<McItem, 'question' | 'choices' | 'answer'>[],
): string {
  return subjectDescription(item.subject) + shots.map(formatShot).join('') + formatQuestion(item)
}

/** The continuations scored by log-likelihood: `[" A", " B", …]`, one per choice. */
export function choiceContinuations(choiceCount: number): string[] {
  return Array.from({ length: choiceCount }, (_, i) => ` ${choiceLetter(i)}`)
}

/**
 * lm-eval's `mmlu_continuation` task (lm_eval/tasks/mmlu/continuation/_continuation_template_yaml and the
 * per-subject yaml): the choices are not listed, each is scored as the continuation of `Answer:` itself
 * (acc, and acc_norm by its length):
 *
 *   The following are questions (with answers) about {subject}.\n\n
 *   Question: {question}\nAnswer: {right choice's text}\n\n          ← k shots
 *   Question: {question}\nAnswer:                                    ← the item; continuations " {choice}"
 */
export function continuationPrompt(
  item: Pick<McItem, 'subject' | 'question'>,
  shots: readonly Pick<McItem, 'question' | 'choices' | 'answer'>[],
): string {
  const question = (q: string) => `Question: ${pythonStrip(q)}\nAnswer:`
  return (
    `The following are questions (with answers) about ${item.subject.replaceAll('_', ' ')}.\n\n` +
    shots.map((s) => `${question(s.question)} ${s.choices[s.answer] ?? ''}\n\n`).join('') +
    question(item.question)
  )
}

/** The continuations of mmlu_continuation: each choice's text after the target delimiter " ". */
export function answerContinuations(choices: readonly string[]): string[] {
  return choices.map((choice) => ` ${choice}`)
}

/** MMLU's four: `[" A", " B", " C", " D"]`. */
export const MMLU_CONTINUATIONS: readonly string[] = choiceContinuations(4)

// Python's str.isspace() set (the template strips with str.strip()), which differs from String.trim():
// Python strips U+001C–U+001F and U+0085, and keeps U+FEFF.
const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const PY_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'g')

/** Python's `s.strip()`. */
export function pythonStrip(s: string): string {
  return s.replace(PY_STRIP, '')
}
