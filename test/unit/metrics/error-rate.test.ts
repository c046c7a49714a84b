import { describe, expect, it } from 'vitest'
import {
  checkErrorRate,
  countErrors,
  formatErrorCounts,
  percent,
} from '../../../harness/metrics/error-rate.ts'
import { summarizeRun } from '../../../harness/metrics/run.ts'
import type { ErrorOutcome, OkOutcome, RequestOutcome } from '../../../harness/results.ts'

let seq = 0
function ok(): OkOutcome {
  const s = seq++
  return {
    state: 'ok',
    seq: s,
    promptIndex: 0,
    scheduledAt: s * 10,
    startedAt: s * 10,
    ttftMs: 5,
    e2eMs: 8,
    chunkGapsMs: [3],
    chunks: 2,
    outputTokens: 2,
    tokensSource: 'server',
  }
}
function err(kind: ErrorOutcome['error']['kind'], status?: number): ErrorOutcome {
  const s = seq++
  return {
    state: 'error',
    seq: s,
    promptIndex: 0,
    scheduledAt: s * 10,
    startedAt: s * 10,
    error: { kind, message: kind, ...(status !== undefined ? { status } : {}) },
  }
}
const times = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make)

describe('checkErrorRate', () => {
  // 160 ok + 40 × http 500: 40 / 200 = 0.2 exactly.
  const fifth: RequestOutcome[] = [...times(160, ok), ...times(40, () => err('http', 500))]

  it('exactly at the threshold passes; just under it fails, naming the kinds and counts', () => {
    const at = checkErrorRate(fifth, 0.2)
    expect(at, 'at 0.2').toMatchObject({ passed: true, errorRate: 0.2, attempted: 200, errors: 40 })
    expect(at.reason, 'no reason when passed').toBeUndefined()
    const under = checkErrorRate(fifth, 0.19)
    expect(under.passed, 'above 0.19').toBe(false)
    expect(under.reason, 'reason').toBe('error rate 20.0 % (40 of 200) > max 19 %: http 500 ×40')
    expect(under.errorCounts, 'counts').toEqual([{ kind: 'http', status: 500, count: 40 }])
  })

  it('compares the quotient, so a rate exactly at a threshold that rounds as a product still passes', () => {
    // 0.29 · 100 = 28.999999999999996 < 29: comparing errors with max · attempted would fail this run.
    const outcomes = [...times(71, ok), ...times(29, () => err('timeout'))]
    expect(checkErrorRate(outcomes, 0.29).passed, '29 of 100 at max 0.29').toBe(true)
    expect(checkErrorRate(outcomes, 0.28).passed, '29 of 100 at max 0.28').toBe(false)
  })

  it('leaves requests aborted by the interrupt out of numerator and denominator', () => {
    // 99 ok + 1 × http 500 + 50 aborted: 1 / 100 = 0.01 (counted in, it would read 51 / 150 = 0.34).
    const outcomes = [...times(99, ok), err('http', 500), ...times(50, () => err('aborted'))]
    const check = checkErrorRate(outcomes, 0.01)
    expect(check, 'aborted excluded').toMatchObject({
      passed: true,
      errorRate: 0.01,
      attempted: 100,
      errors: 1,
    })
    expect(check.errorCounts, 'no aborted group').toEqual([{ kind: 'http', status: 500, count: 1 }])
    const m = summarizeRun(outcomes)
    expect(m.errorRate, 'summarizeRun agrees').toBe(0.01)
    expect(m.attempted, 'summarizeRun attempted').toBe(100)
    expect(m.abortedRequests, 'summarizeRun abortedRequests').toBe(50)
    expect(m.errorsByKind, 'no aborted kind').toEqual({ http: 1 })
  })

  it('a run with nothing but aborted requests has errorRate 0 and passes even at 0', () => {
    const check = checkErrorRate(
      times(4, () => err('aborted')),
      0,
    )
    expect(check, 'nothing measured').toMatchObject({ passed: true, errorRate: 0, attempted: 0, errors: 0 })
  })

  it('max 0 fails on a single error; timeouts are errors', () => {
    const check = checkErrorRate([...times(999, ok), err('timeout')], 0)
    expect(check.passed, 'one timeout in 1000').toBe(false)
    expect(check.reason, 'reason').toBe('error rate 0.1 % (1 of 1000) > max 0 %: timeout ×1')
  })
})

describe('countErrors and formatErrorCounts', () => {
  it('group by kind and HTTP status, most frequent first, ties by label', () => {
    // 13 ok, http 500 ×3, timeout ×2, stream ×1, http 429 ×1, aborted ×2 (left out).
    const outcomes: RequestOutcome[] = [
      ...times(13, ok),
      err('stream'),
      err('http', 500),
      err('timeout'),
      err('aborted'),
      err('http', 429),
      err('http', 500),
      err('timeout'),
      err('aborted'),
      err('http', 500),
    ]
    const counts = countErrors(outcomes)
    expect(formatErrorCounts(counts), 'label').toBe('http 500 ×3, timeout ×2, http 429 ×1, stream ×1')
    const check = checkErrorRate(outcomes, 0.01)
    // 7 errors / (13 ok + 7 errors) = 0.35.
    expect(check.errorRate, '7 of 20').toBe(0.35)
    expect(check.reason, 'reason').toBe(
      'error rate 35.0 % (7 of 20) > max 1 %: http 500 ×3, timeout ×2, http 429 ×1, stream ×1',
    )
    expect(formatErrorCounts([]), 'none').toBe('none')
  })
})

describe('percent', () => {
  it('prints the threshold exactly and the rate with enough decimals to differ from it', () => {
    expect(percent(0.01), 'max 1 %').toBe('1 %')
    expect(percent(0.005), 'max 0.5 %').toBe('0.5 %')
    expect(percent(0.2, 0.01), 'far above').toBe('20.0 %')
    // 13 / 1250 = 1.04 %: at one decimal it would read "1.0 % > max 1 %".
    expect(percent(13 / 1250, 0.01), 'just above').toBe('1.04 %')
  })
})
