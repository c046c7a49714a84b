/**
 * The endpoint side of quality, pure parts: parseEcho reads vLLM's echoed legacy arrays (token_id:N names,
 * the sent token first in each dict) into sorted top-k rows and refuses what cannot be used (text names,
 * ids that do not line up, fewer than k entries, llama-server's generated-only logprobs); topKOfRow picks
 * the k most likely ids with ties to the lower id; compareTopK stays finite when a peaked side's top k
 * rounds to a sum of 1, and a next token known beside the list does not lower the cap of unlisted tokens.
 */
import { describe, expect, it } from 'vitest'
import { parseEcho } from '../../../harness/engines/openai/score-top-k.ts'
import { compareTopK } from '../../../harness/quality/top-k.ts'
import { topKOfRow } from '../../../harness/quality/top-k-measure.ts'

const lp = Math.log

/** A vLLM answer for ids [1, 7, 8] with logprobs: 2 (the dict: the sent token first, then the top 2). */
function vllmAnswer(overrides: Partial<Record<string, unknown>> = {}) {
  return {
    choices: [
      {
        text: 'ab',
        logprobs: {
          tokens: ['token_id:1', 'token_id:7', 'token_id:8'],
          token_logprobs: [null, lp(0.5), lp(0.1)],
          top_logprobs: [
            null,
            { 'token_id:7': lp(0.5), 'token_id:9': lp(0.3) },
            { 'token_id:8': lp(0.1), 'token_id:3': lp(0.6), 'token_id:4': lp(0.2) },
          ],
          text_offset: [0, 0, 1],
          ...overrides,
        },
      },
    ],
  }
}

describe('parseEcho (vLLM echo + logprobs, return_tokens_as_token_ids)', () => {
  it('reads sorted top-k rows from position `from`, the sent token beyond the top k dropped', () => {
    const r = parseEcho(vllmAnswer(), [1, 7, 8], 2, 1)
    expect(r.state).toBe('ok')
    if (r.state !== 'ok') return
    expect(r.rows, 'row per position 1 … 2').toHaveLength(2)
    expect(r.rows[0], 'sent token among the top 2').toEqual({
      top: [
        { id: 7, logprob: lp(0.5) },
        { id: 9, logprob: lp(0.3) },
      ],
      nextLogprob: lp(0.5),
    })
    expect(r.rows[1], 'sent token 8 (0.1) listed first by vLLM, not in the top 2').toEqual({
      top: [
        { id: 3, logprob: lp(0.6) },
        { id: 4, logprob: lp(0.2) },
      ],
      nextLogprob: lp(0.1),
    })
  })

  it('refuses text names, ids that do not line up, fewer than k entries, generated-only logprobs', () => {
    const text = vllmAnswer({ tokens: ['<s>', 'a', 'b'] })
    expect(parseEcho(text, [1, 7, 8], 2, 1)).toMatchObject({
      state: 'error',
      message: expect.stringMatching(/names tokens by text .*return_tokens_as_token_ids/),
    })
    expect(parseEcho(vllmAnswer(), [1, 7, 9], 2, 1)).toMatchObject({
      state: 'error',
      message: 'its echoed ids do not line up with the ids sent (position 2: sent 9, echoed 8)',
    })
    const few = vllmAnswer()
    const top = few.choices[0]!.logprobs.top_logprobs as unknown as Record<string, number>[]
    top[1] = { 'token_id:7': lp(0.5) }
    expect(parseEcho(few, [1, 7, 8], 2, 1)).toMatchObject({
      state: 'error',
      message: expect.stringMatching(/position 1 lists 1 top logprobs, fewer than the 2 asked for/),
    })
    const llamaServer = {
      choices: [
        { text: 'r', logprobs: { content: [{ id: 117, token: 'r', logprob: -0.1, top_logprobs: [] }] } },
      ],
    }
    expect(parseEcho(llamaServer, [1, 7, 8, 9], 2, 1)).toMatchObject({
      state: 'error',
      message: expect.stringMatching(
        /generated tokens only \(1 entry for a 4-token prompt\).*llama\.cpp #27174/,
      ),
    })
    expect(parseEcho({ choices: [{ text: 'x', logprobs: null }] }, [1, 7], 2, 1)).toMatchObject({
      state: 'error',
      message: 'its answer carries no logprobs',
    })
  })
})

describe('topKOfRow', () => {
  it('the k most likely ids, most likely first, ties to the lower id', () => {
    const row = [lp(0.1), lp(0.3), lp(0.1), lp(0.3), lp(0.2)]
    expect(topKOfRow(row, 3).map((e) => e.token)).toEqual([1, 3, 4])
    expect(topKOfRow(row, 5).map((e) => e.token)).toEqual([1, 3, 4, 0, 2])
  })
})

describe('compareTopK on lists of an endpoint', () => {
  it('is finite when a side did not list a token and its top k rounds to a sum of 1 (rests at least 1e-6)', () => {
    // Reference lists token 2 at 1e-8; the variant's two entries sum to 1 − 1e-9 (rounding: "no rest").
    const r = compareTopK(
      [
        { token: 0, logprob: lp(0.9) },
        { token: 1, logprob: lp(0.1 - 1e-8) },
        { token: 2, logprob: lp(1e-8) },
      ],
      [
        { token: 0, logprob: lp(0.9) },
        { token: 1, logprob: lp(0.1 - 1e-9) },
      ],
      0,
    )
    expect(Number.isFinite(r.kld), `KLD ${r.kld}`).toBe(true)
    expect(
      r.kld,
      'token 1, token 2 at its share 5e-7, the rests at the 1e-6 floor (1e-6 and 5e-7)',
    ).toBeCloseTo(
      (0.1 - 1e-8) * Math.log((0.1 - 1e-8) / (0.1 - 1e-9)) +
        1e-8 * Math.log(1e-8 / 5e-7) +
        1e-6 * Math.log(2),
      12,
    )
  })

  it('is finite when both sides list the same tokens and only one rest rounds below 1e-6', () => {
    // Measured (teacher-q8_0 vs teacher-f32, 2048 tokens): rests 1.35e-6 and 9.2e-7 had made one term infinite.
    const ref = [
      { token: 0, logprob: lp(0.998) },
      { token: 1, logprob: lp(0.002 - 1.35e-6) },
    ]
    const variant = [
      { token: 0, logprob: lp(0.997) },
      { token: 1, logprob: lp(0.003 - 9.2e-7) },
    ]
    const r = compareTopK(ref, variant, 0)
    expect(Number.isFinite(r.kld), `KLD ${r.kld}`).toBe(true)
    const two = (p: number, q: number) => p * Math.log(p / q)
    expect(r.kld, 'the rest of the variant taken as 1e-6').toBeCloseTo(
      two(0.998, 0.997) + two(0.002 - 1.35e-6, 0.003 - 9.2e-7) + two(1.35e-6, 1e-6),
      12,
    )
  })

  it('a next token known beside the list counts as listed but does not cap the unlisted tokens', () => {
    const ref = [
      { token: 0, logprob: lp(0.5) },
      { token: 1, logprob: lp(0.3) },
    ]
    const variant = [
      { token: 0, logprob: lp(0.5) },
      { token: 2, logprob: lp(0.3) },
    ]
    const withKnown = compareTopK(ref, variant, 5, 0, { ref: lp(0.01), variant: lp(0.02) })
    expect(withKnown.nllRef, 'the known next token').toBeCloseTo(-lp(0.01), 12)
    expect(withKnown.nllVariant).toBeCloseTo(-lp(0.02), 12)
    expect(withKnown.deltaP).toBeCloseTo(0.01, 12)
    // Unlisted token 2 on the reference side: R = 1 − 0.81 = 0.19 over 2 missing … capped by 0.3, not 0.01.
    const listedAsEntry = compareTopK(
      [...ref, { token: 5, logprob: lp(0.01) }],
      [...variant, { token: 5, logprob: lp(0.02) }],
      5,
    )
    expect(withKnown.kld, 'a different (larger) share for the unlisted tokens').not.toBeCloseTo(
      listedAsEntry.kld,
      6,
    )
  })
})
