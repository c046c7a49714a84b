import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import { VOCABULARY } from '../../../harness/mock-server/text.ts'
import {
  type Completion,
  chatBody,
  choice,
  chunkText,
  type ErrorBody,
  parseChunks,
  post,
} from '../../helpers/sse-client.ts'

const zero = { ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 0 } } as const

const parse = parseChunks
const words = (text: string) => text.split(/\s+/).filter((w) => w !== '')

describe('mock server stream shape', () => {
  let server: MockServerHandle
  beforeAll(async () => {
    server = await startMockServer({ ...zero, tokensPerChunk: 2, outputTokens: 3, seed: 7 })
  })
  afterAll(() => server.close())

  it('chat stream: role chunk, content chunks of tokensPerChunk, finish chunk, usage chunk, [DONE]', async () => {
    const res = await post(
      `${server.url}/chat/completions`,
      chatBody({
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'one two three four five' }] },
        ],
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: 5,
      }),
    )
    expect(res.status, 'status').toBe(200)
    expect(res.headers['content-type'], 'content type').toBe('text/event-stream')
    // role + ceil(5 / 2) = 3 content + finish + usage, then [DONE]
    expect(res.data.length, 'data lines').toBe(7)
    expect(res.data.at(-1), 'last line').toBe('[DONE]')
    const [role, c1, c2, c3, finish, usage] = parse(res.data) as Completion[]
    expect(choice(role!).delta, 'role chunk').toEqual({ role: 'assistant', content: null })
    expect(
      [c1, c2, c3].map((c) => words(chunkText(c!)).length),
      'tokens per content chunk',
    ).toEqual([2, 2, 1])
    expect(chunkText(c1!).startsWith(' '), 'first chat token has no leading space').toBe(false)
    expect(choice(finish!).delta, 'finish delta').toEqual({})
    expect(choice(finish!).finish_reason, 'finish reason with max_tokens').toBe('length')
    expect(usage!.choices, 'usage chunk choices').toEqual([])
    // prompt tokens: 'be brief' (2) + 'one two three four five' (5)
    expect(usage!.usage, 'usage').toEqual({ prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 })
    expect(usage!.timings?.prompt_n, 'timings.prompt_n').toBe(7)
    expect(usage!.timings?.predicted_n, 'timings.predicted_n').toBe(5)
    expect(finish!.timings, 'timings only on the final chunk').toBeUndefined()
    expect(new Set(parse(res.data).map((c) => c.id)).size, 'one id per response').toBe(1)
    expect(role!.object, 'object').toBe('chat.completion.chunk')
  })

  it('chat stream without include_usage ends with the finish chunk, carrying timings', async () => {
    const res = await post(`${server.url}/chat/completions`, chatBody({ stream: true, max_tokens: 2 }))
    const chunks = parse(res.data)
    expect(res.data.length, 'role + 1 content + finish + [DONE]').toBe(4)
    expect(
      chunks.some((c) => 'usage' in c),
      'no usage chunk',
    ).toBe(false)
    expect(choice(chunks.at(-1)!).finish_reason, 'finish').toBe('length')
    expect(Object.keys(chunks.at(-1)!.timings ?? {}).sort(), 'timings fields').toEqual(
      [
        'cache_n',
        'predicted_ms',
        'predicted_n',
        'predicted_per_second',
        'predicted_per_token_ms',
        'prompt_ms',
        'prompt_n',
        'prompt_per_second',
        'prompt_per_token_ms',
      ].sort(),
    )
  })

  it('completions stream: content chunks, usage on the finish chunk, [DONE]', async () => {
    const res = await post(`${server.url}/completions`, {
      model: 'x',
      prompt: 'alpha beta  gamma\ndelta',
      stream: true,
      max_tokens: 4,
    })
    // ceil(4 / 2) = 2 content + finish, then [DONE]
    expect(res.data.length, 'data lines').toBe(4)
    const [c1, c2, finish] = parse(res.data) as Completion[]
    expect(c1!.object, 'object').toBe('text_completion')
    expect(c1!.model, 'model echoed').toBe('x')
    expect(words(chunkText(c1!)).length + words(chunkText(c2!)).length, 'tokens').toBe(4)
    expect(chunkText(c1!).startsWith(' '), 'completion tokens continue the prompt with a space').toBe(true)
    expect(choice(finish!).text, 'finish text').toBe('')
    expect(finish!.usage, 'usage on finish').toEqual({
      prompt_tokens: 4,
      completion_tokens: 4,
      total_tokens: 8,
    })
  })

  it('without max_tokens generates outputTokens and finishes with stop; min_tokens/ignore_eos change nothing', async () => {
    const res = await post(`${server.url}/completions`, { prompt: 'a', stream: true, ignore_eos: true })
    const finish = parse(res.data).at(-1)!
    expect(finish.usage?.completion_tokens, 'outputTokens option').toBe(3)
    expect(choice(finish).finish_reason, 'finish reason').toBe('stop')
    const exact = await post(`${server.url}/completions`, {
      prompt: 'a',
      max_tokens: 9,
      min_tokens: 9,
      ignore_eos: true,
    })
    expect((JSON.parse(exact.raw) as Completion).usage?.completion_tokens, 'exactly max_tokens').toBe(9)
  })

  it('non-streamed chat and completions answer one JSON body with usage', async () => {
    const chat = await post(`${server.url}/chat/completions`, chatBody({ max_tokens: 6 }))
    const body = JSON.parse(chat.raw) as Completion
    expect(chat.headers['content-type'], 'content type').toBe('application/json')
    expect(body.object, 'object').toBe('chat.completion')
    expect(choice(body).message?.role, 'role').toBe('assistant')
    expect(words(choice(body).message?.content ?? '').length, 'words').toBe(6)
    expect(choice(body).logprobs, 'logprobs not asked').toBeNull()
    expect(body.usage, 'usage').toEqual({ prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 })
    expect(body.timings?.predicted_n, 'timings').toBe(6)
    const completion = JSON.parse(
      (await post(`${server.url}/completions`, { prompt: [[1, 2, 3]], max_tokens: 2 })).raw,
    )
    expect(completion.usage.prompt_tokens, 'token-id prompt counts ids').toBe(3)
    expect(words(chunkText(completion)).length, 'completion words').toBe(2)
  })

  it('text is deterministic words from the vocabulary: same seed and prompt, same text', async () => {
    const other = await startMockServer({ ...zero, tokensPerChunk: 2, seed: 7 })
    const different = await startMockServer({ ...zero, seed: 8 })
    try {
      const ask = async (url: string, prompt = 'tell me') =>
        JSON.parse((await post(`${url}/completions`, { prompt, max_tokens: 12 })).raw).choices[0]
          .text as string
      const a = await ask(server.url)
      expect(await ask(server.url), 'same server, same prompt').toBe(a)
      expect(await ask(other.url), 'other server, same seed').toBe(a)
      expect(await ask(different.url), 'different seed').not.toBe(a)
      expect(await ask(server.url, 'tell you'), 'different prompt').not.toBe(a)
      expect(
        words(a).every((w) => VOCABULARY.includes(w)),
        'vocabulary words',
      ).toBe(true)
      const stream = await post(`${server.url}/completions`, {
        prompt: 'tell me',
        max_tokens: 12,
        stream: true,
      })
      expect(parse(stream.data).map(chunkText).join(''), 'streamed text equals non-streamed text').toBe(a)
    } finally {
      await other.close()
      await different.close()
    }
  })

  it('serverTimings: false leaves timings out', async () => {
    const plain = await startMockServer({ ...zero, serverTimings: false })
    try {
      const res = await post(`${plain.url}/chat/completions`, chatBody({ stream: true, max_tokens: 2 }))
      expect(
        parse(res.data).some((c) => 'timings' in c),
        'no timings',
      ).toBe(false)
    } finally {
      await plain.close()
    }
  })

  it('answers 400 with an OpenAI error body naming the parameter', async () => {
    const bad = await post(`${server.url}/chat/completions`, { messages: [], max_tokens: 5 })
    expect(bad.status, 'status').toBe(400)
    expect((JSON.parse(bad.raw) as ErrorBody).error.param, 'param').toBe('messages')
    const minAboveMax = await post(`${server.url}/completions`, { prompt: 'a', max_tokens: 2, min_tokens: 3 })
    expect((JSON.parse(minAboveMax.raw) as ErrorBody).error.param, 'min_tokens').toBe('min_tokens')
    const models = (await (await fetch(`${server.url}/models`)).json()) as { data: { id: string }[] }
    expect(models.data[0]?.id, 'models').toBe('mock-model')
    expect(await (await fetch(server.url.replace('/v1', '/health'))).json(), 'health').toEqual({
      status: 'ok',
    })
  })
})
