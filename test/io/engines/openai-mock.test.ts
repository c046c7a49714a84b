/**
 * Conformance of every HTTP client against the mock OpenAI server: the same expectations for 'http1',
 * 'undici' and 'sdk', so the lean clients are held to the reference client's behaviour.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../../harness/clock.ts'
import type { StreamEvent } from '../../../harness/engines/engine.ts'
import {
  createOpenAIEngine,
  OPENAI_CLIENTS,
  type OpenAIClient,
  type OpenAIEngineOptions,
} from '../../../harness/engines/openai/openai.ts'
import { EngineStartError, RequestError } from '../../../harness/errors.ts'
import type { MockOptionsInput } from '../../../harness/mock-server/options.ts'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import { executeRequest } from '../../../harness/request.ts'

const cleanups: (() => PromiseLike<void>)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const FAST = { ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 0 } } as const

async function mock(options: MockOptionsInput = {}): Promise<MockServerHandle> {
  const server = await startMockServer({ ...FAST, ...options }, { port: 0 })
  cleanups.push(() => server.close())
  return server
}

function engineFor(server: MockServerHandle, client: OpenAIClient, extra: Partial<OpenAIEngineOptions> = {}) {
  const engine = createOpenAIEngine({
    baseUrl: server.url,
    model: 'mock-model',
    api: 'chat',
    client,
    ...extra,
  })
  cleanups.push(() => engine[Symbol.asyncDispose]())
  return engine
}

async function run(
  iterable: AsyncIterable<StreamEvent>,
): Promise<{ events: StreamEvent[]; error?: unknown }> {
  const events: StreamEvent[] = []
  try {
    for await (const event of iterable) events.push(event)
  } catch (error) {
    return { events, error }
  }
  return { events }
}

const tokens = (events: StreamEvent[]) => events.filter((e) => e.type === 'token')
const done = (events: StreamEvent[]) => events.filter((e) => e.type === 'done')
const signal = () => new AbortController().signal
/** Five words: the mock counts prompt tokens as whitespace-separated words. */
const request = { prompt: 'Say hello to the benchmark', maxTokens: 12 }

describe.each(OPENAI_CLIENTS)('openai engine against the mock, client %s', (client) => {
  it('streams one token event per chunk, then done with the server usage', async () => {
    const server = await mock()
    const { events, error } = await run(engineFor(server, client).generate(request, signal()))
    expect(error, 'no error').toBeUndefined()
    expect(tokens(events).length, 'content chunks = max_tokens').toBe(12)
    expect(events.at(-1)?.type, 'done last').toBe('done')
    expect(done(events).length, 'exactly one done').toBe(1)
    const last = done(events)[0]
    expect(last?.outputTokens, 'completion_tokens').toBe(12)
    expect(last?.promptTokens, 'prompt_tokens').toBe(5)
    expect(last?.tokensSource, 'source').toBe('server')
    expect(last?.finishReason, 'finish').toBe('length')
    expect(last?.serverTimings?.predictedN, 'timings.predicted_n').toBe(12)
    expect(last?.serverTimings?.promptN, 'timings.prompt_n').toBe(5)
    const text = tokens(events)
      .map((e) => (e.type === 'token' ? e.text : ''))
      .join('')
    expect(text.split(' ').filter((w) => w.length > 0).length, 'one word per token').toBe(12)
  })

  it('respects maxTokens on the completions API too', async () => {
    const server = await mock()
    const engine = engineFor(server, client, { api: 'completions' })
    const { events, error } = await run(engine.generate({ prompt: 'one two three', maxTokens: 7 }, signal()))
    expect(error, 'no error').toBeUndefined()
    expect(tokens(events).length, 'chunks').toBe(7)
    expect(done(events)[0], 'done').toMatchObject({
      outputTokens: 7,
      promptTokens: 3,
      finishReason: 'length',
    })
  })

  it('counts tokens per chunk from logprobs when chunks carry several tokens', async () => {
    const server = await mock({ tokensPerChunk: 4 })
    const { events } = await run(
      engineFor(server, client).generate({ ...request, maxTokens: 10, topLogprobs: 2 }, signal()),
    )
    const chunks = tokens(events)
    expect(
      chunks.map((e) => (e.type === 'token' ? e.tokens : 0)),
      'tokens per chunk 4, 4, 2',
    ).toEqual([4, 4, 2])
    const first = chunks[0]
    expect(first?.type === 'token' && first.logprobs?.[0]?.top?.length, 'top-2 alternatives').toBe(2)
    expect(done(events)[0]?.outputTokens, 'usage').toBe(10)
  })

  it.each([
    ['rate429', 'http', 429],
    ['rate500', 'http', 500],
    ['rateDrop', 'stream', undefined],
    ['rateMalformed', 'stream', undefined],
  ] as const)('turns the %s fault into a %s RequestError', async (fault, kind, status) => {
    const server = await mock({ faults: { [fault]: 1 } })
    const { error } = await run(engineFor(server, client).generate(request, signal()))
    expect(error, 'class').toBeInstanceOf(RequestError)
    expect((error as RequestError).kind, 'kind').toBe(kind)
    expect((error as RequestError).status, 'status').toBe(status)
  })

  it("turns a stalled stream into a timeout outcome at the caller's timeout", async () => {
    const server = await mock({ faults: { rateStall: 1 } })
    const outcome = await executeRequest(
      engineFor(server, client),
      request,
      { seq: 0, promptIndex: 0, scheduledAt: performance.now() },
      { clock: systemClock, origin: 0, timeoutMs: 300, signal: signal() },
    )
    expect(outcome.state === 'error' && outcome.chunks, 'the one chunk before the stall').toBe(1)
    expect(outcome.state === 'error' && outcome.error.kind, 'kind').toBe('timeout')
  })

  it('stops on abort and rethrows the reason unchanged', async () => {
    const server = await mock({ itl: { kind: 'fixed', ms: 20 } })
    const controller = new AbortController()
    const reason = new Error('run cancelled')
    const events: StreamEvent[] = []
    let thrown: unknown
    try {
      for await (const event of engineFor(server, client).generate(
        { ...request, maxTokens: 200 },
        controller.signal,
      )) {
        events.push(event)
        if (events.length === 2) controller.abort(reason)
      }
    } catch (error) {
      thrown = error
    }
    expect(thrown, 'the reason itself').toBe(reason)
    expect(events.length, 'tokens before the abort').toBe(2)
  })

  it('sends the API key as a Bearer token; a wrong key is refused', async () => {
    const server = await mock({ apiKey: 'sk-mock-key' })
    const good = engineFor(server, client, { apiKey: 'sk-mock-key' })
    await good.start()
    expect(good.servedModels, 'served models').toEqual(['mock-model'])
    const { events, error } = await run(good.generate(request, signal()))
    expect(error, 'accepted').toBeUndefined()
    expect(tokens(events).length, 'tokens').toBe(12)

    const wrong = engineFor(server, client, { apiKey: 'sk-wrong' })
    const startError = await wrong.start().catch((e: unknown) => e)
    expect(startError, 'start refused').toBeInstanceOf(EngineStartError)
    expect((startError as Error).message, 'message').toContain('refused the API key')
    expect((startError as Error).message, 'no key in message').not.toContain('sk-wrong')
    const { error: requestError } = await run(wrong.generate(request, signal()))
    expect((requestError as RequestError).status, 'request refused').toBe(401)
  })

  it('fails start() with the base URL when the mock is gone', async () => {
    const server = await mock()
    await server.close()
    const error = await engineFor(server, client)
      .start()
      .catch((e: unknown) => e)
    expect(error, 'class').toBeInstanceOf(EngineStartError)
    expect((error as Error).message, 'names the URL').toContain(server.url)
  })
})
