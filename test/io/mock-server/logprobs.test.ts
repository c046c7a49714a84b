import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import {
  type Completion,
  chatBody,
  choice,
  chunkText,
  type ErrorBody,
  type LogprobEntry,
  parseChunks,
  post,
} from '../../helpers/sse-client.ts'

type Entry = LogprobEntry

/** Checks one token's entry is a valid slice of a distribution; returns a label of the first violation. */
function violation(entry: Entry, top: number): string | undefined {
  const alts = entry.top_logprobs
  if (alts.length !== top) return `expected ${top} alternatives, got ${alts.length}`
  if (top > 0 && (alts[0]!.token !== entry.token || alts[0]!.logprob !== entry.logprob))
    return 'the sampled token is not the most likely one (greedy)'
  if (!(entry.logprob <= 0)) return `logprob ${entry.logprob} > 0`
  if (JSON.stringify(entry.bytes) !== JSON.stringify([...Buffer.from(entry.token)]))
    return 'bytes ≠ UTF-8 of token'
  for (let i = 1; i < alts.length; i++)
    if (alts[i]!.logprob > alts[i - 1]!.logprob) return 'not sorted descending'
  if (new Set(alts.map((a) => a.token)).size !== alts.length) return 'duplicate alternatives'
  const mass = alts.reduce((s, a) => s + Math.exp(a.logprob), 0)
  if (mass > 1 + 1e-9) return `probabilities sum to ${mass} > 1`
  return undefined
}

describe('mock server logprobs', () => {
  let server: MockServerHandle
  beforeAll(async () => {
    server = await startMockServer({
      ttft: { kind: 'fixed', ms: 0 },
      itl: { kind: 'fixed', ms: 0 },
      tokensPerChunk: 3,
    })
  })
  afterAll(() => server.close())

  it('chat stream: logprobs.content per chunk, one entry per token, valid distributions', async () => {
    const res = await post(
      `${server.url}/chat/completions`,
      chatBody({ stream: true, max_tokens: 7, logprobs: true, top_logprobs: 5 }),
    )
    const content = parseChunks(res.data).filter((c) => chunkText(c) !== '')
    // ceil(7 / 3) = 3 chunks carrying 3, 3, 1 tokens
    expect(
      content.map((c) => choice(c).logprobs?.content.length),
      'entries per chunk',
    ).toEqual([3, 3, 1])
    for (const c of content) {
      const entries = choice(c).logprobs?.content ?? []
      expect(entries.map((e) => e.token).join(''), 'tokens spell the chunk text').toBe(chunkText(c))
      for (const e of entries) expect(violation(e, 5), `entry ${e.token}`).toBeUndefined()
    }
  })

  it('completions: logprobs N answers in the chat-style shape', async () => {
    const res = await post(`${server.url}/completions`, { prompt: 'x y', max_tokens: 4, logprobs: 2 })
    const body = JSON.parse(res.raw) as Completion
    const entries = choice(body).logprobs?.content ?? []
    expect(entries.length, 'one entry per token').toBe(4)
    expect(entries.map((e) => e.token).join(''), 'tokens spell the text').toBe(chunkText(body))
    for (const e of entries) expect(violation(e, 2), `entry ${e.token}`).toBeUndefined()
  })

  it('top_logprobs 0 gives the token logprob only; same request, same numbers', async () => {
    const ask = async () =>
      JSON.parse(
        (
          await post(
            `${server.url}/chat/completions`,
            chatBody({ max_tokens: 3, logprobs: true, top_logprobs: 0 }),
          )
        ).raw,
      ).choices[0].logprobs.content as Entry[]
    const a = await ask()
    for (const e of a) expect(violation(e, 0), `entry ${e.token}`).toBeUndefined()
    expect(await ask(), 'deterministic').toEqual(a)
  })

  it('rejects top_logprobs above 20 with a 400 naming the parameter', async () => {
    const res = await post(`${server.url}/chat/completions`, chatBody({ logprobs: true, top_logprobs: 21 }))
    expect(res.status, 'status').toBe(400)
    expect((JSON.parse(res.raw) as ErrorBody).error.param, 'param').toBe('top_logprobs')
  })
})
