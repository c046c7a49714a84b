import { describe, expect, it } from 'vitest'
import type { MockOptionsInput } from '../../../harness/mock-server/options.ts'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import {
  chatBody,
  chunkText,
  type ErrorBody,
  get,
  metricValue,
  parseChunks,
  post,
} from '../../helpers/sse-client.ts'

const zero = { ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 0 } } as const
const rates = { rate429: 0, rate500: 0, rateDrop: 0, rateMalformed: 0, rateStall: 0 }

async function withServer(options: MockOptionsInput, fn: (s: MockServerHandle) => Promise<void>) {
  const server = await startMockServer(options)
  try {
    await fn(server)
  } finally {
    await server.close()
  }
}

const metricsOf = async (s: MockServerHandle) => (await get(s.url.replace('/v1', '/metrics'))).text
const stream10 = chatBody({ stream: true, max_tokens: 10 })

async function until(check: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('mock server faults', () => {
  it('429 and 500 answer OpenAI-style error bodies before streaming', async () => {
    await withServer({ ...zero, faults: { ...rates, rate429: 1 } }, async (s) => {
      const res = await post(`${s.url}/chat/completions`, stream10)
      expect(res.status, 'status').toBe(429)
      expect((JSON.parse(res.raw) as ErrorBody).error.code, 'code').toBe('rate_limit_exceeded')
      expect(metricValue(await metricsOf(s), 'mock_faults_injected_total{kind="429"}'), '429 counter').toBe(1)
    })
    await withServer({ ...zero, faults: { ...rates, rate500: 1 } }, async (s) => {
      const res = await post(`${s.url}/completions`, { prompt: 'a', stream: true })
      expect(res.status, 'status').toBe(500)
      expect((JSON.parse(res.raw) as ErrorBody).error.type, 'type').toBe('server_error')
      const metrics = await metricsOf(s)
      expect(
        metricValue(metrics, 'mock_requests_total{route="/v1/completions",status="500"}'),
        'by status',
      ).toBe(1)
    })
  })

  it('drop cuts the connection after half the content chunks, before the finish', async () => {
    await withServer({ ...zero, faults: { ...rates, rateDrop: 1 } }, async (s) => {
      const res = await post(`${s.url}/chat/completions`, stream10)
      expect(res.status, 'headers were sent').toBe(200)
      expect(res.complete, 'body ended cleanly').toBe(false)
      // role chunk + ceil(10 / 2) content chunks, nothing after
      expect(res.data.length, 'data lines before the drop').toBe(6)
      expect(res.data.includes('[DONE]'), '[DONE]').toBe(false)
      await expect(
        post(`${s.url}/completions`, { prompt: 'a', max_tokens: 4 }),
        'non-streamed',
      ).rejects.toThrow()
      await until(
        async () => metricValue(await metricsOf(s), 'mock_streams_in_flight') === 0,
        'no stream in flight',
      )
    })
  })

  it('malformed sends one data line that is not JSON, then continues to [DONE]', async () => {
    await withServer({ ...zero, faults: { ...rates, rateMalformed: 1 } }, async (s) => {
      const res = await post(`${s.url}/chat/completions`, stream10)
      const bad = res.data.filter((d) => {
        if (d === '[DONE]') return false
        try {
          JSON.parse(d)
          return false
        } catch {
          return true
        }
      })
      expect(bad.length, 'invalid JSON lines').toBe(1)
      expect(res.data.indexOf(bad[0]!), 'after role + 5 content chunks').toBe(6)
      expect(res.complete, 'stream completes').toBe(true)
      expect(res.data.at(-1), 'last').toBe('[DONE]')
      const content = parseChunks(res.data.filter((d) => d !== bad[0])).filter((c) => chunkText(c) !== '')
      expect(content.length, 'all content chunks still sent').toBe(10)
    })
  })

  it('stall sends the first content chunk, then nothing while the connection stays open', async () => {
    await withServer({ ...zero, faults: { ...rates, rateStall: 1 } }, async (s) => {
      const controller = new AbortController()
      const received: string[] = []
      const pending = post(`${s.url}/chat/completions`, stream10, {
        signal: controller.signal,
        onData: (d) => received.push(d),
      }).catch(() => undefined)
      await until(async () => received.length >= 2, 'the first content chunk')
      // With zero delays the other 9 chunks would have arrived long before this.
      await new Promise((r) => setTimeout(r, 200))
      expect(received.length, 'role + first content chunk only').toBe(2)
      expect(metricValue(await metricsOf(s), 'mock_streams_in_flight'), 'stream held open').toBe(1)
      controller.abort()
      await pending
      await until(
        async () => metricValue(await metricsOf(s), 'mock_streams_in_flight') === 0,
        'stall released',
      )
    })
  })

  it('closes promptly with a stalled stream open', async () => {
    const s = await startMockServer({ ...zero, faults: { ...rates, rateStall: 1 } })
    const received: string[] = []
    const pending = post(`${s.url}/chat/completions`, stream10, { onData: (d) => received.push(d) })
    await until(async () => received.length >= 2, 'the first content chunk')
    await s.close()
    const res = await pending
    expect(res.complete, 'stalled response cut by close').toBe(false)
  })

  it('draws faults from the seeded generator: same seed, same sequence; counters match', async () => {
    const statuses = async (seed: number) => {
      const out: number[] = []
      await withServer({ ...zero, seed, faults: { ...rates, rate429: 0.3, rate500: 0.2 } }, async (s) => {
        for (let i = 0; i < 30; i++)
          out.push((await post(`${s.url}/completions`, { prompt: 'a', max_tokens: 1 })).status)
        const metrics = await metricsOf(s)
        const count = (status: number) => out.filter((x) => x === status).length
        expect(metricValue(metrics, 'mock_faults_injected_total{kind="429"}'), '429 counter').toBe(count(429))
        expect(metricValue(metrics, 'mock_faults_injected_total{kind="500"}'), '500 counter').toBe(count(500))
        expect(
          metricValue(metrics, 'mock_requests_total{route="/v1/completions",status="200"}'),
          '200 counter',
        ).toBe(count(200))
      })
      return out
    }
    const a = await statuses(11)
    expect(a.filter((x) => x === 429).length, 'some 429s').toBeGreaterThan(0)
    expect(a.filter((x) => x === 500).length, 'some 500s').toBeGreaterThan(0)
    expect(a.filter((x) => x === 200).length, 'some 200s').toBeGreaterThan(0)
    expect(await statuses(11), 'same seed').toEqual(a)
  })

  it('rejects fault rates that add up to more than 1, naming the field', async () => {
    await expect(startMockServer({ faults: { ...rates, rate429: 0.7, rate500: 0.7 } })).rejects.toThrow(
      /faults: the fault rates add up to more than 1/,
    )
    await expect(startMockServer({ outputTokens: 0 })).rejects.toThrow(/outputTokens/)
  })
})

describe('mock server API key and metrics', () => {
  it('answers 401 with an OpenAI error body unless the bearer key matches', async () => {
    await withServer({ ...zero, apiKey: 'sk-test-123' }, async (s) => {
      const none = await post(`${s.url}/chat/completions`, chatBody({ max_tokens: 1 }))
      expect(none.status, 'no key').toBe(401)
      expect((JSON.parse(none.raw) as ErrorBody).error.code, 'code').toBe('invalid_api_key')
      expect(none.raw.includes('sk-test-123'), 'key not echoed').toBe(false)
      const wrong = await post(`${s.url}/chat/completions`, chatBody({ max_tokens: 1 }), {
        headers: { authorization: 'Bearer sk-test-124' },
      })
      expect(wrong.status, 'wrong key').toBe(401)
      const right = await post(`${s.url}/chat/completions`, chatBody({ max_tokens: 1 }), {
        headers: { authorization: 'Bearer sk-test-123' },
      })
      expect(right.status, 'right key').toBe(200)
      expect((await get(s.url.replace('/v1', '/health'))).status, 'health is public').toBe(200)
      const metrics = await metricsOf(s)
      expect(
        metricValue(metrics, 'mock_requests_total{route="/v1/chat/completions",status="401"}'),
        '401s',
      ).toBe(2)
    })
  })

  it('/metrics counts requests, tokens, chunks and streams in flight', async () => {
    await withServer({ ...zero, tokensPerChunk: 2 }, async (s) => {
      await post(`${s.url}/chat/completions`, chatBody({ stream: true, max_tokens: 5 }))
      await post(`${s.url}/completions`, { prompt: 'a b', max_tokens: 4 })
      await get(`${s.url}/nope`)
      const metrics = await metricsOf(s)
      expect(metrics, 'content type line').toContain('# TYPE mock_requests_total counter')
      expect(
        metricValue(metrics, 'mock_requests_total{route="/v1/chat/completions",status="200"}'),
        'chat',
      ).toBe(1)
      expect(
        metricValue(metrics, 'mock_requests_total{route="/v1/completions",status="200"}'),
        'completions',
      ).toBe(1)
      expect(metricValue(metrics, 'mock_requests_total{route="other",status="404"}'), 'unknown route').toBe(1)
      expect(metricValue(metrics, 'mock_tokens_generated_total'), 'tokens 5 + 4').toBe(9)
      expect(metricValue(metrics, 'llamacpp:tokens_predicted_total'), 'llama-server name').toBe(9)
      expect(metricValue(metrics, 'mock_prompt_tokens_total'), 'prompt tokens 5 + 2').toBe(7)
      // ceil(5 / 2) streamed + ceil(4 / 2) whole
      expect(metricValue(metrics, 'mock_content_chunks_total'), 'chunks').toBe(5)
      expect(metricValue(metrics, 'mock_streams_in_flight'), 'in flight').toBe(0)
      // 3 streamed chunks + 1 whole response were scheduled writes
      expect(metricValue(metrics, 'mock_schedule_error_seconds_count'), 'schedule samples').toBe(4)
    })
  })
})
