import { describe, expect, it } from 'vitest'
import { buildRequestBody } from '../../../harness/engines/openai/openai-body.ts'
import {
  assertComplete,
  ChunkReader,
  createChunkState,
  createDoneEvent,
  errorMessageFromText,
  parseChunkData,
  readChunk,
} from '../../../harness/engines/openai/openai-chunks.ts'
import { RequestError } from '../../../harness/errors.ts'

function read(chunk: unknown, state = createChunkState()) {
  return readChunk(chunk, state)
}

describe('readChunk', () => {
  it('turns chat content into a one-token event', () => {
    expect(
      read({ choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] }),
      'content',
    ).toEqual({
      type: 'token',
      text: 'Hi',
      tokens: 1,
    })
  })

  it('does not count role-only, empty, finish-only or usage-only chunks as content', () => {
    const state = createChunkState()
    expect(
      read({ choices: [{ delta: { role: 'assistant', content: null } }] }, state),
      'role-only',
    ).toBeUndefined()
    expect(read({ choices: [{ delta: { content: '' } }] }, state), 'empty content').toBeUndefined()
    expect(read({ choices: [{ delta: {}, finish_reason: 'length' }] }, state), 'finish-only').toBeUndefined()
    expect(
      read({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } }, state),
      'usage-only',
    ).toBeUndefined()
    expect(state.finishReason, 'finish reason kept').toBe('length')
    expect(state.promptTokens, 'prompt tokens').toBe(5)
    expect(state.outputTokens, 'completion tokens').toBe(3)
  })

  it('counts reasoning deltas as content without putting them in the answer text', () => {
    expect(read({ choices: [{ delta: { reasoning_content: 'think' } }] }), 'reasoning_content').toEqual({
      type: 'token',
      text: '',
      tokens: 1,
    })
    expect(read({ choices: [{ delta: { reasoning: 'think' } }] }), 'reasoning (vLLM)').toEqual({
      type: 'token',
      text: '',
      tokens: 1,
    })
  })

  it('reads completions text and usage on the finish chunk (llama-server shape)', () => {
    const state = createChunkState()
    expect(read({ choices: [{ text: ' Paris', index: 0, finish_reason: null }] }, state), 'text').toEqual({
      type: 'token',
      text: ' Paris',
      tokens: 1,
    })
    expect(
      read(
        {
          choices: [{ text: '', index: 0, finish_reason: 'stop' }],
          usage: { completion_tokens: 2, prompt_tokens: 4, total_tokens: 6 },
        },
        state,
      ),
      'finish chunk with empty text',
    ).toBeUndefined()
    expect(createDoneEvent(state), 'done').toEqual({
      type: 'done',
      promptTokens: 4,
      outputTokens: 2,
      tokensSource: 'server',
      finishReason: 'stop',
    })
  })

  it('maps llama-server timings and ignores unknown timing fields', () => {
    const state = createChunkState()
    read(
      {
        choices: [],
        timings: {
          prompt_n: 12,
          prompt_ms: 30.5,
          prompt_per_second: 393.4,
          predicted_n: 64,
          predicted_ms: 210.25,
          predicted_per_second: 304.4,
          cache_n: 3,
          draft_n: 40,
          draft_n_accepted: 31,
        },
      },
      state,
    )
    expect(state.serverTimings, 'timings').toEqual({
      promptN: 12,
      promptMs: 30.5,
      predictedN: 64,
      predictedMs: 210.25,
      cacheN: 3,
      draftN: 40,
      draftNAccepted: 31,
    })
  })

  it('reads chat-style logprobs and counts one token per entry', () => {
    const event = read({
      choices: [
        {
          delta: { content: 'ab' },
          logprobs: {
            content: [
              {
                token: 'a',
                logprob: -0.5,
                bytes: [97],
                top_logprobs: [{ token: 'a', logprob: -0.5, bytes: [97] }],
              },
              { token: 'b', logprob: -1.25, bytes: [98], top_logprobs: [] },
            ],
          },
        },
      ],
    })
    expect(event, 'two tokens').toEqual({
      type: 'token',
      text: 'ab',
      tokens: 2,
      logprobs: [
        { token: 'a', logprob: -0.5, top: [{ token: 'a', logprob: -0.5 }] },
        { token: 'b', logprob: -1.25, top: [] },
      ],
    })
  })

  it('reads legacy completions logprobs arrays (vLLM)', () => {
    const event = read({
      choices: [
        {
          text: ' A',
          logprobs: {
            tokens: [' A'],
            token_logprobs: [-0.1],
            top_logprobs: [{ ' A': -0.1, ' B': -2.5 }],
            text_offset: [0],
          },
        },
      ],
    })
    expect(event?.logprobs, 'legacy').toEqual([
      {
        token: ' A',
        logprob: -0.1,
        top: [
          { token: ' A', logprob: -0.1 },
          { token: ' B', logprob: -2.5 },
        ],
      },
    ])
    expect(event?.tokens, 'tokens').toBe(1)
  })

  it('throws a stream RequestError with the server message for an error payload', () => {
    const error = captureError(() => read({ error: { message: 'out of memory', type: 'server_error' } }))
    expect(error, 'class').toBeInstanceOf(RequestError)
    expect((error as RequestError).kind, 'kind').toBe('stream')
    expect((error as RequestError).message, 'message').toContain('out of memory')
  })

  it('throws a stream RequestError for data that is not JSON', () => {
    const error = captureError(() => parseChunkData('{"choices": [tru'))
    expect((error as RequestError).kind, 'kind').toBe('stream')
    expect((error as RequestError).message, 'message shows the data').toContain('{"choices": [tru')
  })
})

describe('createDoneEvent and assertComplete', () => {
  it('leaves tokensSource unset without usage', () => {
    const state = createChunkState()
    read({ choices: [{ delta: {}, finish_reason: 'stop' }] }, state)
    expect(createDoneEvent(state), 'done without usage').toEqual({ type: 'done', finishReason: 'stop' })
  })

  it('accepts a finish_reason or [DONE] and rejects neither', () => {
    const finished = createChunkState()
    finished.finishReason = 'stop'
    expect(() => assertComplete(finished), 'finish_reason').not.toThrow()
    const sawDone = createChunkState()
    sawDone.sawDone = true
    expect(() => assertComplete(sawDone), '[DONE]').not.toThrow()
    const error = captureError(() => assertComplete(createChunkState()))
    expect((error as RequestError).kind, 'cut short').toBe('stream')
  })
})

describe('errorMessageFromText', () => {
  it('finds the message in the usual error bodies', () => {
    expect(errorMessageFromText('{"error":{"message":"bad model","code":404}}'), 'OpenAI/vLLM').toBe(
      'bad model',
    )
    expect(errorMessageFromText('{"error":"overloaded"}'), 'string error').toBe('overloaded')
    expect(errorMessageFromText('{"detail":"Not Found"}'), 'FastAPI detail').toBe('Not Found')
    expect(errorMessageFromText('upstream timeout'), 'plain text').toBe('upstream timeout')
    expect(errorMessageFromText(''), 'empty').toBe('(empty body)')
  })
})

describe('buildRequestBody', () => {
  it('builds a chat body with only the sampling fields that are set, extraBody last', () => {
    const body = buildRequestBody(
      'chat',
      'm',
      {
        prompt: 'hello',
        maxTokens: 8,
        minTokens: 8,
        ignoreEos: true,
        sampling: { temperature: 0, topK: 40, stop: ['\n'], repetitionPenalty: 1.1 },
        topLogprobs: 3,
      },
      { temperature: 0.5, cache_prompt: false },
    )
    expect(body, 'chat body').toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.5,
      top_k: 40,
      stop: ['\n'],
      repetition_penalty: 1.1,
      min_tokens: 8,
      ignore_eos: true,
      logprobs: true,
      top_logprobs: 3,
      cache_prompt: false,
    })
  })

  it('builds a completions body with the prompt and an integer logprobs', () => {
    const body = buildRequestBody(
      'completions',
      'm',
      { prompt: 'p', maxTokens: 2, topLogprobs: 5 },
      undefined,
    )
    expect(body, 'completions body').toEqual({
      model: 'm',
      prompt: 'p',
      max_tokens: 2,
      stream: true,
      stream_options: { include_usage: true },
      logprobs: 5,
    })
  })

  it('sends the given messages instead of the prompt', () => {
    const messages = [
      { role: 'system' as const, content: 's' },
      { role: 'user' as const, content: 'u' },
    ]
    const body = buildRequestBody('chat', 'm', { prompt: 'ignored', messages, maxTokens: 1 }, undefined)
    expect(body.messages, 'messages').toEqual(messages)
  })
})

describe('ChunkReader', () => {
  const vllmHead =
    '{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1,"model":"the","choices":[{"index":0,'
  const vllm = (content: string) =>
    `${vllmHead}"delta":{"content":${JSON.stringify(content)}},"logprobs":null,"finish_reason":null}]}`
  const llama = (content: string, created = 1) =>
    `{"choices":[{"finish_reason":null,"index":0,"delta":{"content":${JSON.stringify(content)}}}],"created":${created},"id":"c","model":"m","object":"chat.completion.chunk"}`
  const completion = (text: string) =>
    `{"id":"cmpl-1","object":"text_completion","model":"m","choices":[{"index":0,"text":${JSON.stringify(text)},"logprobs":null,"finish_reason":null}]}`

  /** The reader must agree with the plain parse on every chunk and on the final state. */
  function expectSameAsParse(datas: string[], label: string) {
    const reader = new ChunkReader()
    const state = createChunkState()
    datas.forEach((data, i) => {
      expect(reader.read(data), `${label}: chunk ${i}`).toEqual(readChunk(parseChunkData(data), state))
    })
    expect(reader.state, `${label}: state`).toEqual(state)
  }

  it('agrees with JSON.parse + readChunk on a stream with escapes, unicode and structural changes', () => {
    expectSameAsParse(
      [
        `${vllmHead}"delta":{"role":"assistant","content":null},"logprobs":null,"finish_reason":null}]}`,
        vllm('the'),
        vllm(' quick'),
        vllm('line\nbreak'),
        vllm('say "hi"'),
        vllm('back\\slash'),
        vllm(' ünïcödé 🙂'),
        vllm('tab\there'),
        // Same prefix and suffix, different structure in the middle: must not be taken as content text.
        `${vllmHead}"delta":{"content":"a","reasoning_content":"b"},"logprobs":null,"finish_reason":null}]}`,
        `${vllmHead}"delta":{"content":"x"},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`,
        `${vllmHead}"delta":{"content":"tail"},"logprobs":null,"finish_reason":"length"}]}`,
        `${vllmHead}"delta":{"content":""},"logprobs":null,"finish_reason":null}]}`,
        vllm('after'),
        `${vllmHead}"delta":{},"logprobs":null,"finish_reason":"stop"}]}`,
        '{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1,"model":"the","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}',
      ],
      'vLLM shape',
    )
  })

  it('finds the content literal when another field holds the same text', () => {
    // The model is named "the": the first occurrence of "the" is the model, not the content.
    // A template anchored on the model would read the next chunk's model as its content.
    const otherModel = vllm('the').replace('"model":"the"', '"model":"xyz"')
    expectSameAsParse([vllm('the'), otherModel, vllm('next'), vllm('the')], 'model equals content')
  })

  it('handles content-first (llama-server) and completions shapes, and a field that changes every chunk', () => {
    expectSameAsParse([llama('Hel'), llama('lo'), llama(' there')], 'llama-server shape')
    expectSameAsParse([completion(' A'), completion(' B'), completion('\n')], 'completions shape')
    expectSameAsParse(
      Array.from({ length: 12 }, (_, i) => llama(`w${i}`, i)),
      'created changes every chunk',
    )
  })

  it('never takes a template from a chunk with logprobs', () => {
    const withLogprobs = (token: string) =>
      `${vllmHead}"delta":{"content":"${token}"},"logprobs":{"content":[{"token":"${token}","logprob":-1,"top_logprobs":[]}]},"finish_reason":null}]}`
    expectSameAsParse([withLogprobs('a'), withLogprobs('b'), withLogprobs('c')], 'logprobs')
  })

  it('reads repeated plain content chunks without JSON.parse after the first', () => {
    const reader = new ChunkReader()
    reader.read(vllm('first'))
    const parse = JSON.parse
    let parses = 0
    JSON.parse = (...args: Parameters<typeof JSON.parse>) => {
      parses++
      return parse(...args)
    }
    try {
      for (let i = 0; i < 50; i++) reader.read(vllm(` word${i}`))
    } finally {
      JSON.parse = parse
    }
    expect(parses, 'JSON.parse calls for 50 template hits').toBe(0)
  })
})

function captureError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}
