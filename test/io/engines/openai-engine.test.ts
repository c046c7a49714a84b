/**
 * Both HTTP clients against a loopback node:http server that writes exact bytes chosen here (the shapes
 * llama-server and vLLM send, and broken ones), so parsing and error mapping are tested byte for byte.
 */
import { once, setMaxListeners } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { monotonicMs, systemClock } from '../../../harness/clock.ts'
import { canPushEvents, type StreamEvent } from '../../../harness/engines/engine.ts'
import {
  createOpenAIEngine,
  OPENAI_CLIENTS,
  type OpenAIClient,
  type OpenAIEngineOptions,
  SENT_AT_HEADER,
} from '../../../harness/engines/openai/openai.ts'
import { EngineStartError, RequestError } from '../../../harness/errors.ts'
import { executeRequest } from '../../../harness/request.ts'

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>

interface Recorded {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

interface RawServer {
  baseUrl: string
  requests: Recorded[]
  close(): Promise<void>
}

const servers: RawServer[] = []
const disposables: AsyncDisposable[] = []

afterEach(async () => {
  for (const d of disposables.splice(0)) await d[Symbol.asyncDispose]()
  for (const s of servers.splice(0)) await s.close()
})

async function serve(routes: Record<string, Handler>): Promise<RawServer> {
  const requests: Recorded[] = []
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const part of req) body += part
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
    const handler = routes[`${req.method} ${req.url}`]
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no route"}}')
      return
    }
    await handler(req, res, body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const raw: RawServer = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: async () => {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
  servers.push(raw)
  return raw
}

function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** llama-server's chat stream for "Hello" (role chunk, token chunks, finish, usage + timings, [DONE]). */
const LLAMA_CHAT = [
  'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1,"id":"chatcmpl-1","model":"m","object":"chat.completion.chunk"}\n\n',
  'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Hel"}}],"created":1,"id":"chatcmpl-1","model":"m","object":"chat.completion.chunk"}\n\n',
  'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"lo ünï"}}],"created":1,"id":"chatcmpl-1","model":"m","object":"chat.completion.chunk"}\n\n',
  'data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1,"id":"chatcmpl-1","model":"m","object":"chat.completion.chunk"}\n\n',
  'data: {"choices":[],"created":1,"id":"chatcmpl-1","model":"m","object":"chat.completion.chunk","usage":{"completion_tokens":2,"prompt_tokens":9,"total_tokens":11},"timings":{"prompt_n":9,"prompt_ms":12.5,"prompt_per_second":720,"predicted_n":2,"predicted_ms":8.25,"predicted_per_second":242.4,"cache_n":0}}\n\n',
  'data: [DONE]\n\n',
]

const CONTENT_CHUNK = (text: string) =>
  `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]}\n\n`

/** Writes `parts`, splitting each in two mid-line and pausing so the client sees separate reads. */
async function writeSplit(res: ServerResponse, parts: string[]): Promise<void> {
  for (const part of parts) {
    const cut = Math.floor(part.length / 2)
    res.write(part.slice(0, cut))
    await sleep(2)
    res.write(part.slice(cut))
  }
}

function engineFor(server: RawServer, client: OpenAIClient, extra: Partial<OpenAIEngineOptions> = {}) {
  const engine = createOpenAIEngine({ baseUrl: server.baseUrl, model: 'm', api: 'chat', client, ...extra })
  disposables.push(engine)
  return engine
}

/**
 * The event without its arrival stamp, after checking the stamp: the lean client stamps every token where
 * its bytes were read (wall-aligned ms, between the test's start and now); the SDK client stamps none.
 */
function unstamped(event: StreamEvent): StreamEvent {
  if (event.type !== 'token') return event
  const { atMs, sentAtMs, ...rest } = event
  if (atMs !== undefined) {
    expect(atMs, 'atMs after the test started').toBeGreaterThanOrEqual(testStartedAtMs)
    expect(atMs, 'atMs not in the future').toBeLessThanOrEqual(performance.timeOrigin + performance.now())
  }
  if (sentAtMs !== undefined) {
    expect(sentAtMs, 'sentAtMs after the test started').toBeGreaterThanOrEqual(testStartedAtMs)
    expect(sentAtMs, 'sent before the chunk arrived').toBeLessThanOrEqual(atMs ?? Number.POSITIVE_INFINITY)
  }
  return rest
}

let testStartedAtMs = 0
beforeEach(() => {
  testStartedAtMs = performance.timeOrigin + performance.now()
})

async function collect(iterable: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = []
  for await (const event of iterable) events.push(unstamped(event))
  return events
}

/** Runs the stream to its end; returns what arrived before the failure and the failure. */
async function collectUntilError(
  iterable: AsyncIterable<StreamEvent>,
): Promise<{ events: StreamEvent[]; error: unknown }> {
  const events: StreamEvent[] = []
  try {
    for await (const event of iterable) events.push(unstamped(event))
  } catch (error) {
    return { events, error }
  }
  throw new Error(`expected the stream to fail; got ${JSON.stringify(events)}`)
}

const request = { prompt: 'Say hello', maxTokens: 8 }

describe.each(OPENAI_CLIENTS)('openai engine, client %s, exact bytes', (client) => {
  it('streams a llama-server chat response into tokens and one done event', async () => {
    const server = await serve({
      'POST /v1/chat/completions': async (_req, res) => {
        sse(res)
        await writeSplit(res, LLAMA_CHAT)
        res.end()
      },
    })
    const events = await collect(engineFor(server, client).generate(request, new AbortController().signal))
    expect(events, 'events').toEqual([
      { type: 'token', text: 'Hel', tokens: 1 },
      { type: 'token', text: 'lo ünï', tokens: 1 },
      {
        type: 'done',
        promptTokens: 9,
        outputTokens: 2,
        tokensSource: 'server',
        finishReason: 'stop',
        serverTimings: { promptN: 9, promptMs: 12.5, predictedN: 2, predictedMs: 8.25, cacheN: 0 },
      },
    ])
  })

  it('streams completions with logprobs and sends the completions body', async () => {
    const server = await serve({
      'POST /v1/completions': (_req, res) => {
        sse(res)
        res.write(
          'data: {"choices":[{"text":" A","index":0,"logprobs":{"content":[{"id":1,"token":" A","logprob":-0.25,"bytes":[32,65],"top_logprobs":[{"id":1,"token":" A","logprob":-0.25,"bytes":[32,65]},{"id":2,"token":" B","logprob":-1.5,"bytes":[32,66]}]}]},"finish_reason":null}],"object":"text_completion"}\n\n',
        )
        res.end(
          'data: {"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}],"object":"text_completion","usage":{"completion_tokens":1,"prompt_tokens":3,"total_tokens":4}}\n\ndata: [DONE]\n\n',
        )
      },
    })
    const engine = engineFor(server, client, { api: 'completions' })
    const events = await collect(
      engine.generate({ prompt: 'Q', maxTokens: 1, topLogprobs: 2 }, new AbortController().signal),
    )
    expect(events, 'events').toEqual([
      {
        type: 'token',
        text: ' A',
        tokens: 1,
        logprobs: [
          {
            token: ' A',
            logprob: -0.25,
            top: [
              { token: ' A', logprob: -0.25 },
              { token: ' B', logprob: -1.5 },
            ],
          },
        ],
      },
      { type: 'done', promptTokens: 3, outputTokens: 1, tokensSource: 'server', finishReason: 'length' },
    ])
    const sent = JSON.parse(server.requests[0]?.body ?? '{}')
    expect(sent.prompt, 'prompt').toBe('Q')
    expect(sent.logprobs, 'completions logprobs').toBe(2)
    expect(sent.stream_options, 'usage asked').toEqual({ include_usage: true })
  })

  it('sends the body, the API key as a Bearer token and the extra headers', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        sse(res)
        res.end(LLAMA_CHAT.join(''))
      },
    })
    const engine = engineFor(server, client, {
      apiKey: 'sk-test-123',
      headers: { 'X-Bench-Run': 'r1' },
      extraBody: { cache_prompt: false },
    })
    await collect(
      engine.generate({ ...request, sampling: { temperature: 0, seed: 7 } }, new AbortController().signal),
    )
    const sent = server.requests[0]
    expect(sent?.headers.authorization, 'bearer').toBe('Bearer sk-test-123')
    expect(sent?.headers['x-bench-run'], 'extra header').toBe('r1')
    const body = JSON.parse(sent?.body ?? '{}')
    expect(body, 'body').toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'Say hello' }],
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0,
      seed: 7,
      cache_prompt: false,
    })
  })

  it('sends the machine-monotonic send time only when sendTimeHeader is set', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        sse(res)
        res.end(LLAMA_CHAT.join(''))
      },
    })
    await collect(engineFor(server, client).generate(request, new AbortController().signal))
    const before = monotonicMs()
    await collect(
      engineFor(server, client, { sendTimeHeader: true }).generate(request, new AbortController().signal),
    )
    const after = monotonicMs()
    expect(server.requests[0]?.headers[SENT_AT_HEADER], 'off by default').toBeUndefined()
    const stamp = Number(server.requests[1]?.headers[SENT_AT_HEADER])
    expect(stamp, 'stamped between the call and its end, on the monotonic clock').toBeGreaterThanOrEqual(
      before - 0.001,
    )
    expect(stamp).toBeLessThanOrEqual(after)
  })

  it('sends no Authorization header without a key, even when OPENAI_API_KEY is set', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        sse(res)
        res.end(LLAMA_CHAT.join(''))
      },
    })
    const saved = process.env.OPENAI_API_KEY
    process.env.OPENAI_API_KEY = 'sk-from-env'
    try {
      await collect(engineFor(server, client).generate(request, new AbortController().signal))
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY
      else process.env.OPENAI_API_KEY = saved
    }
    expect(server.requests[0]?.headers.authorization, 'no authorization').toBeUndefined()
  })

  it('turns a non-2xx answer into an http error with status and the server message', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        res
          .writeHead(429, { 'content-type': 'application/json' })
          .end('{"error":{"message":"too many requests in queue","type":"rate_limit"}}')
      },
    })
    const { events, error } = await collectUntilError(
      engineFor(server, client).generate(request, new AbortController().signal),
    )
    expect(events, 'no events').toEqual([])
    expect(error, 'class').toBeInstanceOf(RequestError)
    expect((error as RequestError).kind, 'kind').toBe('http')
    expect((error as RequestError).status, 'status').toBe(429)
    expect((error as RequestError).message, 'server message').toContain('too many requests in queue')
  })

  it('fails the request on a malformed chunk in the middle, after the content before it', async () => {
    const server = await serve({
      'POST /v1/chat/completions': async (_req, res) => {
        sse(res)
        res.write(CONTENT_CHUNK('one'))
        await sleep(2)
        res.write('data: {"choices":[{"delta":{"content":"tw\n\n')
        res.end(`${CONTENT_CHUNK('three')}${LLAMA_CHAT.slice(3).join('')}`)
      },
    })
    const { events, error } = await collectUntilError(
      engineFor(server, client).generate(request, new AbortController().signal),
    )
    expect(events, 'content before the bad chunk').toEqual([{ type: 'token', text: 'one', tokens: 1 }])
    expect((error as RequestError).kind, 'kind').toBe('stream')
    expect((error as RequestError).message, 'says malformed').toContain('malformed')
  })

  it('fails with a stream error when the connection drops mid-stream', async () => {
    const server = await serve({
      'POST /v1/chat/completions': async (_req, res) => {
        sse(res)
        res.write(CONTENT_CHUNK('one'))
        await sleep(20)
        res.socket?.destroy()
      },
    })
    const { events, error } = await collectUntilError(
      engineFor(server, client).generate(request, new AbortController().signal),
    )
    expect(events.length, 'one token arrived').toBe(1)
    expect((error as RequestError).kind, 'kind').toBe('stream')
  })

  it('fails with a stream error when the body ends without a finish_reason or [DONE]', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        sse(res)
        res.end(CONTENT_CHUNK('one'))
      },
    })
    const { error } = await collectUntilError(
      engineFor(server, client).generate(request, new AbortController().signal),
    )
    expect((error as RequestError).kind, 'kind').toBe('stream')
    expect((error as RequestError).message, 'message').toContain('ended before')
  })

  it('fails with the server message on an in-stream error payload', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        sse(res)
        res.write(CONTENT_CHUNK('one'))
        res.end('data: {"error":{"message":"KV cache exhausted","type":"server_error","code":500}}\n\n')
      },
    })
    const { error } = await collectUntilError(
      engineFor(server, client).generate(request, new AbortController().signal),
    )
    expect((error as RequestError).kind, 'kind').toBe('stream')
    expect((error as RequestError).message, 'message').toContain('KV cache exhausted')
  })

  it('fails with the server message on an `event: error` message', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        sse(res)
        res.write(CONTENT_CHUNK('one'))
        res.end('event: error\ndata: {"error":{"message":"engine crashed"}}\n\n')
      },
    })
    const { error } = await collectUntilError(
      engineFor(server, client).generate(request, new AbortController().signal),
    )
    expect((error as RequestError).kind, 'kind').toBe('stream')
    expect((error as RequestError).message, 'message').toContain('engine crashed')
  })

  it('fails with a stream error when a 200 answer is JSON instead of an event stream', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"error":{"message":"proxy says no"}}')
      },
    })
    const { error } = await collectUntilError(
      engineFor(server, client).generate(request, new AbortController().signal),
    )
    expect((error as RequestError).kind, 'kind').toBe('stream')
    if (client !== 'sdk') expect((error as RequestError).message, 'server message').toContain('proxy says no')
  })

  it('fails with http and no status when nothing listens', async () => {
    const server = await serve({})
    await server.close()
    servers.splice(servers.indexOf(server), 1)
    const { error } = await collectUntilError(
      engineFor(server, client).generate(request, new AbortController().signal),
    )
    expect((error as RequestError).kind, 'kind').toBe('http')
    expect((error as RequestError).status, 'no status').toBeUndefined()
    expect((error as RequestError).message, 'cause named').toContain('ECONNREFUSED')
  })

  it('stops on abort, closes the connection and rethrows the reason unchanged', async () => {
    let closed: Promise<unknown> | undefined
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        closed = once(res, 'close')
        sse(res)
        res.write(CONTENT_CHUNK('one'))
        // then stall: only the abort can end this request
      },
    })
    const controller = new AbortController()
    const reason = new Error('stopped by the test')
    const events: StreamEvent[] = []
    let thrown: unknown
    try {
      for await (const event of engineFor(server, client).generate(request, controller.signal)) {
        events.push(event)
        controller.abort(reason)
      }
    } catch (error) {
      thrown = error
    }
    expect(events.length, 'the token before the abort').toBe(1)
    expect(thrown, 'the reason itself').toBe(reason)
    await closed
    expect(closed, 'server saw the connection close').toBeDefined()
  })

  it(// The sdk client too: its fetch reads the body as it arrives and stamps each event on the side.
  'stamps each token when its bytes were read, not when the consumer got to it', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        sse(res)
        res.end(`${CONTENT_CHUNK('one')}${CONTENT_CHUNK('two')}${LLAMA_CHAT.slice(3).join('')}`)
      },
    })
    const stamps: (number | undefined)[] = []
    const consumed: number[] = []
    for await (const event of engineFor(server, client).generate(request, new AbortController().signal)) {
      if (event.type !== 'token') continue
      stamps.push(event.atMs)
      consumed.push(performance.timeOrigin + performance.now())
      // A slow consumer: the second token waits here although its bytes came with the first.
      await new Promise((resolve) => setTimeout(resolve, 40))
    }
    expect(stamps.length, 'two tokens').toBe(2)
    const [first, second] = stamps as number[]
    expect(second! - first!, 'read together').toBeLessThan(20)
    expect(consumed[1]! - second!, 'consumed ≥ 40 ms after it was read').toBeGreaterThanOrEqual(39)
  })

  it('yields nothing more after an abort, even chunks already received', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        sse(res)
        res.write(CONTENT_CHUNK('one') + CONTENT_CHUNK('two') + CONTENT_CHUNK('three'))
      },
    })
    const controller = new AbortController()
    const events: StreamEvent[] = []
    let thrown: unknown
    try {
      for await (const event of engineFor(server, client).generate(request, controller.signal)) {
        events.push(unstamped(event))
        controller.abort('enough')
      }
    } catch (error) {
      thrown = error
    }
    expect(events, 'only the first token').toEqual([{ type: 'token', text: 'one', tokens: 1 }])
    expect(thrown, 'reason').toBe('enough')
  })

  it('shares one signal across many concurrent requests without a listener-leak warning', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        sse(res)
        res.end(LLAMA_CHAT.join(''))
      },
    })
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      const engine = engineFor(server, client)
      const signal = new AbortController().signal
      const results = await Promise.all(
        Array.from({ length: 20 }, () => collect(engine.generate(request, signal))),
      )
      expect(
        results.map((events) => events.length),
        'every request complete',
      ).toEqual(Array.from({ length: 20 }, () => 3))
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    expect(
      warnings.filter((w) => w.name === 'MaxListenersExceededWarning'),
      'no MaxListenersExceededWarning',
    ).toEqual([])
  })

  it('accepts a signal whose listener limit the caller already lifted (setMaxListeners(0, signal))', async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        sse(res)
        res.end(LLAMA_CHAT.join(''))
      },
    })
    const signal = new AbortController().signal
    // What the runner does with its run-wide signal; Node 20's getMaxListeners() then throws for it.
    setMaxListeners(0, signal)
    const events = await collect(engineFor(server, client).generate(request, signal))
    expect(events.length, 'tokens and done').toBe(3)
  })

  it('throws the reason at once when the signal is already aborted', async () => {
    const server = await serve({})
    const controller = new AbortController()
    controller.abort('already')
    const { error } = await collectUntilError(engineFor(server, client).generate(request, controller.signal))
    expect(error, 'reason').toBe('already')
    expect(server.requests.length, 'nothing sent').toBe(0)
  })

  it("obeys the caller's timeout (request.ts owns it): a stalled stream is a `timeout` outcome", async () => {
    const server = await serve({
      'POST /v1/chat/completions': (_req, res) => {
        sse(res)
        res.write(CONTENT_CHUNK('one'))
      },
    })
    const started = performance.now()
    const outcome = await executeRequest(
      engineFor(server, client),
      request,
      { seq: 0, promptIndex: 0, scheduledAt: started },
      { clock: systemClock, origin: 0, timeoutMs: 300, signal: new AbortController().signal },
    )
    const elapsed = performance.now() - started
    expect(outcome.state === 'error' && outcome.error.kind, 'kind').toBe('timeout')
    expect(outcome.state === 'error' && outcome.chunks, 'the token before the stall').toBe(1)
    expect(elapsed, 'cut at the timeout, not later').toBeGreaterThanOrEqual(299)
    expect(elapsed, 'cut at the timeout, not later').toBeLessThan(5_000)
  })
})

describe('openai engine start()', () => {
  const models = '{"object":"list","data":[{"id":"m","object":"model"},{"id":"m-draft","object":"model"}]}'

  it('records served models, the version from /version, and fills info', async () => {
    const server = await serve({
      'GET /v1/models': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', server: 'llama.cpp' }).end(models)
      },
      'GET /version': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":"0.9.1"}')
      },
    })
    const engine = engineFor(server, 'undici', { apiKey: 'k' })
    await engine.start()
    expect(engine.servedModels, 'models').toEqual(['m', 'm-draft'])
    const host = new URL(server.baseUrl).host
    expect(engine.info, 'info').toEqual({
      kind: 'openai',
      model: 'm',
      device: host,
      engineVersion: '0.9.1',
      capabilities: { logprobs: true, scoreChoices: true, tokenize: false, memory: false, draft: false },
    })
    expect(server.requests[0]?.headers.authorization, 'key sent on the probe').toBe('Bearer k')
  })

  it('falls back to the server header when /version is missing', async () => {
    const server = await serve({
      'GET /v1/models': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', server: 'llama.cpp' }).end(models)
      },
    })
    const engine = engineFor(server, 'sdk')
    await engine.start()
    expect(engine.info.engineVersion, 'server header').toBe('llama.cpp')
  })

  it('says the key was refused on 401, without the key', async () => {
    const server = await serve({
      'GET /v1/models': (_req, res) => {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"error":{"message":"Invalid API Key"}}')
      },
    })
    const error = await engineFor(server, 'undici', { apiKey: 'sk-secret-value' })
      .start()
      .catch((e: unknown) => e)
    expect(error, 'class').toBeInstanceOf(EngineStartError)
    expect((error as Error).message, 'refused').toContain('refused the API key')
    expect((error as Error).message, 'no key').not.toContain('sk-secret-value')
  })

  it('names the base URL and the cause when the server is unreachable', async () => {
    const server = await serve({})
    await server.close()
    servers.splice(servers.indexOf(server), 1)
    const error = await engineFor(server, 'undici')
      .start()
      .catch((e: unknown) => e)
    expect(error, 'class').toBeInstanceOf(EngineStartError)
    expect((error as Error).message, 'base URL').toContain(server.baseUrl)
    expect((error as Error).message, 'cause').toContain('ECONNREFUSED')
  })

  it('points at the base URL when /models is not found', async () => {
    const server = await serve({})
    const error = await createOpenAIEngine({
      baseUrl: server.baseUrl.replace('/v1', ''),
      model: 'm',
      api: 'chat',
      client: 'undici',
    })
      .start()
      .catch((e: unknown) => e)
    expect(error, 'class').toBeInstanceOf(EngineStartError)
    expect((error as Error).message, 'hint').toContain('HTTP 404')
  })

  it('rethrows the abort reason of its signal', async () => {
    const server = await serve({
      'GET /v1/models': () => {
        // never answers
      },
    })
    const controller = new AbortController()
    const started = engineFor(server, 'undici').start(controller.signal)
    setTimeout(() => controller.abort('cancelled'), 20)
    await expect(started, 'reason').rejects.toBe('cancelled')
  })
})

describe.each(OPENAI_CLIENTS.filter((client) => client !== 'sdk'))(
  'openai engine, client %s, pushEvents (the runner’s way)',
  (client) => {
    /** Many content chunks in one write (the template path), escapes, multi-byte text, logprobs, timings. */
    const MIXED = [
      LLAMA_CHAT[0]!,
      ...['a', ' b', ' ünï 🙂', 'say "hi"', 'back\\slash', 'line\nbreak', ' c', ' d'].map(CONTENT_CHUNK),
      'data: {"choices":[{"index":0,"delta":{"content":" e"},"logprobs":{"content":[{"token":" e","logprob":-0.5,"top_logprobs":[]}]},"finish_reason":null}]}\n\n',
      ...LLAMA_CHAT.slice(3),
    ]

    async function pushAll(
      stream: AsyncIterable<StreamEvent>,
    ): Promise<{ copies: StreamEvent[]; objects: StreamEvent[] }> {
      const copies: StreamEvent[] = []
      const objects: StreamEvent[] = []
      if (!canPushEvents(stream)) throw new Error('no pushEvents()')
      await stream.pushEvents((event) => {
        objects.push(event)
        copies.push(unstamped({ ...event }))
      })
      return { copies, objects }
    }

    it('pushes the same events as iteration gives, in one read or split mid-line', async () => {
      for (const split of [false, true]) {
        const server = await serve({
          'POST /v1/chat/completions': async (_req, res) => {
            sse(res)
            if (split) await writeSplit(res, MIXED)
            else res.write(MIXED.join(''))
            res.end()
          },
        })
        const engine = engineFor(server, client)
        const iterated = await collect(engine.generate(request, new AbortController().signal))
        const { copies } = await pushAll(engine.generate(request, new AbortController().signal))
        expect(iterated.length, `${split ? 'split' : 'one read'}: 9 tokens and done`).toBe(10)
        expect(copies, split ? 'split mid-line' : 'one read').toEqual(iterated)
      }
    })

    it('refills one token event for plain content chunks; the first (sentAtMs) and logprobs ones are their own', async () => {
      const server = await serve({
        'POST /v1/chat/completions': (_req, res) => {
          sse(res)
          res.end(MIXED.join(''))
        },
      })
      const { objects } = await pushAll(
        engineFor(server, client).generate(request, new AbortController().signal),
      )
      const tokens = objects.filter((event) => event.type === 'token')
      expect(tokens.length, 'token events').toBe(9)
      expect(tokens[0]?.type === 'token' && tokens[0].sentAtMs, 'the first carries sentAtMs').toBeGreaterThan(
        0,
      )
      expect(new Set(tokens.slice(1, 8)).size, 'plain chunks 2–8: one object').toBe(1)
      expect(tokens[1], 'not the first').not.toBe(tokens[0])
      expect(tokens[8], 'the logprobs chunk').not.toBe(tokens[1])
    })

    it('rejects with the consumer’s own exception, closes the connection, and serves the next request', async () => {
      let closed: Promise<unknown> | undefined
      let calls = 0
      const server = await serve({
        'POST /v1/chat/completions': (_req, res) => {
          if (calls++ === 0) {
            closed = once(res, 'close')
            sse(res)
            res.write(CONTENT_CHUNK('one') + CONTENT_CHUNK('two'))
            return // then stall
          }
          sse(res)
          res.end(LLAMA_CHAT.join(''))
        },
      })
      const engine = engineFor(server, client)
      const mine = new Error('consumer failed')
      const seen: string[] = []
      const stream = engine.generate(request, new AbortController().signal)
      if (!canPushEvents(stream)) throw new Error('no pushEvents()')
      const error = await stream
        .pushEvents((event) => {
          if (event.type === 'token') seen.push(event.text)
          throw mine
        })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        )
      expect(error, 'the exception itself').toBe(mine)
      expect(seen, 'nothing after it').toEqual(['one'])
      await closed
      expect(await collect(engine.generate(request, new AbortController().signal)), 'next').toHaveLength(3)
    })

    it('is consumed once: pushEvents() after iteration (or twice) is refused', async () => {
      const server = await serve({
        'POST /v1/chat/completions': (_req, res) => {
          sse(res)
          res.end(LLAMA_CHAT.join(''))
        },
      })
      const stream = engineFor(server, client).generate(request, new AbortController().signal)
      if (!canPushEvents(stream)) throw new Error('no pushEvents()')
      await stream.pushEvents(() => {})
      await expect(
        stream.pushEvents(() => {}),
        'twice',
      ).rejects.toThrow(/consumed once/)
      await expect(stream[Symbol.asyncIterator]().next(), 'then iterated').rejects.toThrow(/consumed once/)
    })
  },
)
