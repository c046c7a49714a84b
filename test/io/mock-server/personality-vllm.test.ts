import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UVICORN_KEEP_ALIVE_MS } from '../../../harness/mock-server/connections.ts'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import { buckets125, VLLM_VERSION } from '../../../harness/mock-server/vllm.ts'
import { connect, postRequest } from '../../helpers/raw-http.ts'
import { chatBody, choice, chunkText, get, metricValue, parseChunks, post } from '../../helpers/sse-client.ts'

const zero = { ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 0 } } as const

describe('vllm personality', () => {
  let server: MockServerHandle
  beforeAll(async () => {
    server = await startMockServer({ ...zero, personality: 'vllm' })
  })
  afterAll(() => server.close())

  it('chat stream: role chunk with content "", finish_reason on the last content chunk, usage chunk, no timings', async () => {
    const res = await post(
      `${server.url}/chat/completions`,
      chatBody({ stream: true, stream_options: { include_usage: true }, max_tokens: 3 }),
    )
    expect(res.headers.server, 'server header').toBe('uvicorn')
    // role + 3 content + usage, then [DONE]
    expect(res.data.length, 'data lines').toBe(6)
    const [role, c1, , c3, usage] = parseChunks(res.data)
    expect(choice(role!).delta, 'role chunk').toEqual({ role: 'assistant', content: '' })
    expect(choice(c1!).finish_reason, 'first content chunk').toBeNull()
    expect(chunkText(c3!).length, 'last content chunk has text').toBeGreaterThan(0)
    expect(choice(c3!).finish_reason, 'finish_reason on the last content chunk').toBe('length')
    expect(usage!.choices, 'usage chunk').toEqual([])
    expect(usage!.usage, 'usage').toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 })
    for (const chunk of parseChunks(res.data)) {
      expect(chunk.timings, 'no timings').toBeUndefined()
      expect('system_fingerprint' in chunk, 'no system_fingerprint').toBe(false)
    }
  })

  it('completions stream: usage only with include_usage, in a choices: [] chunk', async () => {
    const body = { prompt: 'a b c', stream: true, max_tokens: 2 }
    const without = parseChunks((await post(`${server.url}/completions`, body)).data)
    expect(without.length, 'content chunks only').toBe(2)
    expect(
      without.some((c) => c.usage !== undefined),
      'no usage',
    ).toBe(false)
    expect(choice(without[1]!).finish_reason, 'finish on the last').toBe('length')
    const withUsage = parseChunks(
      (await post(`${server.url}/completions`, { ...body, stream_options: { include_usage: true } })).data,
    )
    expect(withUsage.length, 'content chunks + usage chunk').toBe(3)
    expect(withUsage[2]!.choices, 'usage chunk choices').toEqual([])
    expect(withUsage[2]!.usage, 'usage').toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })
  })

  it('GET /health is 200 with an empty body; /version names the release', async () => {
    const health = await get(`http://127.0.0.1:${server.port}/health`)
    expect(health.status, 'health status').toBe(200)
    expect(health.text, 'health body').toBe('')
    const version = await get(`http://127.0.0.1:${server.port}/version`)
    expect(JSON.parse(version.text), '/version').toEqual({ version: VLLM_VERSION })
  })

  it('/metrics after 4 requests: token counters, success by finish reason, TTFT and e2e histograms', async () => {
    const metrics = await startMockServer({ ...zero, personality: 'vllm', model: 'm1' })
    try {
      for (let i = 0; i < 4; i++)
        await post(`${metrics.url}/chat/completions`, chatBody({ stream: true, max_tokens: 3 }))
      const { text } = await get(`http://127.0.0.1:${metrics.port}/metrics`)
      const labels = 'model_name="m1",engine="0"'
      const value = (name: string, extra = '') => metricValue(text, `vllm:${name}{${labels}${extra}}`)
      expect(value('prompt_tokens_total'), 'prompt tokens 4 × 5').toBe(20)
      expect(value('generation_tokens_total'), 'generation tokens 4 × 3').toBe(12)
      expect(value('request_success_total', ',finished_reason="length"'), 'success length').toBe(4)
      expect(value('request_success_total', ',finished_reason="stop"'), 'success stop').toBe(0)
      expect(value('num_requests_running'), 'running').toBe(0)
      expect(value('num_requests_waiting'), 'waiting').toBe(0)
      expect(value('time_to_first_token_seconds_count'), 'TTFT observations').toBe(4)
      expect(value('time_to_first_token_seconds_bucket', ',le="+Inf"'), 'TTFT +Inf bucket').toBe(4)
      expect(value('e2e_request_latency_seconds_count'), 'e2e observations').toBe(4)
      // 3 outputs per request: 2 inter-token gaps each.
      expect(value('inter_token_latency_seconds_count'), 'ITL observations').toBe(8)
      expect(value('time_per_output_token_seconds_count'), 'TPOT (deprecated) observations').toBe(8)
      expect(value('request_prompt_tokens_bucket', ',le="5.0"'), 'prompt tokens ≤ 5').toBe(4)
      expect(value('request_prompt_tokens_bucket', ',le="2.0"'), 'prompt tokens ≤ 2').toBe(0)
      expect(text, 'no llamacpp names').not.toContain('llamacpp:')
    } finally {
      await metrics.close()
    }
  })

  it('1-2-5 buckets as vLLM builds them', () => {
    expect(buckets125(100), 'up to 100').toEqual([1, 2, 5, 10, 20, 50, 100])
    expect(buckets125(32_768).at(-1), 'up to 32768').toBe(20_000)
  })

  it(
    'uvicorn keep-alive: an idle connection is closed by the server 5 s after its last response, without a Keep-Alive header',
    async () => {
      const conn = await connect(server.port)
      try {
        conn.socket.write(postRequest('/v1/chat/completions', chatBody({ max_tokens: 2 })))
        const answeredMs = await conn.waitFor('"usage"')
        const head = conn.received().split('\r\n\r\n')[0]!.toLowerCase()
        expect(head, 'no Keep-Alive header').not.toContain('keep-alive: timeout')
        const finMs = await conn.ended()
        // Timers fire no earlier than asked; the upper bound only guards against "never".
        expect(finMs - answeredMs, 'idle time before the FIN (ms)').toBeGreaterThanOrEqual(
          UVICORN_KEEP_ALIVE_MS - 500,
        )
        expect(finMs - answeredMs, 'idle time before the FIN (ms)').toBeLessThan(UVICORN_KEEP_ALIVE_MS + 3000)
      } finally {
        conn.close()
      }
    },
    UVICORN_KEEP_ALIVE_MS + 10_000,
  )

  it('a request within the 5 s keeps the connection: both answered on one socket', async () => {
    const conn = await connect(server.port)
    try {
      conn.socket.write(postRequest('/v1/chat/completions', chatBody({ stream: true, max_tokens: 2 })))
      await conn.waitFor('data: [DONE]')
      conn.socket.write(postRequest('/v1/chat/completions', chatBody({ stream: true, max_tokens: 2 })))
      await conn.waitFor('data: [DONE]', conn.received().indexOf('data: [DONE]') + 1)
      expect(conn.endedAtMs, 'still open').toBeUndefined()
    } finally {
      conn.close()
    }
  })
})
