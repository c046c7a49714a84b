import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import {
  type ServerMetricRow,
  type ServerMetricsRecord,
  startServerMetrics,
} from '../../../harness/server-metrics/session.ts'
import { summarizeServerMetrics } from '../../../harness/server-metrics/summary.ts'
import { post } from '../../helpers/sse-client.ts'

const zero = { ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 0 } } as const

/** n distinct words (distinct first words: no prompt shares a prefix with another, no cache hit). */
const words = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}w${i}`).join(' ')

/** The requests of one measured run: prompt words and max_tokens, streamed or not, chat or completions. */
const REQUESTS = [
  { prompt: 7, output: 5, stream: true, api: 'chat' },
  { prompt: 12, output: 3, stream: false, api: 'chat' },
  { prompt: 4, output: 9, stream: true, api: 'completions' },
  { prompt: 20, output: 1, stream: false, api: 'completions' },
] as const
const PROMPT_TOKENS = 7 + 12 + 4 + 20
const OUTPUT_TOKENS = 5 + 3 + 9 + 1

async function send(base: string, tag: string): Promise<void> {
  for (const [i, r] of REQUESTS.entries()) {
    const text = words(`${tag}${i}`, r.prompt)
    const body =
      r.api === 'chat'
        ? { model: 'm', messages: [{ role: 'user', content: text }], max_tokens: r.output, stream: r.stream }
        : { model: 'm', prompt: text, max_tokens: r.output, stream: r.stream }
    const res = await post(`${base}/${r.api === 'chat' ? 'chat/completions' : 'completions'}`, body)
    expect(res.status, `request ${i}`).toBe(200)
  }
}

const row = (
  record: ServerMetricsRecord,
  name: string,
  labels: Record<string, string> = {},
): ServerMetricRow => {
  const found = record.rows.find(
    (r) => r.name === name && Object.entries(labels).every(([k, v]) => r.labels[k] === v),
  )
  if (found === undefined)
    throw new Error(`no row ${name} ${JSON.stringify(labels)} in ${record.rows.map((r) => r.name)}`)
  return found
}

describe('server metrics around a run, against the mock', () => {
  let vllm: MockServerHandle
  let llama: MockServerHandle
  beforeAll(async () => {
    ;[vllm, llama] = await Promise.all([
      startMockServer({ ...zero, personality: 'vllm', model: 'served-model' }),
      startMockServer({ ...zero, personality: 'llama-server' }),
    ])
  })
  afterAll(async () => {
    await Promise.all([vllm?.close(), llama?.close()])
  })

  it('vllm: token and request deltas equal what was sent, whatever came before', async () => {
    const origin = new URL(vllm.url).origin
    await send(vllm.url, 'warm') // the counters are not at 0 before the run
    const session = await startServerMetrics({ url: `${origin}/metrics`, sampleIntervalMs: 0 })
    await send(vllm.url, 'run')
    const record = await session.finish()
    expect(record.state, record.reason).toBe('ok')
    expect(record.url, 'url').toBe(`${origin}/metrics`)
    const prompt = row(record, 'vllm:prompt_tokens_total')
    expect(prompt.kind, 'counter').toBe('counter')
    expect(prompt.before, 'before: the warm-up').toBe(PROMPT_TOKENS)
    expect(prompt.delta, 'prompt tokens').toBe(PROMPT_TOKENS)
    expect(prompt.after, 'after').toBe(2 * PROMPT_TOKENS)
    expect(row(record, 'vllm:generation_tokens_total').delta, 'generation tokens').toBe(OUTPUT_TOKENS)
    expect(row(record, 'vllm:request_success_total', { finished_reason: 'length' }).delta, 'length').toBe(4)
    expect(row(record, 'vllm:request_success_total', { finished_reason: 'stop' }).delta, 'stop').toBe(0)
    expect(prompt.labels, 'labels as served').toEqual({ model_name: 'served-model', engine: '0' })
    const promptHist = row(record, 'vllm:request_prompt_tokens')
    expect(promptHist.kind, 'histogram').toBe('histogram')
    expect([promptHist.delta, promptHist.sumDelta], 'histogram count and sum').toEqual([4, PROMPT_TOKENS])
    const running = row(record, 'vllm:num_requests_running')
    expect([running.kind, running.after, running.delta], 'gauge: no delta').toEqual(['gauge', 0, null])
    expect(
      record.rows.some((r) => r.name.startsWith('mock_')),
      'the mock’s own metrics are not kept',
    ).toBe(false)
    const figures = Object.fromEntries(summarizeServerMetrics(record.rows).map((f) => [f.label, f.value]))
    expect(figures['prompt tokens'], 'figure').toBe(PROMPT_TOKENS)
    expect(figures['generation tokens'], 'figure').toBe(OUTPUT_TOKENS)
    expect(figures['requests finished'], 'figure').toBe(4)
    expect(figures.preemptions, 'figure').toBe(0)
    // Every prompt token queried, none hit (the mock has no prefix cache).
    expect(figures['prefix-cache hit rate'], 'figure').toBe(0)
    expect(figures['queue time (mean)'], 'figure').toBe(0)
  })

  it('vllm: prefix-cache hits in whole 16-token blocks, at most prompt − 1 (vLLM’s get_computed_blocks)', async () => {
    const origin = new URL(vllm.url).origin
    const session = await startServerMetrics({ url: `${origin}/metrics`, sampleIntervalMs: 0 })
    const prefix = words('shared', 40)
    const ask = (content: string) =>
      post(`${vllm.url}/chat/completions`, {
        model: 'm',
        messages: [{ role: 'user', content }],
        max_tokens: 3,
      })
    // 45 words each: the first misses; the next two share 40 words with it → 2 blocks (32 tokens) each;
    // the same 45 words again match 45, capped at 44 → still 2 blocks.
    for (const content of [
      `${prefix} ${words('a', 5)}`,
      `${prefix} ${words('b', 5)}`,
      `${prefix} ${words('c', 5)}`,
    ])
      expect((await ask(content)).status, 'request').toBe(200)
    expect((await ask(`${prefix} ${words('a', 5)}`)).status, 'repeat').toBe(200)
    const record = await session.finish()
    expect(row(record, 'vllm:prefix_cache_queries_total').delta, 'queries: every prompt token').toBe(4 * 45)
    expect(row(record, 'vllm:prefix_cache_hits_total').delta, 'hits: 3 × 32').toBe(96)
    const figures = Object.fromEntries(summarizeServerMetrics(record.rows).map((f) => [f.label, f.value]))
    expect(figures['prefix-cache hit rate'], 'hit rate').toBeCloseTo(96 / 180, 12)
  })

  it('llama-server: prompt tokens exclude the cached ones; a repeated prompt is a cache hit', async () => {
    const origin = new URL(llama.url).origin
    await send(llama.url, 'warm')
    const session = await startServerMetrics({ url: `${origin}/metrics`, sampleIntervalMs: 0 })
    await send(llama.url, 'run')
    // The first run prompt again: 7 words, all cached but the last (llama-server keeps one to evaluate).
    const repeat = { model: 'm', messages: [{ role: 'user', content: words('run0', 7) }], max_tokens: 2 }
    expect((await post(`${llama.url}/chat/completions`, repeat)).status, 'repeat').toBe(200)
    const record = await session.finish()
    expect(record.state, record.reason).toBe('ok')
    expect(row(record, 'llamacpp:prompt_tokens_total').delta, 'evaluated prompt tokens').toBe(
      PROMPT_TOKENS + 1,
    )
    expect(row(record, 'llamacpp:prompt_tokens_cached_total').delta, 'cached').toBe(6)
    expect(row(record, 'llamacpp:tokens_predicted_total').delta, 'predicted').toBe(OUTPUT_TOKENS + 2)
    const figures = Object.fromEntries(summarizeServerMetrics(record.rows).map((f) => [f.label, f.value]))
    expect(figures['prefix-cache hit rate'], 'cached / (cached + evaluated)').toBeCloseTo(
      6 / (PROMPT_TOKENS + 7),
      12,
    )
    expect(figures['requests running (max)'], 'nothing in flight at the scrapes').toBe(0)
  })

  it('samples gauges during the run: the max of requests in flight', async () => {
    const slow = await startMockServer({
      ttft: { kind: 'fixed', ms: 600 },
      itl: { kind: 'fixed', ms: 0 },
      personality: 'vllm',
    })
    try {
      const session = await startServerMetrics({
        url: `${new URL(slow.url).origin}/metrics`,
        sampleIntervalMs: 100,
      })
      const body = { model: 'm', messages: [{ role: 'user', content: 'a b c' }], max_tokens: 2 }
      await Promise.all([1, 2, 3].map(() => post(`${slow.url}/chat/completions`, body)))
      const record = await session.finish()
      expect(record.samples, 'samples taken').toBeGreaterThan(0)
      const running = row(record, 'vllm:num_requests_running')
      expect([running.before, running.after], 'idle before and after').toEqual([0, 0])
      expect(running.max, 'three in flight while sampled').toBe(3)
    } finally {
      await slow.close()
    }
  })
})

describe('the scrape after the run', () => {
  /** A llama-server-like /metrics whose n-th answer is `answers[n]` (the last one repeated); -1 hangs. */
  async function serve(answers: readonly (readonly [number, number])[]) {
    let n = 0
    const server = http.createServer((_req, res) => {
      const [processing, predicted] = answers[Math.min(n++, answers.length - 1)]!
      if (processing < 0) return
      res.end(
        `# TYPE llamacpp:tokens_predicted_total counter\nllamacpp:tokens_predicted_total ${predicted}\n` +
          `# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing ${processing}\n`,
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`
    return {
      url,
      scrapes: () => n,
      close: async () => {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      },
    }
  }

  it('waits while a request is still counted in flight, then diffs the settled counters', async () => {
    // before: idle at 10; after: the last request still processing (12), then settled (15).
    const server = await serve([
      [0, 10],
      [1, 12],
      [1, 12],
      [0, 15],
    ])
    try {
      const session = await startServerMetrics({ url: server.url, sampleIntervalMs: 0 })
      const record = await session.finish()
      expect(row(record, 'llamacpp:tokens_predicted_total').delta, 'settled delta').toBe(5)
      expect(row(record, 'llamacpp:requests_processing').max, 'in flight seen').toBe(1)
      expect(server.scrapes(), 'before + three after').toBe(4)
    } finally {
      await server.close()
    }
  })

  it('readable before, not after: no rows, and why', async () => {
    const server = await serve([
      [0, 10],
      [-1, 0],
    ])
    try {
      const session = await startServerMetrics({ url: server.url, sampleIntervalMs: 0, timeoutMs: 300 })
      const record = await session.finish()
      expect(record).toEqual({
        url: server.url,
        state: 'unavailable',
        reason: `after the run: GET ${server.url}: no complete answer within 300 ms`,
        samples: 0,
        rows: [],
      })
    } finally {
      await server.close()
    }
  })
})

describe('a /metrics that cannot be read never fails the run: the record says why', () => {
  const seen: (string | undefined)[] = []
  let server: http.Server
  let origin: string
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers.authorization)
      if (req.url === '/slow/metrics') return // never answers: the bounded timeout
      if (req.url === '/bad/metrics') return void res.end('# TYPE x counter\nx{a="1" 2\n')
      if (req.url === '/other/metrics')
        return void res.end('# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1\n')
      res.statusCode = 404
      res.end('not found')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  const reasonOf = async (path: string, timeoutMs = 2_000, url = `${origin}${path}`) => {
    const startedMs = performance.now()
    const session = await startServerMetrics({
      url,
      timeoutMs,
      sampleIntervalMs: 0,
      headers: { authorization: 'Bearer sk-secret-key' },
    })
    const record = await session.finish()
    expect(record.state, path).toBe('unavailable')
    expect(record.rows, path).toEqual([])
    expect(JSON.stringify(record), 'no secret in the record').not.toContain('sk-secret')
    return { reason: record.reason, ms: performance.now() - startedMs }
  }

  it('404', async () => {
    expect((await reasonOf('/metrics')).reason).toBe(`GET ${origin}/metrics: HTTP 404 Not Found`)
    expect(seen.at(-1), 'the run’s auth header was sent').toBe('Bearer sk-secret-key')
  })
  it('slow: given up after the timeout', async () => {
    const { reason, ms } = await reasonOf('/slow/metrics', 300)
    expect(reason).toBe(`GET ${origin}/slow/metrics: no complete answer within 300 ms`)
    expect(ms, 'bounded').toBeLessThan(2_000)
  })
  it('malformed: the line and what is wrong', async () => {
    expect((await reasonOf('/bad/metrics')).reason).toMatch(
      /^GET .*\/bad\/metrics: not Prometheus text: line 2: x: expected , or } after label a$/,
    )
  })
  it('no serving-engine metrics', async () => {
    expect((await reasonOf('/other/metrics')).reason).toBe(
      'no vllm:, llamacpp:, tgi_, sglang: metrics among the 1 families served',
    )
  })
  it('nothing listening; credentials and query never in the stored URL', async () => {
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const { reason } = await reasonOf('', 2_000, `http://user:pw@127.0.0.1:${port}/metrics?key=sk-secret`)
    expect(reason).toMatch(new RegExp(`^GET http://127\\.0\\.0\\.1:${port}/metrics: .*ECONNREFUSED`))
  })
})
