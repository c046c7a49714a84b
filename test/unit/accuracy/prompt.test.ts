import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadMmluCsv } from '../../../harness/accuracy/load-mmlu-csv.ts'
import {
  choiceContinuations,
  MMLU_CONTINUATIONS,
  mmluPrompt,
  pythonStrip,
} from '../../../harness/accuracy/prompt.ts'
import { fewShots } from '../../../harness/accuracy/select.ts'
import type { McItem } from '../../../harness/accuracy/types.ts'

function item(subject: string, question: string, choices: string[], answer: number, index = 0): McItem {
  return {
    id: `${subject}/dev/${index}`,
    subject,
    split: 'dev',
    index,
    question,
    choices,
    answer,
    source: { file: 'f', line: 1 },
  }
}

describe('mmluPrompt: lm-eval MMLU format', () => {
  it('2-shot item, against a hand-written prompt', () => {
    const shots = [
      item(
        'high_school_physics',
        'What is the SI unit of force?',
        ['Joule', 'Newton', 'Watt', 'Pascal'],
        1,
        0,
      ),
      item('high_school_physics', ' Light travels fastest in:\n', ['glass', 'water', 'vacuum', 'air'], 2, 1),
    ]
    const target = item(
      'high_school_physics',
      '\tA ball is dropped. Its acceleration is about: ',
      ['1 m/s²', '9.8 m/s²', '0', '98 m/s²'],
      1,
    )
    const expected =
      'The following are multiple choice questions (with answers) about high school physics.\n\n' +
      'What is the SI unit of force?\nA. Joule\nB. Newton\nC. Watt\nD. Pascal\nAnswer: B\n\n' +
      'Light travels fastest in:\nA. glass\nB. water\nC. vacuum\nD. air\nAnswer: C\n\n' +
      'A ball is dropped. Its acceleration is about:\nA. 1 m/s²\nB. 9.8 m/s²\nC. 0\nD. 98 m/s²\nAnswer:'
    expect(
      mmluPrompt(target, shots),
      'description, 2 shots with " {letter}\\n\\n", item ending "Answer:"',
    ).toBe(expected)
  })

  it('the fixture item with its first 2 dev shots (CRLF dev file, BOM and padded question in test)', async () => {
    const data = await loadMmluCsv(join(import.meta.dirname, '../../fixtures/accuracy/mmlu-mini'))
    const target = data.test[0]!
    const prompt = mmluPrompt(target, fewShots(data.dev, target.subject, 2))
    expect(prompt, 'hand-written').toBe(
      'The following are multiple choice questions (with answers) about abstract algebra.\n\n' +
        'What is 2 + 3 in the integers modulo 4?\nA. 0\nB. 1\nC. 2\nD. 3\nAnswer: B\n\n' +
        'Which set is a group under addition?\nA. The natural numbers\nB. The integers\nC. The odd integers, with 0\nD. The empty set\nAnswer: B\n\n' +
        'How many elements does the cyclic group Z_6 have?\nA. 3\nB. 6\nC. 12\nD. 36\nAnswer:',
    )
  })

  it('zero shots: description then the item', () => {
    expect(mmluPrompt(item('anatomy', 'Q?', ['a', 'b', 'c', 'd'], 0), []), '0-shot').toBe(
      'The following are multiple choice questions (with answers) about anatomy.\n\nQ?\nA. a\nB. b\nC. c\nD. d\nAnswer:',
    )
  })

  it('choices are not stripped (lm-eval inserts them as they are)', () => {
    expect(mmluPrompt(item('x', 'Q', [' a ', 'b', 'c', 'd'], 0), []), 'spaces kept').toContain(
      '\nA.  a \nB. b',
    )
  })

  it('continuations are " A" … " D"', () => {
    expect(MMLU_CONTINUATIONS, 'four').toEqual([' A', ' B', ' C', ' D'])
    expect(choiceContinuations(2), 'two').toEqual([' A', ' B'])
  })
})

describe("pythonStrip: Python's str.strip()", () => {
  it('strips what Python does and String.trim does not, and keeps what Python keeps', () => {
    expect(pythonStrip('\x1c\x1fQ\x85'), 'U+001C–U+001F and U+0085 are whitespace in Python').toBe('Q')
    expect(pythonStrip('\uFEFFQ'), 'U+FEFF is not').toBe('\uFEFFQ')
    expect(pythonStrip(' \t\n\r\v\f\u00a0\u3000Q R \u2028'), 'the common set, inner space kept').toBe('Q R')
  })
})
