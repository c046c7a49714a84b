/**
 * The clientClock option: delays count from the client's x-bench-sent-at stamp (machine-monotonic ms)
 * instead of the mock's arrival stamp, and implausible stamps fall back to the arrival.
 *
 * No wall-clock bound (how late or early something happened on this box): every assertion follows from
 * the order of events — a stamp taken before the request, the mock's first write before the caller reads
 * it — so a loaded machine cannot fail it. How closely the mock keeps its deadlines is `bench selftest`'s.
 */
import { describe, expect, it } from 'vitest'
import { fromMonotonicMs, monotonicMs } from '../../../harness/clock.ts'
import { clientSendTime, createMockApp } from '../../../harness/mock-server/app.ts'
import { parseMockOptions } from '../../../harness/mock-server/parse-options.ts'
import { SENT_AT_HEADER } from '../../../harness/openai-wire.ts'

describe('clientSendTime', () => {
  it('converts a plausible stamp and falls back to the arrival otherwise', () => {
    // One reading for both the arrival and the stamps: the expectations are exact, whatever the load.
    const nowMono = monotonicMs()
    const arrival = fromMonotonicMs(nowMono)
    const at = (ageMs: number) => clientSendTime((nowMono - ageMs).toFixed(3), arrival)
    expect(arrival - at(30), '30 ms before the arrival (± the header’s 0.001 ms rounding)').toBeCloseTo(30, 2)
    expect(arrival - at(9_999), 'just under the 10 s age limit').toBeCloseTo(9_999, 2)
    expect(clientSendTime(undefined, arrival), 'no header').toBe(arrival)
    expect(clientSendTime('soon', arrival), 'not a number').toBe(arrival)
    expect(at(-5), 'in the future').toBe(arrival)
    expect(at(60_000), 'another machine (older than 10 s)').toBe(arrival)
  })
})

describe('mock with clientClock', () => {
  const body = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 2 })
  const options = { ttft: { kind: 'fixed', ms: 50 }, itl: { kind: 'fixed', ms: 1 } } as const
  /**
   * Sends a request stamped `ageMs` before now; returns the mock's prompt_ms (its first content write −
   * its TTFT origin) and how long this caller waited, from before the stamp to reading the first
   * non-empty content (so after the mock wrote it).
   */
  async function firstContent(app: ReturnType<typeof createMockApp>['app'], ageMs: number) {
    const t0 = performance.now()
    const res = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SENT_AT_HEADER]: (monotonicMs() - ageMs).toFixed(3) },
      body,
    })
    const decoder = new TextDecoder()
    let text = ''
    let waitedMs: number | undefined
    for await (const part of res.body ?? []) {
      text += decoder.decode(part, { stream: true })
      if (waitedMs === undefined && /"content":"[^"]/.test(text)) waitedMs = performance.now() - t0
    }
    return { promptMs: Number(/"prompt_ms":([0-9.]+)/.exec(text)?.[1]), waitedMs: waitedMs ?? Number.NaN }
  }

  it('counts TTFT from the client stamp, never writing before the deadline', async () => {
    const anchored = createMockApp(parseMockOptions({ ...options, clientClock: true }))
    try {
      // Stamped 200 ms ago, longer than the TTFT: the origin is the stamp, so prompt_ms covers the 200 ms
      // before the request (the arrival would give ≥ 50 only), and it is no earlier than the stamp: the
      // write came before this caller read it, at most waitedMs after a stamp 200 ms before t0.
      const old = await firstContent(anchored.app, 200)
      expect(old.promptMs, 'counted from the stamp, 200 ms before the request').toBeGreaterThanOrEqual(199.99)
      expect(old.promptMs, 'not from before the stamp').toBeLessThanOrEqual(old.waitedMs + 200.01)
      // Stamped 30 ms ago: the deadline (stamp + 50 ms) is still ahead; the first content never precedes it.
      const young = await firstContent(anchored.app, 30)
      expect(young.promptMs, 'not before the injected TTFT').toBeGreaterThanOrEqual(50)
      expect(young.promptMs, 'not from before the stamp').toBeLessThanOrEqual(young.waitedMs + 30.01)
    } finally {
      anchored.close()
    }
  })

  it('ignores the stamp without the option: TTFT counts from the arrival', async () => {
    const plain = createMockApp(parseMockOptions(options))
    try {
      const p = await firstContent(plain.app, 200)
      expect(p.promptMs, 'not before the injected TTFT').toBeGreaterThanOrEqual(50)
      // The arrival follows t0 and the write precedes the read, so prompt_ms ≤ waitedMs; counted from the
      // stamp it would be ≥ 200 ms while this caller waited about 50.
      expect(p.promptMs, 'from the arrival, not the 200-ms-old stamp').toBeLessThanOrEqual(p.waitedMs)
    } finally {
      plain.close()
    }
  })
})
