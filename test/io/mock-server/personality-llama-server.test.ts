import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import { CHUNKED_END, connect, getRequest, postRequest, type RawConnection } from '../../helpers/raw-http.ts'
import { type Completion, chatBody, get, metricValue, parseChunks, post } from '../../helpers/sse-client.ts'

const zero = { ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 0 } } as const
const streamed = chatBody({ stream: true, max_tokens: 3 })
const whole = chatBody({ max_tokens: 3 })
/** A FIN later than this after the last chunk would not be "~1 ms"; generous for a loaded 2-vCPU VM. */
const FIN_BOUND_MS = 250

describe('llama-server personality: connections', () => {
  let server: MockServerHandle
  let conn: RawConnection | undefined
  beforeAll(async () => {
    server = await startMockServer({ ...zero, personality: 'llama-server' })
  })
  afterEach(() => conn?.close())
  afterAll(() => server.close())

  it('sends FIN shortly after a streamed response while advertising Keep-Alive: timeout=5, max=100', async () => {
    conn = await connect(server.port)
    conn.socket.write(postRequest('/v1/chat/completions', streamed))
    const lastChunkMs = await conn.waitFor(CHUNKED_END)
    const finMs = await conn.ended()
    const head = conn.received().split('\r\n\r\n')[0]!.toLowerCase()
    expect(head, 'keep-alive advertised').toContain('keep-alive: timeout=5, max=100')
    expect(head, 'no Connection: close').not.toContain('connection: close')
    expect(finMs - lastChunkMs, 'FIN after the last chunk (ms)').toBeLessThan(FIN_BOUND_MS)
    expect(conn.received().endsWith(`data: [DONE]\n\n${CHUNKED_END}`), 'body complete before FIN').toBe(true)
  })

  it('a request sent on the connection right after a streamed response gets EOF and no byte', async () => {
    conn = await connect(server.port)
    conn.socket.write(postRequest('/v1/chat/completions', streamed))
    await conn.waitFor(CHUNKED_END)
    const firstLength = conn.received().length
    // Reuse at once, as a keep-alive pool does: the request is written before (or as) the FIN arrives.
    conn.socket.write(postRequest('/v1/chat/completions', streamed))
    await conn.ended()
    expect(conn.received().length, 'bytes after the first response').toBe(firstLength)
  })

  it('pipelined requests: the first is answered, the second gets EOF and no byte', async () => {
    conn = await connect(server.port)
    conn.socket.write(
      postRequest('/v1/chat/completions', streamed) + postRequest('/v1/chat/completions', streamed),
    )
    await conn.ended()
    const text = conn.received()
    expect(text.split('HTTP/1.1 ').length - 1, 'status lines').toBe(1)
    expect(text.endsWith(CHUNKED_END), 'first response complete').toBe(true)
  })

  it('non-streamed responses keep the connection: two requests on one socket, both answered', async () => {
    conn = await connect(server.port)
    conn.socket.write(postRequest('/v1/chat/completions', whole))
    await conn.waitFor('"usage"')
    conn.socket.write(postRequest('/v1/chat/completions', whole))
    await conn.waitFor('HTTP/1.1 200', 1)
    await conn.waitFor('"usage"', conn.received().lastIndexOf('HTTP/1.1 200'))
    expect(conn.endedAtMs, 'still open').toBeUndefined()
  })

  it('error responses say Connection: close and close the connection', async () => {
    conn = await connect(server.port)
    conn.socket.write(postRequest('/v1/chat/completions', { messages: [] }))
    await conn.ended()
    const head = conn.received().split('\r\n\r\n')[0]!.toLowerCase()
    expect(head.startsWith('http/1.1 400'), 'status').toBe(true)
    expect(head, 'connection header').toContain('connection: close')
  })

  it('GET /health and /v1/health answer {"status":"ok"}; /v1/models is owned by llamacpp', async () => {
    for (const path of ['/health', '/v1/health']) {
      const res = await get(`http://127.0.0.1:${server.port}${path}`)
      expect(res.status, `${path} status`).toBe(200)
      expect(JSON.parse(res.text), `${path} body`).toEqual({ status: 'ok' })
    }
    conn = await connect(server.port)
    conn.socket.write(getRequest('/v1/models'))
    await conn.waitFor('"owned_by":"llamacpp"')
  })
})

describe('llama-server personality: timings, prompt cache, metrics', () => {
  // TTFT 400 ms for the whole prompt; ITL 10 ms. Prompts of 10 words make the cache-hit TTFT 40 ms.
  const ttftMs = 400
  const itlMs = 10
  let server: MockServerHandle
  beforeAll(async () => {
    server = await startMockServer({
      personality: 'llama-server',
      ttft: { kind: 'fixed', ms: ttftMs },
      itl: { kind: 'fixed', ms: itlMs },
    })
  })
  afterAll(() => server.close())

  const ten = 'w0 w1 w2 w3 w4 w5 w6 w7 w8 w9'
  const ask = async (content: string, maxTokens: number) => {
    const res = await post(
      `${server.url}/chat/completions`,
      chatBody({
        messages: [{ role: 'user', content }],
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: maxTokens,
      }),
    )
    const chunks = parseChunks(res.data)
    const last = chunks.at(-1) as Completion & {
      usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } }
    }
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
    return { res, last, timings: last.timings!, text }
  }

  it('timings: predicted_n = the tokens sent, prompt_ms ≈ the injected TTFT, predicted_ms ≈ the gaps', async () => {
    const { last, timings } = await ask('t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 t10', 5)
    expect(last.choices, 'timings ride on the usage chunk (the last one)').toEqual([])
    expect(timings.predicted_n, 'predicted_n').toBe(5)
    expect(timings.prompt_n, 'prompt_n (11 words, nothing cached)').toBe(11)
    expect(timings.cache_n, 'cache_n').toBe(0)
    // Nothing is written before its deadline: the first content ≥ arrival + 400, the last ≥ arrival + 440.
    expect(timings.prompt_ms!, 'prompt_ms ≥ TTFT').toBeGreaterThanOrEqual(ttftMs)
    expect(timings.prompt_ms!, 'prompt_ms, generous bound').toBeLessThan(ttftMs + 1000)
    expect(
      timings.prompt_ms! + timings.predicted_ms!,
      'prompt + predicted ≥ TTFT + 4 gaps',
    ).toBeGreaterThanOrEqual(ttftMs + 4 * itlMs)
    // llama.cpp's rates are over n − 1 = 4 decode steps.
    expect(timings.predicted_per_token_ms!, 'per token').toBeCloseTo(timings.predicted_ms! / 4, 9)
    expect(timings.predicted_per_second!, 'per second').toBeCloseTo(4000 / timings.predicted_ms!, 9)
    expect(timings.prompt_per_token_ms!, 'prompt per token').toBeCloseTo(timings.prompt_ms! / 11, 9)
  })

  it('a repeated prompt reuses all but one token: cache_n 9, prompt_n 1, TTFT a tenth', async () => {
    const first = await ask(ten, 4)
    expect(first.timings.cache_n, 'first: cache_n').toBe(0)
    const again = await ask(ten, 4)
    expect(again.timings.cache_n, 'again: cache_n').toBe(9)
    expect(again.timings.prompt_n, 'again: prompt_n').toBe(1)
    expect(again.last.usage.prompt_tokens, 'usage.prompt_tokens stays the whole prompt').toBe(10)
    expect(again.last.usage.prompt_tokens_details.cached_tokens, 'usage cached_tokens').toBe(9)
    // Model: TTFT × (10 − 9) / 10 = 40 ms, against ≥ 400 ms without the cache.
    expect(again.timings.prompt_ms!, 'cache-hit prompt_ms ≥ 40').toBeGreaterThanOrEqual(ttftMs / 10)
    expect(again.timings.prompt_ms!, 'cache-hit prompt_ms well below a full TTFT').toBeLessThan(ttftMs * 0.75)
  })

  it('a shared prefix is reused, and a follow-up turn reuses the prompt and its answer', async () => {
    const base = 'p0 p1 p2 p3 p4 p5 p6 p7'
    const first = await ask(base, 3)
    const prefix = await ask('p0 p1 p2 p3 p4 x5 x6 x7', 3)
    expect(prefix.timings.cache_n, 'shared 5-word prefix').toBe(5)
    expect(prefix.timings.prompt_n, 'rest').toBe(3)
    // 8 prompt words + the 3 answer words, then 2 new words: 11 reused, 2 processed.
    const turn = await ask(`${base} ${first.text} q0 q1`, 3)
    expect(turn.timings.cache_n, 'follow-up turn: prompt + answer reused').toBe(11)
    expect(turn.timings.prompt_n, 'follow-up turn: new words').toBe(2)
  })
})

describe('llama-server personality: /metrics', () => {
  it('counts prompt, cached and predicted tokens, decodes and the largest sequence after 3 requests', async () => {
    const server = await startMockServer({ ...zero, personality: 'llama-server' })
    try {
      // 3 × the same 5-word prompt, 4 tokens each: prompts 5 + 1 + 1 processed, 0 + 4 + 4 cached.
      for (let i = 0; i < 3; i++)
        await post(`${server.url}/chat/completions`, chatBody({ stream: true, max_tokens: 4 }))
      const { text } = await get(`http://127.0.0.1:${server.port}/metrics`)
      const value = (name: string) => metricValue(text, `llamacpp:${name}`)
      expect(value('prompt_tokens_total'), 'prompt_tokens_total').toBe(7)
      expect(value('prompt_tokens_cached_total'), 'prompt_tokens_cached_total').toBe(8)
      expect(value('tokens_predicted_total'), 'tokens_predicted_total').toBe(12)
      // One decode per prompt + 3 per answer (the first token comes from the prompt batch).
      expect(value('n_decode_total'), 'n_decode_total').toBe(12)
      expect(value('n_tokens_max'), 'n_tokens_max (5 + 4)').toBe(9)
      expect(value('requests_processing'), 'requests_processing').toBe(0)
      expect(value('requests_deferred'), 'requests_deferred').toBe(0)
      expect(value('n_busy_slots_per_decode'), 'busy slots per decode').toBe(1)
      const names = [...text.matchAll(/^# TYPE (llamacpp:\S+) (\w+)$/gm)].map((m) => `${m[1]} ${m[2]}`)
      expect(names, 'llama.cpp server-task.cpp to_metrics(): names, types, order').toEqual([
        'llamacpp:prompt_tokens_total counter',
        'llamacpp:prompt_tokens_cached_total counter',
        'llamacpp:prompt_seconds_total counter',
        'llamacpp:tokens_predicted_total counter',
        'llamacpp:tokens_predicted_seconds_total counter',
        'llamacpp:n_decode_total counter',
        'llamacpp:n_tokens_max counter',
        'llamacpp:spec_decode_num_draft_tokens_total counter',
        'llamacpp:spec_decode_num_accepted_tokens_total counter',
        'llamacpp:spec_decode_num_drafts_total counter',
        'llamacpp:prompt_tokens_seconds gauge',
        'llamacpp:predicted_tokens_seconds gauge',
        'llamacpp:requests_processing gauge',
        'llamacpp:requests_deferred gauge',
        'llamacpp:n_busy_slots_per_decode gauge',
      ])
    } finally {
      await server.close()
    }
  })
})
