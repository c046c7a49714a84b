/**
 * The mock OpenAI-compatible server as a Hono app: chat and text completions (streamed or not), models,
 * health and Prometheus metrics, with seeded delays and injected faults. Behaves like llama-server / vLLM
 * where the harness can tell the difference (see README.md).
 * @module
 */
import { timingSafeEqual } from 'node:crypto'
import type { HttpBindings } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import { fromMonotonicMs } from '../clock.ts'
import { SENT_AT_HEADER } from '../openai-wire.ts'
import { createRandom } from '../random.ts'
import type { AnswerKey } from './answers.ts'
import { BatchCapacity, TokenBucket } from './capacity.ts'
import { Generation, type GenerationContext, type StreamFault } from './generation.ts'
import { LlamaServerModel } from './llama-server.ts'
import { mockTokenId, mockTokens } from './mock-tokens.ts'
import { echoAnswer, isModelEcho, type LogprobsModel, send, tokenizeAnswer } from './model-logprobs.ts'
import type { MockOptions } from './options.ts'
import { MockOptionsError } from './parse-options.ts'
import { streamShape } from './personality.ts'
import { BadRequest, errorBody, type GenerationPlan, planChat, planCompletions } from './protocol.ts'
import { DeadlineScheduler, type SchedulerTuning } from './scheduler.ts'
import { NodeSink, WebSink } from './sink.ts'
import { type FaultKind, MockStats } from './stats.ts'
import { mix32 } from './text.ts'
import { VLLM_MAX_MODEL_LEN, VLLM_VERSION, VllmModel } from './vllm.ts'

export type MockEnv = {
  /** Set by @hono/node-server; absent under `app.request()`. */
  Bindings: Partial<HttpBindings>
  Variables: { counted: boolean }
}

export interface MockApp {
  app: Hono<MockEnv>
  stats: MockStats
  /** Stops the scheduler: nothing more is written to open responses. */
  close(): void
}

const ROUTES = new Set([
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/models',
  '/health',
  '/v1/health',
  '/metrics',
  '/version',
  '/tokenize',
])

export interface MockAppInternals {
  /** Scheduler tuning, for measuring alternatives; the defaults are the measured best. */
  scheduler?: Partial<SchedulerTuning>
  /** performance.now() unless a test needs otherwise. */
  now?: () => number
  /**
   * The `answers` option's key, loaded (loadAnswerKey in answers.ts; startMockServer does it). Required
   * when options.answers is set: loading reads files, which createMockApp does not.
   */
  answerKey?: AnswerKey
  /**
   * vllm personality: a real model behind `/tokenize` and echoed token-id completions with logprobs
   * (model-logprobs.ts; harness/quality/mock-model.ts makes one from a native engine). Without it /tokenize
   * answers the mock's own tokens and a token-id echo is refused.
   */
  logprobsModel?: LogprobsModel
}

export function createMockApp(options: MockOptions, internals: MockAppInternals = {}): MockApp {
  const now = internals.now ?? (() => performance.now())
  const stats = new MockStats()
  const scheduler = new DeadlineScheduler({ spinWindowMs: options.spinWindowMs, ...internals.scheduler }, now)
  const faultRandom = createRandom(mix32(options.seed, 0xfa1175))
  const { personality } = options
  const llama = personality === 'llama-server' ? new LlamaServerModel() : undefined
  const vllm =
    personality === 'vllm' ? new VllmModel(options.model, options.speculative?.draftMax) : undefined
  const answerKey = internals.answerKey
  if (options.answers !== undefined && answerKey === undefined)
    throw new MockOptionsError([
      {
        path: 'answers.key',
        message:
          'not loaded: start the server with startMockServer, or pass loadAnswerKey(options.answers) as internals.answerKey',
      },
    ])
  const ctx: GenerationContext = {
    scheduler,
    stats,
    now,
    ttft: options.ttft,
    itl: options.itl,
    tokensPerChunk: options.tokensPerChunk,
    shape: streamShape(personality, options.serverTimings),
    observer: llama ?? vllm,
    speculative: options.speculative,
    echoLetter:
      answerKey === undefined
        ? undefined
        : (prompt) => {
            const found = answerKey.find(prompt)
            if (found === undefined) return undefined
            const logprobs = answerKey.letterLogprobs(found.item, answerKey.choose(found.item))
            return (token, at) => {
              if (at !== found.end) return undefined
              const i = found.item.choices.findIndex((_, j) => token.trim() === String.fromCharCode(65 + j))
              return i < 0 ? undefined : logprobs[i]
            }
          },
  }
  const defaults = {
    seed: options.seed,
    model: options.model,
    outputTokens: options.outputTokens,
    personality,
  }
  /** The answers option: a prompt ending at a recognized item's `Answer:` (or one space after) is answered with a letter. */
  const answerPlan = (p: GenerationPlan): void => {
    if (answerKey === undefined || p.echo !== undefined) return
    const last = p.promptSource[p.promptSource.length - 1]
    if (typeof last !== 'string') return
    const found = answerKey.find(last)
    const rest = found === undefined ? undefined : last.slice(found.end)
    if (found === undefined || (rest !== '' && rest !== ' ')) return
    const chosen = answerKey.choose(found.item)
    p.answer = {
      letters: found.item.choices.map((_, i) => String.fromCharCode(65 + i)),
      chosen,
      logprobs: answerKey.letterLogprobs(found.item, chosen),
      leadingSpace: rest === '',
    }
    // One letter, then the end of the answer (a model stops after it: EOS or the newline stop).
    p.outputTokens = 1
    p.finishReason = 'stop'
  }
  const startedS = Math.floor(Date.now() / 1000)
  let requestIndex = 0

  const faultEdges: [FaultKind, number][] = [
    ['429', options.faults.rate429],
    ['500', options.faults.rate500],
    ['drop', options.faults.rateDrop],
    ['malformed', options.faults.rateMalformed],
    ['stall', options.faults.rateStall],
  ]
  /** One uniform draw per request; the rates are consecutive slices of [0, 1). */
  const drawFault = (): FaultKind | undefined => {
    const u = faultRandom.next()
    let edge = 0
    for (const [kind, rate] of faultEdges) {
      edge += rate
      if (u < edge) return kind
    }
    return undefined
  }

  const expectedKey = options.apiKey === undefined ? undefined : Buffer.from(options.apiKey)
  const authorized = (header: string | undefined): boolean => {
    if (expectedKey === undefined) return true
    const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '')
    return given.length === expectedKey.length && timingSafeEqual(given, expectedKey)
  }

  const capacity =
    options.capacity === undefined
      ? undefined
      : new BatchCapacity(options.capacity.slots, options.capacity.itlGrowth)
  const bucket =
    options.rateLimit === undefined
      ? undefined
      : new TokenBucket(
          options.rateLimit.requestsPerS,
          options.rateLimit.burst ?? Math.max(1, Math.ceil(options.rateLimit.requestsPerS)),
          now(),
        )

  const app = new Hono<MockEnv>()

  app.use(async (c, next) => {
    await next()
    if (!c.get('counted')) stats.countRequest(ROUTES.has(c.req.path) ? c.req.path : 'other', c.res.status)
    // cpp-httplib: "Don't leave connections open after errors".
    if (llama !== undefined && c.res.status >= 400) c.res.headers.set('connection', 'close')
  })

  const requireKey = async (c: Context<MockEnv>, next: () => Promise<void>) => {
    if (llama !== undefined && c.req.path === '/v1/health') return next() // public in llama-server
    if (authorized(c.req.header('authorization'))) return next()
    return c.json(errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'), 401)
  }
  app.use('/v1/*', requireKey)
  // llama-server asks for the key on /tokenize too (measured: 401 without it under --api-key).
  if (llama !== undefined) app.use('/tokenize', requireKey)
  // The rate limit (token bucket) after the key check, before the body is read, as a proxy in front of a
  // server would: a refused request costs the server nothing and draws no fault.
  if (bucket !== undefined) {
    const limit = async (c: Context<MockEnv>, next: () => Promise<void>) => {
      if (bucket.take(now())) return next()
      return c.json(
        errorBody(
          `Rate limit reached: at most ${options.rateLimit?.requestsPerS} requests per second (mock server rateLimit).`,
          'rate_limit_error',
          'rate_limit_exceeded',
        ),
        429,
        { 'retry-after': String(bucket.retryAfterS()) },
      )
    }
    app.use('/v1/chat/completions', limit)
    app.use('/v1/completions', limit)
  }

  const generate = async (c: Context<MockEnv>, plan: (body: unknown) => GenerationPlan) => {
    // Deadlines count from here, before the body is read: the client's clock started even earlier.
    let arrivalMs = now()
    if (options.clientClock) arrivalMs = clientSendTime(c.req.header(SENT_AT_HEADER), arrivalMs)
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return c.json(errorBody('the request body is not valid JSON', 'invalid_request_error'), 400)
    }
    const model = vllm !== undefined ? internals.logprobsModel : undefined
    if (model !== undefined && c.req.path === '/v1/completions' && isModelEcho(body))
      return send(
        c,
        await echoAnswer(model, body, options.model, `cmpl-mock-${options.seed}-${requestIndex++}`),
      )
    let p: GenerationPlan
    try {
      p = plan(body)
      answerPlan(p)
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err
      return c.json(errorBody(err.message, 'invalid_request_error', null, err.param), 400)
    }
    const index = requestIndex++
    const fault = drawFault()
    if (fault !== undefined) stats.faults[fault]++
    if (fault === '429')
      return c.json(
        errorBody(
          'Rate limit reached (injected by the mock server).',
          'rate_limit_error',
          'rate_limit_exceeded',
        ),
        429,
      )
    if (fault === '500')
      return c.json(
        errorBody(
          'The server had an error while processing your request (injected by the mock server).',
          'server_error',
        ),
        500,
      )
    stats.promptTokens += p.promptTokens
    const outgoing = c.env?.outgoing
    if (outgoing !== undefined && (outgoing.destroyed || outgoing.socket?.destroyed !== false)) {
      // The client left while the body was read; nothing to answer.
      stats.countRequest(c.req.path, 499)
      c.set('counted', true)
      return new Response(null, { status: 499 })
    }
    const sink =
      outgoing !== undefined ? new NodeSink(outgoing, llama !== undefined) : new WebSink(c.req.raw.signal)
    const prefix = p.api === 'chat' ? 'chatcmpl' : 'cmpl'
    const ttftScale = llama?.admit(p) ?? 1
    const ids = {
      id: `${prefix}-mock-${options.seed}-${index}`,
      delaySeed: mix32(options.seed, index),
      created: Math.floor(Date.now() / 1000),
    }
    stats.countRequest(c.req.path, 200)
    c.set('counted', true)
    if (capacity === undefined) {
      new Generation(ctx, p, sink, fault as StreamFault, arrivalMs, ids, ttftScale).start()
      return sink.response
    }
    // Capacity model: generate once a batch slot is free; until then nothing is sent (the wait is TTFT).
    // Admitted at once: deadlines count from arrival as without the model; after a wait, from admission.
    let queued = false
    const withdraw = capacity.admit(() =>
      new Generation(ctx, p, sink, fault as StreamFault, arrivalMs, ids, ttftScale, {
        model: capacity,
        admittedMs: queued ? now() : arrivalMs,
      }).start(),
    )
    queued = true
    sink.onClose(withdraw)
    return sink.response
  }

  app.post('/v1/chat/completions', (c) => generate(c, (body) => planChat(body, defaults)))
  app.post('/v1/completions', (c) => generate(c, (body) => planCompletions(body, defaults)))
  const ownedBy = llama !== undefined ? 'llamacpp' : vllm !== undefined ? 'vllm' : 'bench-mock'
  app.get('/v1/models', (c) =>
    c.json({
      object: 'list',
      data: [{ id: options.model, object: 'model', created: startedS, owned_by: ownedBy }],
    }),
  )
  // vLLM: `Response(status_code=200)`, an empty body; llama-server (and the default): {"status":"ok"}.
  app.get('/health', (c) => (vllm !== undefined ? c.body('', 200) : c.json({ status: 'ok' })))
  if (llama !== undefined) app.get('/v1/health', (c) => c.json({ status: 'ok' }))
  if (vllm !== undefined) app.get('/version', (c) => c.json({ version: VLLM_VERSION }))
  // llama-server's /tokenize (beside /v1, the API key required as on /v1): `{content, add_special?,
  // with_pieces?}` → `{tokens: [id…]}` or `[{id, piece}…]`; the mock adds no BOS, so add_special changes nothing.
  if (llama !== undefined)
    app.post('/tokenize', async (c) => {
      let body: { content?: unknown; with_pieces?: unknown }
      try {
        body = (await c.req.json()) as typeof body
      } catch {
        return c.json(errorBody('the request body is not valid JSON', 'invalid_request_error'), 400)
      }
      if (typeof body?.content !== 'string')
        return c.json(errorBody('"content" must be provided', 'invalid_request_error', null, 'content'), 400)
      const tokens = mockTokens(body.content)
      return c.json({
        tokens:
          body.with_pieces === true
            ? tokens.map((piece) => ({ id: mockTokenId(piece), piece }))
            : tokens.map(mockTokenId),
      })
    })
  // vLLM's /tokenize (beside /v1, no key: vLLM checks it on /v1 only): `{prompt, add_special_tokens?}` →
  // `{count, max_model_len, tokens}`, the model's ids with a logprobs model, else the mock's tokens.
  if (vllm !== undefined)
    app.post('/tokenize', async (c) => {
      let body: unknown
      try {
        body = await c.req.json()
      } catch {
        return c.json(errorBody('the request body is not valid JSON', 'invalid_request_error'), 400)
      }
      const model = internals.logprobsModel
      if (model !== undefined) return send(c, await tokenizeAnswer(model, body))
      const prompt = (body as { prompt?: unknown } | null)?.prompt
      if (typeof prompt !== 'string')
        return c.json(errorBody('prompt must be a string', 'BadRequestError', null, 'prompt'), 400)
      const tokens = mockTokens(prompt).map(mockTokenId)
      return c.json({ count: tokens.length, max_model_len: VLLM_MAX_MODEL_LEN, tokens })
    })
  // The server's own family first, then the mock's (mock_*: schedule error, faults), which no scraper of
  // the real server reads but `bench selftest` and these tests do.
  // With the capacity model, requests waiting for a slot: the personality's own gauge, and mock_requests_waiting.
  const metricsText = (): string => {
    const waiting = capacity?.waiting ?? 0
    const queue =
      capacity === undefined
        ? ''
        : `# HELP mock_requests_waiting Requests queued for a batch slot (capacity model).\n# TYPE mock_requests_waiting gauge\nmock_requests_waiting ${waiting}\n`
    if (llama !== undefined)
      return llama.metrics.toPrometheus(stats.streamsInFlight, waiting) + stats.toPrometheus(false) + queue
    if (vllm !== undefined)
      return vllm.toPrometheus(stats.streamsInFlight, waiting) + stats.toPrometheus(false) + queue
    return stats.toPrometheus() + queue
  }
  app.get('/metrics', (c) =>
    c.body(metricsText(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  )
  app.notFound((c) =>
    c.json(errorBody(`no route ${c.req.method} ${c.req.path}`, 'invalid_request_error', 'not_found'), 404),
  )
  app.onError((err, c) => c.json(errorBody(`mock server error: ${err.message}`, 'server_error'), 500))

  return { app, stats, close: () => scheduler.close() }
}

/** Oldest client send stamp the clientClock option accepts; older ones are taken as another machine's clock. */
const MAX_CLIENT_CLOCK_AGE_MS = 10_000

/**
 * The client's send time (x-bench-sent-at, machine-monotonic ms) in this process's performance.now(), or
 * `arrivalMs` when the header is missing or implausible. Assumes the server's clock is performance.now().
 */
export function clientSendTime(header: string | undefined, arrivalMs: number): number {
  if (header === undefined) return arrivalMs
  const sentMs = fromMonotonicMs(Number(header))
  return Number.isFinite(sentMs) && sentMs <= arrivalMs && arrivalMs - sentMs <= MAX_CLIENT_CLOCK_AGE_MS
    ? sentMs
    : arrivalMs
}
