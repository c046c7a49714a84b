/**
 * The clientClock option: delays count from the client's x-bench-sent-at stamp (machine-monotonic ms)
 * instead of the mock's arrival stamp, and implausible stamps fall back to the arrival.
 */
import { describe, expect, it } from 'vitest'
import { monotonicMs } from '../../../harness/clock.ts'
import { clientSendTime, createMockApp } from '../../../harness/mock-server/app.ts'
import { parseMockOptions } from '../../../harness/mock-server/parse-options.ts'
import { SENT_AT_HEADER } from '../../../harness/openai-wire.ts'

describe('clientSendTime', () => {
  it('converts a plausible stamp and falls back to the arrival otherwise', () => {
    const arrival = performance.now()
    const sent = monotonicMs() - 30
    const anchored = clientSendTime(sent.toFixed(3), arrival)
    expect(arrival - anchored, '30 ms before the arrival (± the time between the two readings)').toBeCloseTo(
      30,
      0,
    )
    expect(clientSendTime(undefined, arrival), 'no header').toBe(arrival)
    expect(clientSendTime('soon', arrival), 'not a number').toBe(arrival)
    expect(clientSendTime(String(monotonicMs() + 5), arrival), 'in the future').toBe(arrival)
    expect(clientSendTime(String(monotonicMs() - 60_000), arrival), 'another machine').toBe(arrival)
  })
})

describe('mock with clientClock', () => {
  const body = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 2 })
  /**
   * Sends a request stamped `ageMs` before now; returns the mock's prompt_ms (first write − its TTFT
   * origin) and how long this caller waited for the first content.
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
      if (waitedMs === undefined && text.includes('"content":"')) waitedMs = performance.now() - t0
    }
    return { promptMs: Number(/"prompt_ms":([0-9.]+)/.exec(text)?.[1]), waitedMs: waitedMs ?? Number.NaN }
  }

  it('counts TTFT from the client stamp, never writing before the deadline', async () => {
    const options = { ttft: { kind: 'fixed', ms: 50 }, itl: { kind: 'fixed', ms: 1 } } as const
    const anchored = createMockApp(parseMockOptions({ ...options, clientClock: true }))
    const plain = createMockApp(parseMockOptions(options))
    try {
      // Stamped 30 ms ago: the mock's TTFT clock started 30 ms before this caller's.
      const a = await firstContent(anchored.app, 30)
      expect(a.promptMs, 'not before the injected TTFT').toBeGreaterThanOrEqual(50)
      expect(a.promptMs - a.waitedMs, 'the mock counted the 30 ms before the request').toBeGreaterThan(20)
      const p = await firstContent(plain.app, 30)
      expect(p.promptMs, 'not before the injected TTFT').toBeGreaterThanOrEqual(50)
      expect(p.promptMs - p.waitedMs, 'without the option the header is ignored').toBeLessThan(10)
    } finally {
      anchored.close()
      plain.close()
    }
  })
})
