import { describe, expect, it } from 'vitest'
import { MAX_AHEAD_CHARS, promptsAhead, syntheticPromptSource } from '../../../harness/prompts/index.ts'
import type { Prompt, PromptSource } from '../../../harness/prompts/types.ts'

/** A source that counts its draws, so a test sees when prompts are made. */
function counting(inner: PromptSource): PromptSource & { draws: number } {
  const source = {
    distinct: inner.distinct,
    draws: 0,
    at(position: number, salt?: number): Prompt {
      source.draws++
      return inner.at(position, salt)
    },
  }
  return source
}

describe('promptsAhead', () => {
  const synthetic = () =>
    syntheticPromptSource({ promptTokens: { mean: 40, sd: 10 }, outputTokens: 16, seed: 9 })

  it('draws the expected prompts before the load and hands out the same sequence as the source', () => {
    const source = counting(synthetic())
    const cursor = promptsAhead(source, { from: 3, salt: 77, expected: 50 })
    expect(source.draws).toBe(50)
    expect(cursor.ahead).toBe(50)
    const got = Array.from({ length: 60 }, () => cursor.next())
    // 10 past the expected count come from the source at send time, in order.
    expect(source.draws).toBe(60)
    const reference = synthetic()
    expect(got).toEqual(Array.from({ length: 60 }, (_, k) => reference.at(3 + k, 77)))
  })

  it('draws nothing ahead when the load does not say how many requests it makes', () => {
    const source = counting(synthetic())
    const cursor = promptsAhead(source, { from: 0, salt: 1, expected: undefined })
    expect(source.draws).toBe(0)
    expect(cursor.next()).toEqual(synthetic().at(0, 1))
  })

  it('holds at most MAX_AHEAD_CHARS of prompt text', () => {
    const long = 'x'.repeat(1024 * 1024) // 1 Mi characters per prompt
    const source = counting({
      distinct: undefined,
      at: (index) => ({ index, prompt: long, outputTokens: 1 }),
    })
    const cursor = promptsAhead(source, { from: 0, salt: 0, expected: 10_000 })
    expect(cursor.ahead).toBe(MAX_AHEAD_CHARS / long.length)
    for (let k = 0; k < 40; k++) expect(cursor.next().index).toBe(k)
  })
})
