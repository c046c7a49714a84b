/**
 * lm-eval's mmlu_continuation layout (lm_eval/tasks/mmlu/continuation/_continuation_template_yaml and the
 * per-subject yaml), against a hand-written prompt for a 2-shot item: no lettered choices, each shot ends
 * in its right answer's text, the item in `Answer:`; the continuations are the choice texts after " ".
 */
import { describe, expect, it } from 'vitest'
import { answerContinuations, continuationPrompt } from '../../../harness/accuracy/prompt.ts'

describe('continuationPrompt', () => {
  it('matches the hand-written 2-shot prompt', () => {
    const shots = [
      { question: '  What is 2 + 2?\n', choices: ['3', '4', '5', '6'], answer: 1 },
      { question: 'Capital of France?', choices: ['Paris', 'Rome', 'Oslo', 'Bern'], answer: 0 },
    ]
    const item = { subject: 'high_school_geography', question: 'Largest ocean? ' }
    expect(continuationPrompt(item, shots), 'prompt').toBe(
      'The following are questions (with answers) about high school geography.\n\n' +
        'Question: What is 2 + 2?\nAnswer: 4\n\n' +
        'Question: Capital of France?\nAnswer: Paris\n\n' +
        'Question: Largest ocean?\nAnswer:',
    )
    expect(answerContinuations(['Pacific', 'Atlantic ']), 'continuations keep the text as written').toEqual([
      ' Pacific',
      ' Atlantic ',
    ])
  })
})
