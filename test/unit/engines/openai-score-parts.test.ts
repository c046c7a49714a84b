/**
 * The pure parts of the openai engine's scoreChoices(): locating a continuation in vLLM-style echoed
 * logprobs by text offsets (code points), and reading one-token choices from a next-token top-k.
 * Hand-written answers, hand-computed sums.
 */
import { describe, expect, it } from 'vitest'
import { codePointLength, echoScore, legacyLogprobs } from '../../../harness/engines/openai/score-echo.ts'
import { nextTokenScore } from '../../../harness/engines/openai/score-next-token.ts'

/** An echo of `tokens` (texts) with these logprobs, offsets the running code-point sum. */
function echoed(tokens: string[], logprobs: (number | null)[]) {
  const text_offset: number[] = []
  let offset = 0
  for (const t of tokens) {
    text_offset.push(offset)
    offset += codePointLength(t)
  }
  return { tokens, token_logprobs: logprobs, text_offset }
}

describe('echoScore', () => {
  it('sums the continuation tokens between the two offsets, not the generated one', () => {
    const lp = echoed(['Answer', ':', ' B', '\n'], [null, -1, -0.25, -3])
    const s = echoScore('Answer:', ' B', 'Answer: B\n', lp)
    expect(s, 'one token, -0.25').toEqual({ state: 'ok', logprob: -0.25, tokens: 1 })
  })

  it('a two-token continuation: the sum of both', () => {
    const lp = echoed(['Q', ':', ' A', 'B', 'x'], [null, -1, -0.5, -0.125, -9])
    expect(echoScore('Q:', ' AB', 'Q: ABx', lp), 'sum -0.625').toEqual({
      state: 'ok',
      logprob: -0.625,
      tokens: 2,
    })
  })

  it('counts offsets in code points (Python len): an emoji in the prompt is one', () => {
    expect(codePointLength('a😀b'), 'three code points, four UTF-16 units').toBe(3)
    const lp = echoed(['😀', ':', ' C', '!'], [null, -1, -2, -4])
    expect(lp.text_offset, 'offsets as vLLM counts').toEqual([0, 1, 2, 4])
    expect(echoScore('😀:', ' C', '😀: C!', lp), 'found at code point 2').toEqual({
      state: 'ok',
      logprob: -2,
      tokens: 1,
    })
  })

  it('a token straddling the boundary is an error, not a guess', () => {
    const lp = echoed(['Q', ': B', 'x'], [null, -1, -9])
    const s = echoScore('Q:', ' B', 'Q: Bx', lp)
    expect(s.state, 'error').toBe('error')
    expect(s.state === 'error' && s.message, 'names the token').toContain('": B" at 1 straddles the boundary')
  })

  it('offsets drifted by a BOS decoded as "<s>" (vLLM): located from the generated end instead', () => {
    const lp = echoed(['<s>', 'Q', ':', ' B', 'x'], [null, -1, -2, -0.5, -9])
    expect(lp.text_offset[3], 'offset of " B" is 3 past the text').toBe(5)
    expect(echoScore('Q:', ' B', 'Q: Bx', lp, 1), 'found from the end').toEqual({
      state: 'ok',
      logprob: -0.5,
      tokens: 1,
    })
    expect(echoScore('Q:', ' B', 'Q: Bx', lp).state, 'without the generated count: not located').toBe('error')
  })

  it('a straddling token fails both ways, saying both', () => {
    const s = echoScore('Q:', ' B', 'Q: Bx', echoed(['Q', ': B', 'x'], [null, -1, -9]), 1)
    expect(s.state === 'error' && s.message, 'both reasons').toMatch(
      /straddles the boundary; from the end, .* make 3 characters, not the continuation's 2/,
    )
  })

  it('an answer that does not echo the prompt is an error', () => {
    const s = echoScore('Q:', ' B', 'x', echoed(['x'], [-1]))
    expect(s, 'echo ignored').toEqual({
      state: 'error',
      message: 'the answer does not start with the prompt (echo ignored)',
    })
  })

  it('a missing logprob inside the continuation is an error', () => {
    const s = echoScore('Q', ' B', 'Q Bx', echoed(['Q', ' B', 'x'], [null, null, -1]))
    expect(s.state === 'error' && s.message, 'names the token').toBe('token 1 " B" has no logprob')
  })

  it('legacyLogprobs wants the three arrays of one length', () => {
    expect(legacyLogprobs({ content: [] }), 'chat shape').toBeUndefined()
    expect(
      legacyLogprobs({ tokens: ['a'], token_logprobs: [], text_offset: [0] }),
      'lengths differ',
    ).toBeUndefined()
    expect(legacyLogprobs(echoed(['a'], [null])), 'ok').toEqual({
      tokens: ['a'],
      token_logprobs: [null],
      text_offset: [0],
    })
  })
})

describe('nextTokenScore', () => {
  const top = [
    { id: 7, logprob: -0.1 },
    { id: 3, logprob: -2 },
    { id: 9, logprob: -3 },
  ]
  it('choices in the top k get their logprob; absent ones -Infinity (below the cut-off)', () => {
    expect(nextTokenScore([3, 5, 7], top), 'values').toEqual({
      state: 'ok',
      logprobs: [-2, Number.NEGATIVE_INFINITY, -0.1],
      present: 2,
    })
  })
  it('no choice in the top k: the argmax is unknown', () => {
    const s = nextTokenScore([1, 2], top)
    expect(s, 'uncertain').toEqual({
      state: 'uncertain',
      reason: 'none of the 2 choices is among the top 3 next tokens',
    })
  })
  it('the best found choice at the cut-off with an absent one before it: a tie cannot be ruled out', () => {
    expect(nextTokenScore([1, 9], top).state, 'absent choice 0 could tie -3 and win the tie').toBe(
      'uncertain',
    )
    expect(nextTokenScore([9, 1], top).state, 'the found one has the lower index: exact').toBe('ok')
  })
})
