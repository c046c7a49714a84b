import { describe, expect, it } from 'vitest'
import {
  decodeTokensPerS,
  e2eSchedMs,
  prefillTokensPerS,
  requestMetrics,
  scheduleLagMs,
  tokensPerChunk,
  tpotMs,
  ttftSchedMs,
} from '../../../harness/metrics/request.ts'
import type { ErrorOutcome, OkOutcome } from '../../../harness/results.ts'

function okOutcome(fields: Partial<OkOutcome> = {}): OkOutcome {
  return {
    state: 'ok',
    seq: 0,
    promptIndex: 0,
    scheduledAt: 100,
    startedAt: 110,
    ttftMs: 40,
    e2eMs: 240,
    chunkGapsMs: [40, 40, 40, 40, 40],
    chunks: 6,
    promptTokens: 20,
    outputTokens: 11,
    tokensSource: 'server',
    ...fields,
  }
}

describe('per-request metrics', () => {
  it('derives every figure from one streamed request', () => {
    // tSched 100, tSend 110, t1 150, tLast 350; 11 tokens in 6 chunks; 20 prompt tokens.
    expect(requestMetrics(okOutcome()), 'all figures').toEqual({
      scheduleLagMs: 10,
      ttftSchedMs: 50,
      e2eSchedMs: 250,
      tpotMs: 20, // (240 − 40) / 10
      tokensPerChunk: 2, // 10 / 5
      decodeTokensPerS: 50, // 1000 / 20
      prefillTokensPerS: 500, // 20 / 0.04 s
    })
  })

  it('has no TPOT, decode rate or tokens per chunk for a one-token answer', () => {
    const one = okOutcome({ outputTokens: 1, chunks: 1, chunkGapsMs: [], e2eMs: 40 })
    expect(tpotMs(one), 'tpot').toBeUndefined()
    expect(decodeTokensPerS(one), 'decode rate').toBeUndefined()
    expect(tokensPerChunk(one), 'tokens per chunk').toBeUndefined()
    expect(ttftSchedMs(one), 'ttftSched still defined').toBe(50)
    expect(e2eSchedMs(one), 'e2eSched still defined').toBe(50)
  })

  it('has a TPOT of 0 but no decode rate when every token came in the first chunk', () => {
    const burst = okOutcome({ outputTokens: 5, chunks: 1, chunkGapsMs: [], e2eMs: 40 })
    expect(tpotMs(burst), 'tpot').toBe(0)
    expect(decodeTokensPerS(burst), 'decode rate').toBeUndefined()
  })

  it('has no prefill rate without a prompt count or with a zero TTFT', () => {
    expect(prefillTokensPerS(okOutcome({ promptTokens: undefined })), 'no prompt count').toBeUndefined()
    expect(prefillTokensPerS(okOutcome({ ttftMs: 0 })), 'ttftMs 0').toBeUndefined()
  })

  it('measures schedule lag of an error too', () => {
    const error: ErrorOutcome = {
      state: 'error',
      seq: 1,
      promptIndex: 0,
      scheduledAt: 1000,
      startedAt: 1075,
      error: { kind: 'http', status: 503, message: 'busy' },
    }
    expect(scheduleLagMs(error), 'lag of an error').toBe(75)
  })
})
