/**
 * How the runner times token events that carry the producing process's stamp (`atMs`, what an isolated
 * engine's child sends): with the system clock the stamps are the times, converted through
 * performance.timeOrigin and never before tSend or the previous chunk; with any other clock they are
 * ignored. The engine here is a stand-in that yields stamped events (the real child path is covered in
 * isolate.test.ts), so the expected times can be computed by hand.
 */
import { describe, expect, it } from 'vitest'
import { systemClock } from '../../harness/clock.ts'
import type { Engine, StreamEvent } from '../../harness/engines/engine.ts'
import { executeRequest } from '../../harness/request.ts'
import { createFakeClock } from '../helpers/fake-clock.ts'

/**
 * Yields token events stamped `offsetsMs` after the moment generate() runs (epoch ms), then done; the
 * first also says it was sent `sentOffsetMs` after that moment, when given.
 */
function stampingEngine(offsetsMs: readonly number[], sentOffsetMs?: number): Engine & { baseMs: number } {
  const engine = {
    baseMs: Number.NaN,
    info: {
      kind: 'llama-cpp' as const,
      model: 'stamps',
      capabilities: { logprobs: false, scoreChoices: false, tokenize: true, memory: false, draft: false },
    },
    async start() {},
    async *generate(): AsyncGenerator<StreamEvent> {
      engine.baseMs = performance.now()
      for (const [i, offset] of offsetsMs.entries())
        yield {
          type: 'token',
          text: 'x',
          tokens: 1,
          atMs: performance.timeOrigin + engine.baseMs + offset,
          ...(i === 0 && sentOffsetMs !== undefined
            ? { sentAtMs: performance.timeOrigin + engine.baseMs + sentOffsetMs }
            : {}),
        }
      yield { type: 'done', outputTokens: offsetsMs.length, tokensSource: 'tokenizer' }
    },
    async [Symbol.asyncDispose]() {},
  }
  return engine
}

const slot = { seq: 0, promptIndex: 0, scheduledAt: 0 }
const request = { prompt: 'p', maxTokens: 3 }
const never = new AbortController().signal

const onSystemClock = (engine: Engine) =>
  executeRequest(engine, request, slot, { clock: systemClock, origin: 0, timeoutMs: 60_000, signal: never })

describe('executeRequest with engine stamps', () => {
  it('system clock: chunk times are the stamps (gaps 2 and 3 ms, e2e − ttft = 5 ms)', async () => {
    const engine = stampingEngine([5, 7, 10])
    const o = await onSystemClock(engine)
    if (o.state !== 'ok') return expect.unreachable(JSON.stringify(o))
    // Epoch ms near 1.7e12 carry ~0.25 µs of float rounding: compare to 3 decimals (1 µs).
    expect(o.chunkGapsMs[0], 'gap 1').toBeCloseTo(2, 3)
    expect(o.chunkGapsMs[1], 'gap 2').toBeCloseTo(3, 3)
    expect(o.e2eMs - o.ttftMs, 'first → last').toBeCloseTo(5, 3)
    expect(o.ttftMs, 'ttft = stamp − tSend').toBeCloseTo(engine.baseMs + 5 - o.startedAt, 3)
  })

  it('system clock: a stamp before tSend or before the previous chunk is moved up to it', async () => {
    const engine = stampingEngine([-50, 4, 1])
    const o = await onSystemClock(engine)
    if (o.state !== 'ok') return expect.unreachable(JSON.stringify(o))
    expect(o.ttftMs, 'not negative').toBe(0)
    expect(o.chunkGapsMs[1], 'not negative').toBe(0)
    expect(o.e2eMs, 'last = the 4 ms stamp').toBeCloseTo(engine.baseMs + 4 - o.startedAt, 3)
  })

  it("system clock: the engine's own send stamp is tSend (TTFT and E2E count from it)", async () => {
    const engine = stampingEngine([5, 7, 10], 2)
    const o = await onSystemClock(engine)
    if (o.state !== 'ok') return expect.unreachable(JSON.stringify(o))
    expect(o.startedAt, 'tSend = the send stamp').toBeCloseTo(engine.baseMs + 2, 3)
    expect(o.ttftMs, 'ttft = 5 − 2').toBeCloseTo(3, 3)
    expect(o.e2eMs, 'e2e = 10 − 2').toBeCloseTo(8, 3)
  })

  it('system clock: a send stamp before our own tSend is not used', async () => {
    const engine = stampingEngine([5, 7, 10], -1_000)
    const o = await onSystemClock(engine)
    if (o.state !== 'ok') return expect.unreachable(JSON.stringify(o))
    expect(o.ttftMs, 'ttft = stamp − our tSend').toBeCloseTo(engine.baseMs + 5 - o.startedAt, 3)
    expect(o.ttftMs, 'not counted from a second earlier').toBeLessThan(1_000)
  })

  it('another clock: stamps are ignored, events are timed on arrival', async () => {
    const clock = createFakeClock(1000)
    const o = await executeRequest(stampingEngine([5, 7, 10]), request, slot, {
      clock,
      origin: 1000,
      timeoutMs: 60_000,
      signal: never,
    })
    if (o.state !== 'ok') return expect.unreachable(JSON.stringify(o))
    expect(o.ttftMs, 'fake time did not move').toBe(0)
    expect(o.chunkGapsMs, 'gaps').toEqual([0, 0])
  })
})
