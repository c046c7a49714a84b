/** db/figures/requests.ts: METRICS.md tpotMs of a stored request, the tally of a run's requests, its samples. */
import { describe, expect, it } from 'vitest'
import { requestSamplesOf, requestTpotMs, tallyRequests } from '../../../db/figures/requests.ts'

describe('requestTpotMs', () => {
  it('is (e2eMs − ttftMs) / (outputTokens − 1) for an ok request with at least 2 tokens', () => {
    // (1000 − 100) / (10 − 1) = 100 ms; with 2 tokens the one step is the whole decode: 900 / 1.
    expect(requestTpotMs({ state: 'ok', ttftMs: 100, e2eMs: 1000, outputTokens: 10 }), '10 tokens').toBe(100)
    expect(requestTpotMs({ state: 'ok', ttftMs: 100, e2eMs: 1000, outputTokens: 2 }), '2 tokens').toBe(900)
  })

  it('is null where METRICS.md does not define it', () => {
    const r = { state: 'ok' as const, ttftMs: 100, e2eMs: 1000, outputTokens: 10 }
    expect(requestTpotMs({ ...r, outputTokens: 1 }), 'one token').toBeNull()
    expect(requestTpotMs({ ...r, outputTokens: 0 }), 'no token').toBeNull()
    expect(requestTpotMs({ ...r, state: 'error' }), 'an error').toBeNull()
    expect(requestTpotMs({ ...r, ttftMs: null }), 'no TTFT stored').toBeNull()
    expect(requestTpotMs({ ...r, e2eMs: null }), 'no E2E stored').toBeNull()
    expect(requestTpotMs({ ...r, outputTokens: null }), 'no token count stored').toBeNull()
    expect(requestTpotMs({ ...r, e2eMs: Number.POSITIVE_INFINITY }), 'not finite').toBeNull()
  })
})

describe('tallyRequests', () => {
  it('sums the groups and counts errors per kind, an unnamed kind as unknown', () => {
    expect(
      tallyRequests([
        { state: 'ok', errorKind: null, n: 7 },
        { state: 'error', errorKind: 'timeout', n: 2 },
        { state: 'error', errorKind: 'http', n: 1 },
        { state: 'error', errorKind: null, n: 3 },
        { state: 'error', errorKind: 'aborted', n: 4 },
      ]),
      '7 ok + 2 + 1 + 3 errors + 4 aborted = 17',
    ).toEqual({ total: 17, ok: 7, errors: 6, errorsByKind: { timeout: 2, http: 1, unknown: 3 }, aborted: 4 })
    expect(tallyRequests([]), 'no requests').toEqual({
      total: 0,
      ok: 0,
      errors: 0,
      errorsByKind: {},
      aborted: 0,
    })
  })
})

describe('requestSamplesOf', () => {
  const rows = [
    { ttftMs: 100, e2eMs: 1000, outputTokens: 10, chunkGapsMs: [50, 60] },
    { ttftMs: 200, e2eMs: 400, outputTokens: 1, chunkGapsMs: null }, // one token: no TPOT
    { ttftMs: null, e2eMs: 700, outputTokens: 4, chunkGapsMs: [70] }, // imported without TTFT
  ]

  it('keeps each time where stored and a TPOT where defined, in row order', () => {
    expect(requestSamplesOf(rows, 2, false), 'samples').toEqual({
      ok: 3,
      errors: 2,
      ttftMs: [100, 200],
      tpotMs: [100], // (1000 − 100) / 9
      e2eMs: [1000, 400, 700],
    })
  })

  it('pools every chunk gap only when asked', () => {
    expect(requestSamplesOf(rows, 0, true).chunkGapsMs, 'pooled in order').toEqual([50, 60, 70])
    expect(requestSamplesOf([], 0, true), 'no rows').toEqual({
      ok: 0,
      errors: 0,
      ttftMs: [],
      tpotMs: [],
      e2eMs: [],
      chunkGapsMs: [],
    })
  })
})
