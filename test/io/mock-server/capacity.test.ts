import { describe, expect, it } from 'vitest'
import { mockOptionsFromFlags } from '../../../harness/cli/actions/mock-flags.ts'
import { parseScenario } from '../../../harness/config/index.ts'
import type { MockOptionsInput } from '../../../harness/mock-server/options.ts'
import { MockOptionsError, parseMockOptions } from '../../../harness/mock-server/parse-options.ts'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import {
  chatBody,
  type ErrorBody,
  get,
  metricValue,
  post,
  type WireResponse,
} from '../../helpers/sse-client.ts'

async function withServer(options: MockOptionsInput, fn: (s: MockServerHandle) => Promise<void>) {
  const server = await startMockServer(options)
  try {
    await fn(server)
  } finally {
    await server.close()
  }
}

/** Arrival times of the content chunks (role chunk, finish chunk and [DONE] left out), ms. */
function contentTimes(res: WireResponse): number[] {
  return res.data.flatMap((payload, i) => {
    if (payload === '[DONE]') return []
    const delta = (JSON.parse(payload) as { choices: { delta?: { content?: string | null } }[] }).choices[0]
      ?.delta
    return typeof delta?.content === 'string' && delta.content !== '' ? [res.arrivedMs[i]!] : []
  })
}

describe('mock server capacity model', () => {
  it('queues requests beyond the slots: the second waits for the first (its wait is TTFT)', async () => {
    // One slot, 40 ms TTFT, 10 tokens × 20 ms: the first holds the slot ~220 ms.
    await withServer(
      {
        ttft: { kind: 'fixed', ms: 40 },
        itl: { kind: 'fixed', ms: 20 },
        capacity: { slots: 1 },
      },
      async (s) => {
        const body = chatBody({ stream: true, max_tokens: 10 })
        const [a, b] = await Promise.all([
          post(`${s.url}/chat/completions`, body),
          post(`${s.url}/chat/completions`, body),
        ])
        const ta = contentTimes(a)
        const tb = contentTimes(b)
        expect(ta).toHaveLength(10)
        expect(tb).toHaveLength(10)
        const [first, second] = ta[0]! < tb[0]! ? [ta, tb] : [tb, ta]
        const ttftFirst = first[0]! - Math.min(a.sentMs, b.sentMs)
        const ttftSecond = second[0]! - Math.max(a.sentMs, b.sentMs)
        // 40 ms alone; behind the first: its whole response (40 + 9 × 20 = 220 ms) + its own 40 ms. Deadlines
        // are never early, so the lower bounds are exact. No tight upper bound: on a loaded machine (npm test
        // beside other work) a late write can add hundreds of ms; the order below is what queueing means.
        expect(ttftFirst).toBeGreaterThanOrEqual(39)
        expect(ttftSecond).toBeGreaterThanOrEqual(255)
        expect(ttftSecond, 'the second waited longer than the first').toBeGreaterThan(ttftFirst)
        // The second starts only after the first's last chunk.
        expect(second[0]!).toBeGreaterThan(first[9]!)
      },
    )
  })

  it('grows the per-token time with the batch: itl · (1 + k · (b − 1))', async () => {
    // Two slots, k = 1: two requests together run at 2 × 10 ms per token; one alone at 10 ms.
    await withServer(
      {
        ttft: { kind: 'fixed', ms: 10 },
        itl: { kind: 'fixed', ms: 10 },
        capacity: { slots: 2, itlGrowth: 1 },
      },
      async (s) => {
        const body = chatBody({ stream: true, max_tokens: 11 })
        const alone = contentTimes(await post(`${s.url}/chat/completions`, body))
        const together = await Promise.all([
          post(`${s.url}/chat/completions`, body),
          post(`${s.url}/chat/completions`, body),
        ])
        const tpot = (t: number[]) => (t[t.length - 1]! - t[0]!) / (t.length - 1)
        // Alone ~10 ms, together ~20 ms: the bounds split the two with room for a loaded machine's jitter.
        expect(tpot(alone)).toBeGreaterThan(9)
        expect(tpot(alone)).toBeLessThan(15)
        for (const r of together) {
          // Both hold a slot for all but the last gap of the one that finishes first.
          expect(tpot(contentTimes(r))).toBeGreaterThan(17)
          expect(tpot(contentTimes(r))).toBeLessThan(30)
        }
      },
    )
  })

  it('releases the slot of a client that leaves, and drops a waiting one that leaves', async () => {
    await withServer(
      { ttft: { kind: 'fixed', ms: 5 }, itl: { kind: 'fixed', ms: 50 }, capacity: { slots: 1 } },
      async (s) => {
        const long = chatBody({ stream: true, max_tokens: 100 })
        const first = new AbortController()
        const waiting = new AbortController()
        const a = post(`${s.url}/chat/completions`, long, { signal: first.signal }).catch(() => undefined)
        await new Promise((r) => setTimeout(r, 30))
        const b = post(`${s.url}/chat/completions`, long, { signal: waiting.signal }).catch(() => undefined)
        await new Promise((r) => setTimeout(r, 30))
        waiting.abort()
        first.abort()
        await Promise.all([a, b])
        // The slot is free again (neither the first nor the withdrawn one holds it): answered at once.
        const sent = performance.now()
        const c = await post(`${s.url}/chat/completions`, chatBody({ stream: true, max_tokens: 2 }))
        const t = contentTimes(c)
        expect(t).toHaveLength(2)
        // A slot still held would answer after the 100-token request (~5 s): 1 s tells the two apart with room
        // for a loaded machine (unloaded it is ~5 ms).
        expect(t[0]! - sent).toBeLessThan(1000)
      },
    )
  })
})

describe('capacity model metrics', () => {
  it('report the queue: mock_requests_waiting, vllm:num_requests_waiting / llamacpp:requests_deferred', async () => {
    for (const personality of ['default', 'vllm', 'llama-server'] as const)
      await withServer(
        {
          personality,
          ttft: { kind: 'fixed', ms: 5 },
          itl: { kind: 'fixed', ms: 50 },
          capacity: { slots: 1 },
        },
        async (s) => {
          const stop = new AbortController()
          const long = chatBody({ stream: true, max_tokens: 100 })
          const pending = Array.from({ length: 3 }, () =>
            post(`${s.url}/chat/completions`, long, { signal: stop.signal }).catch(() => undefined),
          )
          const metrics = async () => (await get(s.url.replace('/v1', '/metrics'))).text
          let text = ''
          for (let i = 0; i < 100; i++) {
            text = await metrics()
            if (metricValue(text, 'mock_requests_waiting') === 2) break
            await new Promise((r) => setTimeout(r, 10))
          }
          expect(metricValue(text, 'mock_requests_waiting'), personality).toBe(2)
          if (personality === 'vllm') {
            const labels = '{model_name="mock-model",engine="0"}'
            expect(metricValue(text, `vllm:num_requests_waiting${labels}`)).toBe(2)
            expect(metricValue(text, `vllm:num_requests_running${labels}`)).toBe(1)
          }
          if (personality === 'llama-server') {
            expect(metricValue(text, 'llamacpp:requests_deferred')).toBe(2)
            expect(metricValue(text, 'llamacpp:requests_processing')).toBe(1)
          }
          stop.abort()
          await Promise.all(pending)
        },
      )
  })

  it('leave /metrics as it was without the model', async () => {
    await withServer({}, async (s) => {
      const text = (await get(s.url.replace('/v1', '/metrics'))).text
      expect(text).not.toContain('mock_requests_waiting')
    })
  })
})

describe('mock server API key and rate limit', () => {
  it('answers 401 without `Authorization: Bearer <key>` and serves with it', async () => {
    await withServer({ apiKey: 'sk-test-123' }, async (s) => {
      const body = chatBody({ max_tokens: 2 })
      const none = await post(`${s.url}/chat/completions`, body)
      expect(none.status).toBe(401)
      expect((JSON.parse(none.raw) as ErrorBody).error.code).toBe('invalid_api_key')
      const wrong = await post(`${s.url}/chat/completions`, body, {
        headers: { authorization: 'Bearer sk-test-124' },
      })
      expect(wrong.status).toBe(401)
      const right = await post(`${s.url}/chat/completions`, body, {
        headers: { authorization: 'Bearer sk-test-123' },
      })
      expect(right.status).toBe(200)
    })
  })

  it('answers 429 with Retry-After above R requests/s (token bucket of `burst`), then recovers', async () => {
    await withServer(
      {
        ttft: { kind: 'fixed', ms: 0 },
        itl: { kind: 'fixed', ms: 0 },
        rateLimit: { requestsPerS: 5, burst: 3 },
      },
      async (s) => {
        const body = chatBody({ max_tokens: 1 })
        // 8 at once: the bucket holds 3 (refill 5/s adds none in the few ms they take).
        const burst = await Promise.all(
          Array.from({ length: 8 }, () => post(`${s.url}/chat/completions`, body)),
        )
        const statuses = burst.map((r) => r.status).sort()
        expect(statuses.filter((x) => x === 200)).toHaveLength(3)
        expect(statuses.filter((x) => x === 429)).toHaveLength(5)
        const refused = burst.find((r) => r.status === 429)!
        expect(refused.headers['retry-after']).toBe('1')
        expect((JSON.parse(refused.raw) as ErrorBody).error.code).toBe('rate_limit_exceeded')
        // Health and models are not limited.
        expect((await fetch(`${s.url}/models`)).status).toBe(200)
        // 5/s: one token back after 200 ms.
        await new Promise((r) => setTimeout(r, 250))
        expect((await post(`${s.url}/chat/completions`, body)).status).toBe(200)
      },
    )
  })

  it('checks the key before the rate limit: a request without it is 401 and takes no token', async () => {
    await withServer({ apiKey: 'k-1', rateLimit: { requestsPerS: 0.01, burst: 1 } }, async (s) => {
      const body = chatBody({ max_tokens: 1 })
      for (let i = 0; i < 3; i++) expect((await post(`${s.url}/chat/completions`, body)).status).toBe(401)
      const headers = { authorization: 'Bearer k-1' }
      expect((await post(`${s.url}/chat/completions`, body, { headers })).status).toBe(200)
      expect((await post(`${s.url}/chat/completions`, body, { headers })).status).toBe(429)
    })
  })
})

describe('capacity and rate-limit options', () => {
  it('name the invalid field', () => {
    expect(() => parseMockOptions({ capacity: { slots: 0 } })).toThrow(MockOptionsError)
    expect(() => parseMockOptions({ capacity: { slots: 0 } })).toThrow(/capacity\.slots/)
    expect(() => parseMockOptions({ capacity: { slots: 2, itlGrowth: -1 } })).toThrow(/capacity\.itlGrowth/)
    expect(() => parseMockOptions({ rateLimit: { requestsPerS: 0 } })).toThrow(/rateLimit\.requestsPerS/)
  })

  it("are a scenario target's `mock:` fields, a bad one named by its path", () => {
    const scenario = (mock: unknown) => ({
      name: 'cap',
      prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
      targets: [{ name: 'm', engine: { kind: 'openai', model: 'mock-model', mock } }],
      loads: [{ kind: 'sequential', requests: 1 }],
    })
    const ok = parseScenario(
      scenario({ capacity: { slots: 4, itlGrowth: 0.5 }, rateLimit: { requestsPerS: 10 } }),
    )
    expect((ok.targets[0]!.engine as { mock?: unknown }).mock).toMatchObject({
      capacity: { slots: 4, itlGrowth: 0.5 },
      rateLimit: { requestsPerS: 10 },
    })
    expect(() => parseScenario(scenario({ capacity: { slots: 1.5 } }))).toThrow(
      /targets\[0\]\.engine\.mock\.capacity\.slots/,
    )
  })

  it('come from the mock-server flags, with the flag named on a bad combination', () => {
    const o = mockOptionsFromFlags({
      host: '127.0.0.1',
      port: 0,
      slots: 4,
      itlGrowth: 0.5,
      rateLimit: 10,
      rateLimitBurst: 2,
    })
    expect(o.capacity).toEqual({ slots: 4, itlGrowth: 0.5 })
    expect(o.rateLimit).toEqual({ requestsPerS: 10, burst: 2 })
    expect(() => mockOptionsFromFlags({ host: '127.0.0.1', port: 0, itlGrowth: 1 })).toThrow(
      /--itl-growth needs --slots/,
    )
    expect(() => mockOptionsFromFlags({ host: '127.0.0.1', port: 0, rateLimitBurst: 1 })).toThrow(
      /--rate-limit-burst needs --rate-limit/,
    )
  })
})
