import { describe, expect, it } from 'vitest'
import { requestBody } from '../../../harness/http-load/bodies.ts'
import { formatHttpLoad } from '../../../harness/http-load/format.ts'
import { httpLoadMetricRows, summarizeHttpLoad, toOutcome } from '../../../harness/http-load/metrics.ts'
import type { HttpLoadResult, HttpSample } from '../../../harness/http-load/run.ts'
import { usageOf } from '../../../harness/http-load/run.ts'
import type { HttpLoadSpec } from '../../../harness/http-load/spec.ts'

/** Five requests by hand: three 2xx (latency 10, 20, 40 ms), one 429, one timeout. Times in ms. */
const SAMPLES: HttpSample[] = [
  {
    state: 'ok',
    seq: 0,
    promptIndex: 0,
    startedAt: 0,
    latencyMs: 10,
    status: 200,
    bytes: 50,
    outputTokens: 4,
  },
  {
    state: 'ok',
    seq: 1,
    promptIndex: 1,
    startedAt: 100,
    latencyMs: 20,
    status: 200,
    bytes: 50,
    outputTokens: 4,
  },
  {
    state: 'ok',
    seq: 2,
    promptIndex: 2,
    startedAt: 200,
    latencyMs: 40,
    status: 201,
    bytes: 50,
    outputTokens: 2,
  },
  {
    state: 'http-error',
    seq: 3,
    promptIndex: 3,
    startedAt: 300,
    latencyMs: 5,
    status: 429,
    bytes: 30,
    bodyExcerpt: '{"error":"slow down"}',
  },
  // The last to end: 1000 + 1000 = 2000 ms after the first send.
  {
    state: 'timeout',
    seq: 4,
    promptIndex: 4,
    startedAt: 1000,
    afterMs: 1000,
    message: 'no response within 1 s',
  },
]
const RESULT: HttpLoadResult = {
  samples: SAMPLES,
  unfinished: 2,
  stoppedBy: 'duration',
  autocannon: { responses: 4, sent: 7, errors: 1, timeouts: 1, non2xx: 1, duration: 2, statusCodeStats: {} },
}

describe('summarizeHttpLoad', () => {
  const s = summarizeHttpLoad(RESULT, 0.5)
  it('counts, window and rates by hand', () => {
    expect(s.attempted, 'attempted: every sample, the unanswered ones not').toBe(5)
    expect(s.ok, '2xx responses').toBe(3)
    expect(s.errors, '429 + timeout').toBe(2)
    expect(s.windowMs, 'first send 0 → timeout reported at 2000').toBe(2000)
    expect(s.requestsPerS, '3 ok / 2 s').toBe(1.5)
    expect(s.outputTokensPerS, '(4 + 4 + 2) / 2 s').toBe(5)
    expect(s.statusCounts, 'every status, 2xx included').toEqual({ '200': 2, '201': 1, '429': 1 })
    expect(s.unfinished).toBe(2)
  })
  it('exact percentiles of the 2xx latencies (linear interpolation), errors left out', () => {
    expect(s.e2eMs?.n).toBe(3)
    expect(s.e2eMs?.p50, 'the middle of 10, 20, 40').toBe(20)
    // rank 0.9 · 2 = 1.8 → 20 + 0.8 · (40 − 20)
    expect(s.e2eMs?.p90).toBeCloseTo(36, 10)
    expect(s.e2eMs?.max).toBe(40)
  })
  it('error rate 2 / 5 passes at 0.5 and fails at 0.01, naming kinds and counts', () => {
    expect(s.errorRate.passed).toBe(true)
    const strict = summarizeHttpLoad(RESULT, 0.01)
    expect(strict.errorRate.passed).toBe(false)
    expect(strict.errorRate.reason).toBe('error rate 40.0 % (2 of 5) > max 1 %: http 429 ×1, timeout ×1')
  })
  it('no usage on one 2xx response: no outputTokensPerS rather than an undercount', () => {
    const partial = summarizeHttpLoad(
      {
        ...RESULT,
        samples: SAMPLES.map((x) => (x.seq === 1 ? { ...x, outputTokens: undefined } : x)) as HttpSample[],
      },
      1,
    )
    expect(partial.outputTokensPerS).toBeUndefined()
  })
})

describe('httpLoadMetricRows', () => {
  const rows = httpLoadMetricRows(summarizeHttpLoad(RESULT, 0.5))
  const byName = new Map(rows.map((r) => [r.name, r]))
  it('catalogue names and units; no TTFT or TPOT rows', () => {
    expect(byName.get('requestsPerS')).toMatchObject({
      value: 1.5,
      unit: 'requests/s',
      direction: 'higher',
      n: 3,
    })
    expect(byName.get('e2eMsP50')).toMatchObject({ value: 20, unit: 'ms', direction: 'lower', n: 3 })
    expect(byName.get('errorRate')).toMatchObject({ value: 0.4, unit: 'ratio', direction: 'lower', n: 5 })
    expect(byName.get('errorsHttp')?.value).toBe(1)
    expect(byName.get('errorsTimeout')?.value).toBe(1)
    expect(byName.get('httpStatus/200')).toMatchObject({ value: 2, unit: 'count' })
    expect(byName.get('httpStatus/429')?.value).toBe(1)
    expect(byName.get('unfinishedRequests')?.value).toBe(2)
    expect(rows.filter((r) => /^(ttft|tpot|chunkGaps)/.test(r.name))).toEqual([])
  })
})

describe('toOutcome', () => {
  it('a 2xx response: ok without TTFT or chunks; usage from the server', () => {
    const o = toOutcome(SAMPLES[0]!) as unknown as Record<string, unknown>
    expect(o).toEqual({
      seq: 0,
      promptIndex: 0,
      scheduledAt: 0,
      startedAt: 0,
      state: 'ok',
      e2eMs: 10,
      outputTokens: 4,
      tokensSource: 'server',
    })
  })
  it('a 429: an http error with its status and the start of the body; a timeout: kind timeout', () => {
    expect(toOutcome(SAMPLES[3]!)).toMatchObject({
      state: 'error',
      e2eMs: 5,
      error: { kind: 'http', status: 429, message: 'HTTP 429: {"error":"slow down"}' },
    })
    expect(toOutcome(SAMPLES[4]!)).toMatchObject({
      state: 'error',
      error: { kind: 'timeout', message: 'no response within 1 s' },
    })
  })
})

describe('bodies and usage', () => {
  const prompt = { index: 3, prompt: 'one two three', outputTokens: 8 }
  it('chat: messages, max_tokens, stream false, fixed output length when asked', () => {
    expect(requestBody({ endpoint: 'chat', model: 'm', fixedOutputLength: true }, prompt)).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'one two three' }],
      max_tokens: 8,
      stream: false,
      min_tokens: 8,
      ignore_eos: true,
    })
  })
  it('completions: prompt; no min_tokens / ignore_eos with --no-fixed-output', () => {
    expect(requestBody({ endpoint: 'completions', model: 'm', fixedOutputLength: false }, prompt)).toEqual({
      model: 'm',
      prompt: 'one two three',
      max_tokens: 8,
      stream: false,
    })
  })
  it('usageOf reads prompt and completion tokens, ignores bodies without usage or not JSON', () => {
    expect(usageOf('{"usage":{"prompt_tokens":5,"completion_tokens":7}}')).toEqual({
      promptTokens: 5,
      outputTokens: 7,
    })
    expect(usageOf('{"choices":[]}')).toEqual({})
    expect(usageOf('"usage" but not json')).toEqual({})
  })
})

describe('formatHttpLoad', () => {
  it('names the load, rps, percentiles, statuses and errors', () => {
    const load: HttpLoadSpec = {
      kind: 'http-load',
      endpoint: 'chat',
      connections: 4,
      durationS: 10,
      timeoutS: 1,
      bodies: { kind: 'synthetic', promptTokens: 8, outputTokens: 4, seed: 1 },
      tool: 'autocannon 9.0.0',
    }
    const text = formatHttpLoad({
      baseUrl: 'http://127.0.0.1:1/v1',
      model: 'm',
      load,
      stoppedBy: 'duration',
      ...summarizeHttpLoad(RESULT, 0.5),
    })
    expect(text.split('\n')).toEqual([
      'http-load chat 4 conn · http://127.0.0.1:1/v1 · model m · 10 s (stopped by duration) · autocannon 9.0.0',
      'requests   5 (3 ok, 2 errors), 2 unanswered at the stop (not counted)',
      'rps        1.5 requests/s (2xx over the 2.00 s window) · 5.0 output tokens/s',
      'latency ms p50 20.0 · p90 36.0 · p95 38.0 · p99 39.6 · p99.9 40.0 · max 40.0 · mean 23.3 (n 3)',
      'status     200 ×2 · 201 ×1 · 429 ×1',
      'errors     http 429 ×1, timeout ×1 · error rate 40.0 % (max 50 %)',
    ])
  })
})
