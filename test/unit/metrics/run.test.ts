import { describe, expect, it } from 'vitest'
import { peakOutputTokensPerS, summarizeRun } from '../../../harness/metrics/run.ts'
import type { RunMetrics } from '../../../harness/metrics/types.ts'
import type { ErrorOutcome, OkOutcome, RequestOutcome } from '../../../harness/results.ts'

type OkFields = Pick<OkOutcome, 'startedAt' | 'ttftMs' | 'e2eMs' | 'outputTokens'> & Partial<OkOutcome>

/** An ok outcome; without explicit gaps, one token per chunk at even gaps from t1 to tLast. */
function ok(fields: OkFields): OkOutcome {
  const chunks = fields.chunks ?? (fields.chunkGapsMs ? fields.chunkGapsMs.length + 1 : fields.outputTokens)
  const gap = chunks > 1 ? (fields.e2eMs - fields.ttftMs) / (chunks - 1) : 0
  return {
    state: 'ok',
    seq: 0,
    promptIndex: 0,
    scheduledAt: fields.startedAt,
    chunks,
    chunkGapsMs: Array.from({ length: Math.max(0, chunks - 1) }, () => gap),
    tokensSource: 'server',
    ...fields,
  }
}

function error(fields: Pick<ErrorOutcome, 'startedAt' | 'error'> & Partial<ErrorOutcome>): ErrorOutcome {
  return { state: 'error', seq: 0, promptIndex: 0, scheduledAt: fields.startedAt, ...fields }
}

const DISTRIBUTION_KEYS = [
  'ttftMs',
  'ttftSchedMs',
  'scheduleLagMs',
  'tpotMs',
  'chunkGapsMs',
  'e2eMs',
  'e2eSchedMs',
  'decodeTokensPerS',
  'prefillTokensPerS',
  'outputTokens',
  'promptTokens',
] as const

/** Every number anywhere in the metrics, with its path. */
function numbersIn(value: unknown, path = ''): [string, number][] {
  if (typeof value === 'number') return [[path, value]]
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([k, v]) => numbersIn(v, `${path}.${k}`))
}

describe('summarizeRun: window, throughput and distributions', () => {
  // r0: tSend 1000, t1 1100, 11 tokens one per chunk every 100 ms, tLast 2100, 50 prompt tokens.
  // r1: tSched 1400, tSend 1500, t1 1700, 6 tokens in 3 chunks (gaps 600, 700), tLast 3000, no prompt count.
  const outcomes: RequestOutcome[] = [
    ok({ startedAt: 1000, ttftMs: 100, e2eMs: 1100, outputTokens: 11, promptTokens: 50 }),
    ok({
      startedAt: 1500,
      scheduledAt: 1400,
      ttftMs: 200,
      e2eMs: 1500,
      outputTokens: 6,
      chunkGapsMs: [600, 700],
    }),
  ]
  const m = summarizeRun(outcomes)

  it('spans first tSend to last tLast', () => {
    expect(m.windowMs, 'window 1000 → 3000').toBe(2000)
    expect(m.attempted, 'attempted').toBe(2)
    expect(m.ok, 'ok').toBe(2)
    expect(m.errors, 'errors').toBe(0)
  })

  it('divides by the window', () => {
    expect(m.requestsPerS, '2 requests / 2 s').toBe(1)
    expect(m.outputTokensPerS, '17 tokens / 2 s').toBe(8.5)
    expect(m.totalTokensPerS, '(50 + 0 prompt + 17) / 2 s').toBe(33.5)
    expect(m.effectiveConcurrency, '(1100 + 1500) ms / 2000 ms').toBe(1.3)
    expect(m.errorRate, 'error rate').toBe(0)
  })

  it('finds the peak 1-s bucket from reconstructed chunk times', () => {
    // [1000, 2000): r0 at 1100…1900 → 9, r1 at 1700 → 2 tokens; [2000, 3000]: r0 2, r1 at 2300 and 3000 → 4.
    expect(m.peakOutputTokensPerS, 'peak bucket').toBe(11)
  })

  it('pools per-request figures into distributions', () => {
    expect(m.ttftMs?.mean, 'ttft mean').toBe(150)
    expect(m.ttftSchedMs?.max, 'ttftSched of r1 = 1700 − 1400').toBe(300)
    expect(m.scheduleLagMs?.max, 'lag of r1').toBe(100)
    expect(m.tpotMs?.min, 'tpot r0 = 1000 / 10').toBe(100)
    expect(m.tpotMs?.max, 'tpot r1 = 1300 / 5').toBe(260)
    expect(m.chunkGapsMs?.n, 'gaps pooled: 10 + 2').toBe(12)
    expect(m.chunkGapsMs?.max, 'largest gap').toBe(700)
    expect(m.chunkGapsMs?.p50, 'median gap').toBe(100)
    expect(m.e2eMs?.max, 'e2e r1').toBe(1500)
    expect(m.e2eSchedMs?.max, 'e2eSched r1 = 3000 − 1400').toBe(1600)
    expect(m.decodeTokensPerS?.max, 'decode r0 = 1000 / 100').toBe(10)
    expect(m.prefillTokensPerS?.n, 'prefill only where promptTokens is known').toBe(1)
    expect(m.prefillTokensPerS?.mean, 'prefill r0 = 50 / 0.1 s').toBe(500)
    expect(m.outputTokens?.mean, 'mean output tokens').toBe(8.5)
    expect(m.promptTokens?.n, 'prompt counts known').toBe(1)
    expect(m.tokensPerChunk, 'mean of 10/10 and 5/2').toBe(1.75)
    expect(m.tokensPerChunkN, 'requests behind tokensPerChunk').toBe(2)
  })

  it('flags the client as saturated from scheduleLag p99 against its threshold', () => {
    // Lags 0 and 100 ms: p99 = 99 ms.
    expect(m.clientSaturated, 'p99 lag 99 ms > default 50 ms').toBe(true)
    expect(
      summarizeRun(outcomes, { saturation: { scheduleLagP99Ms: 100 } }).clientSaturated,
      'p99 lag 99 ms ≤ 100 ms',
    ).toBe(false)
  })

  it('flags the client as saturated from event-loop delay', () => {
    const calm = [ok({ startedAt: 0, ttftMs: 10, e2eMs: 10, outputTokens: 1 })]
    expect(summarizeRun(calm, { eventLoopDelayP99Ms: 5 }).clientSaturated, '5 ms is not > 5 ms').toBe(false)
    const busy = summarizeRun(calm, { eventLoopDelayP99Ms: 21 })
    expect(busy.clientSaturated, '21 ms > default 5 ms').toBe(true)
    expect(busy.eventLoopDelayP99Ms, 'kept').toBe(21)
    expect(
      summarizeRun(calm, { eventLoopDelayP99Ms: 21, saturation: { eventLoopDelayP99Ms: 30 } })
        .clientSaturated,
      '21 ms ≤ 30 ms',
    ).toBe(false)
  })
})

describe('summarizeRun: edge cases', () => {
  it('gives zeros and no distributions for an empty run', () => {
    const m = summarizeRun([], { slo: { ttftMs: 500 } })
    expect(m, 'empty run').toEqual({
      windowMs: 0,
      attempted: 0,
      ok: 0,
      errors: 0,
      errorsByKind: {},
      requestsPerS: 0,
      outputTokensPerS: 0,
      totalTokensPerS: 0,
      peakOutputTokensPerS: 0,
      effectiveConcurrency: 0,
      errorRate: 0,
      goodputRequestsPerS: 0,
      goodFraction: 0,
      droppedRequests: 0,
      abortedRequests: 0,
      connectionRetries: 0,
      clientSaturated: false,
    } satisfies RunMetrics)
  })

  it('handles one request with one output token', () => {
    const m = summarizeRun([ok({ startedAt: 0, ttftMs: 250, e2eMs: 250, outputTokens: 1, promptTokens: 10 })])
    expect(m.windowMs, 'window = e2e').toBe(250)
    expect(m.requestsPerS, '1 / 0.25 s').toBe(4)
    expect(m.peakOutputTokensPerS, 'short window: peak = mean rate').toBe(4)
    expect(m.tpotMs, 'no tpot').toBeUndefined()
    expect(m.decodeTokensPerS, 'no decode rate').toBeUndefined()
    expect(m.tokensPerChunk, 'no tokens per chunk').toBeUndefined()
    expect(m.chunkGapsMs, 'no gaps').toBeUndefined()
    expect(m.ttftMs?.sd, 'sd of one sample').toBe(0)
    expect(m.ttftMs?.p999, 'p99.9 of one sample').toBe(250)
  })

  it('summarizes a run of errors only', () => {
    const m = summarizeRun([
      // Timed out after content started: t1 150, last content at 400.
      error({ startedAt: 100, ttftMs: 50, e2eMs: 300, chunks: 2, error: { kind: 'timeout', message: 't' } }),
      error({ startedAt: 200, error: { kind: 'http', status: 500, message: 'boom' } }),
    ])
    expect(m.windowMs, 'window 100 → 400 (second error ends at its tSend 200)').toBe(300)
    expect(m.errorsByKind, 'errors by kind').toEqual({ timeout: 1, http: 1 })
    expect(m.errorRate, 'error rate').toBe(1)
    expect(m.requestsPerS, 'no ok requests').toBe(0)
    expect(m.outputTokensPerS, 'no tokens').toBe(0)
    expect(m.peakOutputTokensPerS, 'no peak').toBe(0)
    expect(m.effectiveConcurrency, 'known e2e 300 / 300').toBe(1)
    expect(m.ttftMs, 'no ttft from errors').toBeUndefined()
    expect(m.scheduleLagMs?.n, 'errors were sent: lag counted').toBe(2)
    for (const [path, value] of numbersIn(m)) expect(Number.isFinite(value), `${path} finite`).toBe(true)
  })

  it('has a zero window for one error without progress', () => {
    const m = summarizeRun([error({ startedAt: 5, error: { kind: 'crash', message: 'gone' } })])
    expect(m.windowMs, 'window').toBe(0)
    expect(m.effectiveConcurrency, 'no window, no concurrency').toBe(0)
    expect(m.errorRate, 'error rate').toBe(1)
  })

  it('never reports NaN or Infinity', () => {
    const m = summarizeRun([
      ok({ startedAt: 0, ttftMs: 0, e2eMs: 0, outputTokens: 3, chunks: 1, promptTokens: 5 }),
      ok({ startedAt: 0, ttftMs: 0, e2eMs: 0, outputTokens: 0, chunks: 0 }),
    ])
    for (const [path, value] of numbersIn(m)) expect(Number.isFinite(value), `${path} finite`).toBe(true)
    expect(m.prefillTokensPerS, 'ttft 0: no prefill rate').toBeUndefined()
    expect(m.decodeTokensPerS, 'tpot 0: no decode rate').toBeUndefined()
    for (const key of DISTRIBUTION_KEYS.filter((k) => m[k] === undefined))
      expect(key in m, `${key} absent, not undefined`).toBe(false)
  })
})

describe('summarizeRun: errors and goodput', () => {
  // Window 0 → 2000 ms. SLO ttft ≤ 500, tpot ≤ 50.
  const outcomes: RequestOutcome[] = [
    ok({ startedAt: 0, ttftMs: 400, e2eMs: 800, outputTokens: 11 }), // tpot 40: good
    ok({ startedAt: 0, ttftMs: 600, e2eMs: 2000, outputTokens: 11 }), // ttft too slow
    ok({ startedAt: 0, ttftMs: 100, e2eMs: 700, outputTokens: 11 }), // tpot 60: too slow
    ok({ startedAt: 0, ttftMs: 500, e2eMs: 500, outputTokens: 1 }), // at the bound, no tpot: good
    error({ startedAt: 10, error: { kind: 'stream', message: 'dropped' } }),
    error({ startedAt: 20, error: { kind: 'aborted', message: 'interrupted' } }),
  ]

  it('counts errors; a request aborted by the interrupt is not one, nor attempted', () => {
    const m = summarizeRun(outcomes)
    expect(m.errors, 'errors').toBe(1)
    expect(m.errorsByKind, 'by kind').toEqual({ stream: 1 })
    expect(m.attempted, '4 ok + 1 error').toBe(5)
    expect(m.abortedRequests, 'aborted').toBe(1)
    expect(m.errorRate, '1 of 5').toBeCloseTo(1 / 5, 15)
    expect(m.goodputRequestsPerS, 'no SLO, no goodput').toBeUndefined()
    expect('goodFraction' in m, 'no SLO, no goodFraction key').toBe(false)
  })

  it('counts ok requests within every bound, a missing TPOT meeting its bound', () => {
    const m = summarizeRun(outcomes, { slo: { ttftMs: 500, tpotMs: 50 } })
    expect(m.goodputRequestsPerS, '2 good / 2 s').toBe(1)
    expect(m.goodFraction, '2 good / (4 ok + 1 error)').toBeCloseTo(2 / 5, 15)
  })

  it('applies an e2e bound', () => {
    const m = summarizeRun(outcomes, { slo: { ttftMs: 500, tpotMs: 50, e2eMs: 700 } })
    expect(m.goodFraction, 'only the one-token request is within 700 ms').toBeCloseTo(1 / 5, 15)
  })

  it('passes dropped requests through', () => {
    expect(summarizeRun(outcomes, { droppedRequests: 3 }).droppedRequests, 'dropped').toBe(3)
    expect(summarizeRun(outcomes).droppedRequests, 'default').toBe(0)
  })
})

describe('summarizeRun: token count discrepancy', () => {
  it('averages |server − tokenizer| / server over requests with both counts', () => {
    const m = summarizeRun([
      ok({
        startedAt: 0,
        ttftMs: 10,
        e2eMs: 100,
        outputTokens: 100,
        serverOutputTokens: 100,
        tokenizerOutputTokens: 90,
      }),
      ok({
        startedAt: 0,
        ttftMs: 10,
        e2eMs: 100,
        outputTokens: 50,
        serverOutputTokens: 50,
        tokenizerOutputTokens: 60,
      }),
      ok({ startedAt: 0, ttftMs: 10, e2eMs: 100, outputTokens: 40, serverOutputTokens: 40 }),
      ok({
        startedAt: 0,
        ttftMs: 10,
        e2eMs: 100,
        outputTokens: 7,
        serverOutputTokens: 0,
        tokenizerOutputTokens: 7,
      }),
    ])
    expect(m.tokenCountDiscrepancyPct, 'mean of 10 % and 20 %').toBeCloseTo(15, 12)
    expect(m.tokenCountDiscrepancyN, 'only requests with both counts and server > 0').toBe(2)
  })

  it('is absent when no request has both counts', () => {
    const m = summarizeRun([
      ok({ startedAt: 0, ttftMs: 10, e2eMs: 100, outputTokens: 5, serverOutputTokens: 5 }),
    ])
    expect(m.tokenCountDiscrepancyPct, 'absent').toBeUndefined()
  })
})

describe('summarizeRun: server timings beside the client view', () => {
  it('aggregates timings, the client − server differences and prompt-cache hits (hand-computed)', () => {
    const m = summarizeRun([
      // TTFT 30, TPOT (120 − 30) / 9 = 10; server prompt 25, server TPOT 72 / 9 = 8; only the BOS cached.
      ok({
        startedAt: 0,
        ttftMs: 30,
        e2eMs: 120,
        outputTokens: 10,
        serverTimings: { promptN: 39, promptMs: 25, predictedN: 10, predictedMs: 72, cacheN: 1 },
      }),
      // TTFT 12, TPOT (100 − 12) / 4 = 22; server prompt 2, server TPOT 80 / 4 = 20; 36 of 40 cached.
      ok({
        startedAt: 10,
        ttftMs: 12,
        e2eMs: 100,
        outputTokens: 5,
        serverTimings: { promptN: 4, promptMs: 2, predictedN: 5, predictedMs: 80, cacheN: 36 },
      }),
      // No timings (another server): left out of the server figures.
      ok({ startedAt: 20, ttftMs: 50, e2eMs: 90, outputTokens: 5 }),
    ])
    expect(m.serverTimingsN, 'requests with timings').toBe(2)
    expect(m.serverPromptMs?.mean, 'server prompt ms mean (25 + 2) / 2').toBe(13.5)
    expect(m.serverTpotMs?.min, 'server TPOT 72 / 9').toBe(8)
    expect(m.serverTpotMs?.max, 'server TPOT 80 / 4').toBe(20)
    expect(m.ttftOverServerMs?.min, '30 − 25').toBe(5)
    expect(m.ttftOverServerMs?.max, '12 − 2').toBe(10)
    expect(m.tpotOverServerMs?.min, '10 − 8').toBe(2)
    expect(m.tpotOverServerMs?.max, '22 − 20').toBe(2)
    expect(
      m.promptCacheHits,
      'one request took ≥ half its prompt from the cache (a BOS alone is no hit)',
    ).toBe(1)
    expect(m.promptCachedTokensPct, '(1 + 36) / 80 prompt tokens').toBe(46.25)
  })

  it('gives no server figures without timings', () => {
    const m = summarizeRun([ok({ startedAt: 0, ttftMs: 50, e2eMs: 90, outputTokens: 5 })])
    expect(m.serverTimingsN, 'n').toBeUndefined()
    expect(m.serverPromptMs, 'distribution').toBeUndefined()
    expect(m.promptCacheHits, 'hits').toBeUndefined()
  })
})

describe('peakOutputTokensPerS', () => {
  it('takes the busiest whole second', () => {
    const requests = [
      // 20 tokens in 5 chunks at 500, 1500, 2500, 3500, 4000: 4 tokens each.
      ok({ startedAt: 0, ttftMs: 500, e2eMs: 4000, outputTokens: 20, chunkGapsMs: [1000, 1000, 1000, 500] }),
      // 12 tokens in 3 chunks at 1100, 1300, 1500: 4 tokens each.
      ok({ startedAt: 1000, ttftMs: 100, e2eMs: 500, outputTokens: 12, chunkGapsMs: [200, 200] }),
    ]
    // Buckets: [0,1) 4; [1,2) 4 + 12 = 16; [2,3) 4; [3,4] 8 (the token at the window end stays in).
    expect(peakOutputTokensPerS(requests, 0, 4000), 'peak').toBe(16)
    const m = summarizeRun(requests)
    expect(m.peakOutputTokensPerS, 'through summarizeRun').toBe(16)
    expect(m.outputTokensPerS, 'mean rate 32 / 4 s').toBe(8)
  })

  it('covers a trailing part-second with a 1-s bucket ending at the window end', () => {
    // Window 1500 ms; 10 tokens at 1200 and 1500, none in [0, 1000).
    const late = [ok({ startedAt: 0, ttftMs: 1200, e2eMs: 1500, outputTokens: 10, chunkGapsMs: [300] })]
    expect(peakOutputTokensPerS(late, 0, 1500), 'tail bucket [500, 1500]').toBe(10)
  })

  it('uses the window itself when shorter than a second', () => {
    const quick = [ok({ startedAt: 0, ttftMs: 100, e2eMs: 500, outputTokens: 5 })]
    expect(peakOutputTokensPerS(quick, 0, 500), '5 tokens / 0.5 s').toBe(10)
    expect(peakOutputTokensPerS(quick, 0, 0), 'empty window').toBe(0)
  })
})
