import { describe, expect, it } from 'vitest'
import {
  judgeAuth,
  judgeDecode,
  judgeErrorRate,
  judgeHealth,
  judgeQps,
  judgeRateLimit,
  judgeStreaming,
  judgeTls,
  judgeTtft,
  judgeUsage,
  verdictScore,
} from '../../../harness/checklist/items.ts'

describe('checklist verdicts from given numbers', () => {
  it('TTFT: at the bound passes, above fails, no bound is informational, nothing measured fails', () => {
    expect(judgeTtft('ttft-p95', 500, 500, 4)).toMatchObject({
      verdict: 'PASS',
      value: '500.0 ms',
      threshold: '≤ 500 ms',
    })
    const over = judgeTtft('ttft-p95', 512.34, 500, 4)
    expect(over.verdict).toBe('FAIL')
    expect(over.note).toBe('at concurrency 4: 512.3 ms > 500 ms')
    expect(judgeTtft('ttft-p50', 9999, undefined, 4)).toMatchObject({ verdict: 'PASS', threshold: '—' })
    expect(judgeTtft('ttft-p99', undefined, 1000, 4)).toMatchObject({ verdict: 'FAIL', value: '—' })
  })

  it('decode speed and QPS: below the floor fails, at it passes; zero QPS fails even without a floor', () => {
    expect(judgeDecode(9.99, 10, 4).verdict).toBe('FAIL')
    expect(judgeDecode(10, 10, 4).verdict).toBe('PASS')
    expect(judgeDecode(undefined, 10, 4).verdict).toBe('FAIL')
    expect(judgeQps(2.5, 3, 4).verdict).toBe('FAIL')
    expect(judgeQps(3, 3, 4).verdict).toBe('PASS')
    expect(judgeQps(0, undefined, 4).verdict).toBe('FAIL')
    expect(judgeQps(1.234, undefined, 4)).toMatchObject({
      verdict: 'PASS',
      value: '1.23 requests/s',
      threshold: '—',
    })
  })

  it('error rate: 1 of 100 passes at 1 %, 2 of 100 fails with the statuses; nothing sent fails', () => {
    expect(judgeErrorRate(1, 100, 0.01, 'http 500 ×1')).toMatchObject({
      verdict: 'PASS',
      value: '1 % (1 of 100)',
      number: 0.01,
    })
    expect(judgeErrorRate(2, 100, 0.01, 'http 429 ×2')).toMatchObject({
      verdict: 'FAIL',
      note: 'http 429 ×2',
    })
    expect(judgeErrorRate(0, 0, 0.01, 'none', 'http://h/v1 requires an API key (HTTP 401)')).toMatchObject({
      verdict: 'FAIL',
      note: 'no request was sent: http://h/v1 requires an API key (HTTP 401)',
    })
  })

  it('health: the first 2xx passes; none fails naming what each route answered', () => {
    expect(judgeHealth([{ path: '/health', status: 200 }])).toMatchObject({
      verdict: 'PASS',
      value: '/health HTTP 200',
    })
    expect(
      judgeHealth([
        { path: '/health', status: 404 },
        { path: '/v1/models', status: 200 },
      ]),
    ).toMatchObject({ verdict: 'PASS', value: '/v1/models HTTP 200' })
    const down = judgeHealth([
      { path: '/health', error: 'ECONNREFUSED' },
      { path: '/v1/models', status: 503 },
    ])
    expect(down.verdict).toBe('FAIL')
    expect(down.note).toBe('no health route answered: /health ECONNREFUSED; /v1/models HTTP 503')
  })

  it('auth: 401 and 403 pass, 200 fails (anyone can call it), anything else warns', () => {
    expect(judgeAuth({ status: 401 }, true).verdict).toBe('PASS')
    expect(judgeAuth({ status: 403 }, false).verdict).toBe('PASS')
    expect(judgeAuth({ status: 403 }, false).note).toMatch(/--api-key-env/)
    const open = judgeAuth({ status: 200 }, false)
    expect(open.verdict).toBe('FAIL')
    expect(open.note).toMatch(/anyone can call this endpoint/)
    expect(judgeAuth({ status: 404 }, true)).toMatchObject({ verdict: 'WARN', value: 'HTTP 404' })
    expect(judgeAuth({ error: 'no answer within 5000 ms' }, true)).toMatchObject({
      verdict: 'WARN',
      value: '—',
    })
  })

  it('rate limit: a 429 passes with where it came; none warns saying the burst size', () => {
    expect(judgeRateLimit({ maxRequests: 100, sent: 30, first429At: 21, durationMs: 120 })).toMatchObject({
      verdict: 'PASS',
      value: '429 at request 21',
    })
    const none = judgeRateLimit({ maxRequests: 100, sent: 100, durationMs: 2500 })
    expect(none.verdict).toBe('WARN')
    expect(none.note).toBe('no rate limit seen: a burst of 100 requests in 2.5 s got no 429')
    expect(none.threshold).toBe('HTTP 429 within 100 requests')
    expect(judgeRateLimit({ maxRequests: 100, sent: 0, durationMs: 3, startError: 'refused' })).toMatchObject(
      {
        verdict: 'WARN',
        note: 'not measured: the burst sent no request (refused)',
      },
    )
  })

  it('streaming: one chunk fails, chunks all at once fail, spread chunks pass; usage: all, some, none', () => {
    expect(judgeStreaming([{ chunks: 1, spreadMs: 0 }]).verdict).toBe('FAIL')
    expect(judgeStreaming([{ chunks: 32, spreadMs: 0.2 }]).note).toMatch(/buffered/)
    expect(
      judgeStreaming([
        { chunks: 32, spreadMs: 90 },
        { chunks: 30, spreadMs: 80 },
        { chunks: 1, spreadMs: 0 },
      ]),
    ).toMatchObject({ verdict: 'PASS', value: '30 chunks over 80.0 ms' })
    expect(judgeStreaming([]).verdict).toBe('FAIL')
    expect(judgeUsage(4, 4).verdict).toBe('PASS')
    expect(judgeUsage(2, 4)).toMatchObject({ verdict: 'WARN', value: '2 of 4' })
    expect(judgeUsage(0, 4).verdict).toBe('WARN')
    expect(judgeUsage(0, 0).verdict).toBe('FAIL')
  })

  it('TLS: https passes, http to loopback is exempt, http elsewhere warns', () => {
    expect(judgeTls(new URL('https://api.example.com/v1')).verdict).toBe('PASS')
    expect(judgeTls(new URL('http://127.0.0.1:8000/v1')).note).toBe('exempt: 127.0.0.1 is loopback')
    expect(judgeTls(new URL('http://[::1]:8000/v1')).verdict).toBe('PASS')
    expect(judgeTls(new URL('http://localhost:8000/v1')).verdict).toBe('PASS')
    const plain = judgeTls(new URL('http://10.0.0.5:8000/v1'))
    expect(plain.verdict).toBe('WARN')
    expect(plain.note).toMatch(/unencrypted/)
  })

  it('stored scores: 1 pass, 0.5 warn, 0 fail', () => {
    expect([verdictScore('PASS'), verdictScore('WARN'), verdictScore('FAIL')]).toEqual([1, 0.5, 0])
  })
})
