import { describe, expect, it } from 'vitest'
import { extractChoiceLetter, NO_ANSWER } from '../../../harness/accuracy/extract.ts'
import { argmaxIndex, scoreGenerate, scoreLoglik, scoreLoglikNorm } from '../../../harness/accuracy/score.ts'

describe('extractChoiceLetter: lm-eval mmlu_generative reading', () => {
  it.each([
    ['B', 'B'],
    [' B', 'B'],
    [' b', 'B'],
    ['B.', 'B'],
    ['(B)', 'B'],
    ['B)', 'B'],
    ['**B**', 'B'],
    [' D\n\nQuestion: next', 'D'],
    ['Answer: C', 'C'],
    ['The answer is A.', 'A'],
    ['option D', 'D'],
  ])('%j → %s', (text, letter) => {
    expect(extractChoiceLetter(text), JSON.stringify(text)).toBe(letter)
  })

  it.each(['B. Paris', 'All of the above', 'A dog', 'I think B', 'E', '', '\nB', 'AB'])(
    '%j → none',
    (text) => {
      expect(extractChoiceLetter(text), JSON.stringify(text)).toBe(NO_ANSWER)
    },
  )

  it('letters past the last choice are no answer; more choices widen the range', () => {
    expect(extractChoiceLetter('C', 2), 'C of 2 choices').toBe(NO_ANSWER)
    expect(extractChoiceLetter('F', 6), 'F of 6 choices').toBe('F')
  })
})

describe('loglik scoring', () => {
  it('argmax of the four log-likelihoods', () => {
    expect(scoreLoglik([-2.1, -0.4, -1.7, -3.0], 1), 'B highest, answer B').toEqual({
      predicted: 1,
      correct: true,
    })
    expect(scoreLoglik([-2.1, -0.4, -1.7, -3.0], 2), 'answer C').toEqual({ predicted: 1, correct: false })
  })

  it('ties go to the lowest index (numpy argmax)', () => {
    expect(argmaxIndex([-1, -0.5, -0.5, -0.5]), 'B, C, D tie → B').toBe(1)
    expect(argmaxIndex([-Infinity, -Infinity]), 'all impossible → A').toBe(0)
  })

  it('a NaN log-likelihood is an error, never a choice', () => {
    expect(() => scoreLoglik([-1, Number.NaN, -2, -3], 0), 'NaN').toThrow(/log-likelihood 1 is NaN/)
  })

  it('acc_norm divides by the choice length in characters', () => {
    // -3 / 3 = -1 for "cat" beats -2 / 1 = -2 for "a"; raw loglik prefers "a".
    expect(scoreLoglik([-2, -3], 0).predicted, 'raw: a').toBe(0)
    expect(scoreLoglikNorm([-2, -3], ['a', 'cat'], 1), 'normalized: cat').toEqual({
      predicted: 1,
      correct: true,
    })
    // "𝑥" is one code point (Python's len) but two UTF-16 units (String.length): per code point
    // -2/1 = -2 loses to -2.5/2 = -1.25; per UTF-16 unit -2/2 = -1 would win.
    expect(scoreLoglikNorm([-2, -2.5], ['𝑥', 'ab'], 0).predicted, '𝑥 counts as 1 character').toBe(1)
    expect(() => scoreLoglikNorm([-1, -2], ['', 'x'], 0), 'empty choice').toThrow(/choice 0 is empty/)
  })

  it('an answer out of range is an error', () => {
    expect(() => scoreLoglik([-1, -2, -3, -4], 4), 'answer 4 of 4').toThrow(
      /answer must be an integer in 0\.\.3/,
    )
  })
})

describe('generate scoring', () => {
  it('the extracted letter against the answer; none is wrong', () => {
    expect(scoreGenerate(' C.', 2), 'C right').toEqual({ extracted: 'C', predicted: 2, correct: true })
    expect(scoreGenerate(' A', 2), 'A wrong').toEqual({ extracted: 'A', predicted: 0, correct: false })
    expect(scoreGenerate('Paris', 2), 'none').toEqual({
      extracted: 'none',
      predicted: undefined,
      correct: false,
    })
  })
})
