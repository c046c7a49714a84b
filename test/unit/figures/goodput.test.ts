/**
 * db/figures/goodput.ts: METRICS.md goodput (ok requests meeting every SLO bound / window; goodFraction =
 * good / (ok + errors)) with hand-computed numbers, stored rows turned back into outcomes giving the
 * harness's own figure, and the SLO a stored scenario declared.
 */
import { describe, expect, it } from 'vitest'
import { declaredSlo, goodputOf, goodputOfOutcomes } from '../../../db/figures/goodput.ts'
import { fromRequestRow } from '../../../db/request-rows.ts'
import type { RequestRow } from '../../../db/schema.ts'
import { summarizeRun } from '../../../harness/metrics/run.ts'
import type { ErrorOutcome, OkOutcome, RequestOutcome } from '../../../harness/results.ts'

const ok = (
  seq: number,
  startedAt: number,
  ttftMs: number,
  e2eMs: number,
  outputTokens: number,
): OkOutcome => ({
  state: 'ok',
  seq,
  promptIndex: 0,
  scheduledAt: startedAt,
  startedAt,
  ttftMs,
  e2eMs,
  chunkGapsMs: [],
  chunks: outputTokens,
  outputTokens,
  tokensSource: 'server',
})
const error = (seq: number, startedAt: number, kind: ErrorOutcome['error']['kind'], e2eMs?: number) => {
  const o: ErrorOutcome = {
    state: 'error',
    seq,
    promptIndex: 0,
    scheduledAt: startedAt,
    startedAt,
    error: { kind, message: kind },
  }
  if (e2eMs !== undefined) o.e2eMs = e2eMs
  return o
}

describe('goodputOfOutcomes', () => {
  // a: tSend 0, TTFT 100, E2E 1000, 10 tokens → TPOT (1000 − 100) / 9 = 100 ms, ends at 1000.
  // b: tSend 200, TTFT 300, E2E 1100, 5 tokens → TPOT 800 / 4 = 200 ms, ends at 1300.
  // c: tSend 400, TTFT 50, E2E 1600, 1 token → no TPOT (meets any TPOT bound), ends at 2000.
  // d: an error sent at 500 with no content: ends at its tSend as far as we know.
  // Window: first tSend 0 → last tLast 2000 = 2 s.
  const outcomes: RequestOutcome[] = [
    ok(0, 0, 100, 1000, 10),
    ok(1, 200, 300, 1100, 5),
    ok(2, 400, 50, 1600, 1),
    error(3, 500, 'http'),
  ]

  it('counts ok requests meeting every bound over the window', () => {
    // SLO ttftMs ≤ 200, tpotMs ≤ 150: a meets both, b fails TTFT (300), c meets TTFT and has no TPOT.
    // good = 2 → 2 / 2 s = 1 request/s; goodFraction = 2 / (3 ok + 1 error) = 0.5.
    expect(goodputOfOutcomes(outcomes, { ttftMs: 200, tpotMs: 150 }), 'a and c').toEqual({
      state: 'computed',
      goodputRequestsPerS: 1,
      goodFraction: 0.5,
      good: 2,
      attempted: 4,
      windowMs: 2000,
    })
  })

  it('takes a bound as inclusive (≤) and applies the TPOT bound only where a TPOT exists', () => {
    // tpotMs ≤ 100: a's TPOT is exactly 100 (meets), b's 200 fails, c has none (meets) → 2 good.
    const tpot = goodputOfOutcomes(outcomes, { tpotMs: 100 })
    expect(tpot.state === 'computed' && tpot.good, 'a and c').toBe(2)
    // ttftMs ≤ 300 and e2eMs ≤ 1100: a (100, 1000) and b (300, 1100) meet, c's E2E 1600 fails → 2 good.
    const both = goodputOfOutcomes(outcomes, { ttftMs: 300, e2eMs: 1100 })
    expect(both.state === 'computed' && both.good, 'a and b').toBe(2)
    // No bound: every ok request is good: 3 / 2 s = 1.5/s, 3 / 4 = 0.75.
    expect(goodputOfOutcomes(outcomes, {}), 'no bound').toMatchObject({
      goodputRequestsPerS: 1.5,
      goodFraction: 0.75,
      good: 3,
    })
  })

  it('leaves requests aborted by the run out of the count and the window, as the harness does', () => {
    // An aborted request sent at 0 running 5 s would stretch the window to 5 s if it counted.
    const withAborted = [...outcomes, error(4, 0, 'aborted', 5000)]
    expect(goodputOfOutcomes(withAborted, { ttftMs: 200, tpotMs: 150 }), 'as without it').toEqual(
      goodputOfOutcomes(outcomes, { ttftMs: 200, tpotMs: 150 }),
    )
    // Only aborted requests: nothing was measured; rates are 0 over a 0 ms window.
    expect(goodputOfOutcomes([error(0, 0, 'aborted', 10)], { ttftMs: 1 }), 'all aborted').toEqual({
      state: 'computed',
      goodputRequestsPerS: 0,
      goodFraction: 0,
      good: 0,
      attempted: 0,
      windowMs: 0,
    })
  })

  it('gives 0 when no request meets the SLO, and is unavailable without rows', () => {
    expect(goodputOfOutcomes(outcomes, { ttftMs: 10 }), 'none good').toMatchObject({
      goodputRequestsPerS: 0,
      goodFraction: 0,
      good: 0,
      attempted: 4,
    })
    expect(goodputOfOutcomes([], {}), 'no rows').toEqual({
      state: 'unavailable',
      reason: 'no per-request rows are stored',
    })
    expect(goodputOf('the request rows carry no send times', {}), 'unreadable rows').toEqual({
      state: 'unavailable',
      reason: 'the request rows carry no send times',
    })
    expect(goodputOf(outcomes, { ttftMs: 200, tpotMs: 150 }), 'outcomes').toMatchObject({ good: 2 })
  })

  it('agrees with summarizeRun on every figure it shares', () => {
    const slo = { ttftMs: 200, tpotMs: 150 }
    const harness = summarizeRun(outcomes, { slo })
    expect(goodputOfOutcomes(outcomes, slo), 'same figures').toMatchObject({
      goodputRequestsPerS: harness.goodputRequestsPerS,
      goodFraction: harness.goodFraction,
      attempted: harness.attempted,
      windowMs: harness.windowMs,
    })
  })
})

const row = (fields: Partial<RequestRow>): RequestRow => ({
  runId: 1,
  seq: 0,
  state: 'ok',
  promptIndex: 0,
  errorKind: null,
  httpStatus: null,
  message: null,
  scheduledAtMs: 0,
  startedAtMs: 0,
  ttftMs: 100,
  e2eMs: 1000,
  chunks: 10,
  promptTokens: 16,
  outputTokens: 10,
  tokensSource: 'server',
  serverOutputTokens: null,
  tokenizerOutputTokens: null,
  finishReason: null,
  serverTimings: null,
  connectionRetries: 0,
  chunkGapsMs: null,
  ...fields,
})

describe('stored requests as outcomes', () => {
  it('gives the same goodput as the harness on the outcomes they were stored from', () => {
    const original: RequestOutcome[] = [
      {
        state: 'ok',
        seq: 0,
        promptIndex: 0,
        scheduledAt: 0,
        startedAt: 0,
        ttftMs: 100,
        e2eMs: 1000,
        chunkGapsMs: [100, 100],
        chunks: 10,
        outputTokens: 10,
        tokensSource: 'server',
      },
      {
        state: 'error',
        seq: 1,
        promptIndex: 0,
        scheduledAt: 500,
        startedAt: 500,
        error: { kind: 'timeout', message: 'x' },
        ttftMs: 200,
        e2eMs: 2500,
      },
    ]
    const stored = [
      row({}),
      row({
        seq: 1,
        state: 'error',
        errorKind: 'timeout',
        scheduledAtMs: 500,
        startedAtMs: 500,
        ttftMs: 200,
        e2eMs: 2500,
        outputTokens: null,
        chunks: null,
      }),
    ]
    const outcomes = stored.map(fromRequestRow) as RequestOutcome[]
    const slo = { ttftMs: 150, tpotMs: 100 }
    const harness = summarizeRun(original, { slo })
    // The error's partial progress ends the window at 500 + 2500 = 3000 ms: 1 good / 3 s.
    expect(goodputOfOutcomes(outcomes, slo), 'from stored rows').toEqual({
      state: 'computed',
      goodputRequestsPerS: harness.goodputRequestsPerS,
      goodFraction: harness.goodFraction,
      good: 1,
      attempted: 2,
      windowMs: 3000,
    })
    expect(harness.goodputRequestsPerS, 'hand-computed').toBeCloseTo(1 / 3, 12)
  })

  it('says why rows cannot give a goodput', () => {
    expect(fromRequestRow(row({ startedAtMs: Number.NaN })), 'imported, no send times').toMatch(
      /no send times/,
    )
    expect(fromRequestRow(row({ ttftMs: null })), 'ok without ttft').toBe(
      'ok request 0 has no stored ttftMs, e2eMs or outputTokens',
    )
    expect(goodputOfOutcomes([], {}), 'no rows').toEqual({
      state: 'unavailable',
      reason: 'no per-request rows are stored',
    })
  })
})

describe('declaredSlo', () => {
  it('keeps every bound a scenario declared (TTFT, TPOT, E2E), each only when a finite number > 0', () => {
    expect(
      declaredSlo({ name: 's', slo: { ttftMs: 500, tpotMs: 50, e2eMs: 9000 } }),
      'all three, the E2E bound included',
    ).toEqual({
      ttftMs: 500,
      tpotMs: 50,
      e2eMs: 9000,
    })
    expect(declaredSlo({ slo: { e2eMs: 1200 } }), 'E2E alone').toEqual({ e2eMs: 1200 })
    expect(declaredSlo({ slo: { ttftMs: 0, tpotMs: Number.POSITIVE_INFINITY } }), 'neither').toEqual({})
    expect(declaredSlo({ slo: { ttftMs: '500', tpotMs: -1 } }), 'not numbers or negative').toEqual({})
    expect(declaredSlo({ slo: { tpotMs: 20 } }), 'one').toEqual({ tpotMs: 20 })
    expect(declaredSlo({ name: 'no slo' }), 'none declared').toEqual({})
    expect(declaredSlo(null), 'no scenario stored').toEqual({})
  })
})
