import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runHttpLoad, UNREACHABLE_ERRORS } from '../../../harness/http-load/run.ts'
import type { MockServerHandle } from '../../../harness/mock-server/server.ts'
import { startMockServerInWorker } from '../../../harness/mock-server/worker.ts'
import { freePort } from '../../helpers/free-port.ts'

/**
 * runHttpLoad (autocannon) against the mock in a worker thread and a server that never answers, loopback
 * only; every load bounded to ≤ 2 s. The mock answers a non-streamed request after its TTFT (20 ms) and
 * the inter-token delays (1 ms × 3): no latency below 20 ms is possible.
 */
let mock: MockServerHandle
let silent: Server
let silentUrl: string
beforeAll(async () => {
  mock = await startMockServerInWorker({ ttft: { kind: 'fixed', ms: 20 }, itl: { kind: 'fixed', ms: 1 } })
  // Reads requests, never answers: every request times out.
  silent = createServer(() => {})
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1/chat/completions`
})
afterAll(async () => {
  await mock?.close()
  silent?.closeAllConnections()
  await new Promise((resolve) => silent?.close(resolve))
})

const chat = (position: number) => ({
  body: JSON.stringify({
    model: 'mock-model',
    messages: [{ role: 'user', content: `prompt ${position}` }],
    max_tokens: 4,
    stream: false,
  }),
  promptIndex: position,
})

describe('runHttpLoad', () => {
  it('--requests: exactly that many, each measured once, in send order, autocannon agreeing', async () => {
    const r = await runHttpLoad({
      url: `${mock.url}/chat/completions`,
      headers: { 'content-type': 'application/json' },
      body: chat,
      connections: 4,
      requests: 40,
      durationS: 20,
      timeoutS: 5,
    })
    expect(r.stoppedBy).toBe('requests')
    expect(r.samples.map((s) => s.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i))
    expect(r.samples.map((s) => s.promptIndex)).toEqual(Array.from({ length: 40 }, (_, i) => i))
    expect(r.samples.every((s) => s.state === 'ok')).toBe(true)
    expect(r.autocannon.responses, 'autocannon counted the same responses').toBe(40)
    expect(r.autocannon.statusCodeStats).toEqual({ '200': { count: 40 } })
    expect(r.unfinished).toBe(0)
    for (const s of r.samples) {
      if (s.state !== 'ok') continue
      expect(s.latencyMs, `request ${s.seq}: the mock waits 20 ms before answering`).toBeGreaterThanOrEqual(
        20,
      )
      expect(s.outputTokens, `request ${s.seq}: usage of the non-streamed body`).toBe(4)
    }
    // Four connections, one request in flight each: no two sends of a connection overlap, so at most four
    // requests are in flight at any send.
    const ends = r.samples.map((s) => (s.state === 'ok' ? s.startedAt + s.latencyMs : 0))
    for (const s of r.samples) {
      const inFlight = r.samples.filter((x) => x.startedAt <= s.startedAt && ends[x.seq]! > s.startedAt)
      expect(inFlight.length, `in flight at send ${s.seq}`).toBeLessThanOrEqual(4)
    }
  })

  it('--duration stops by itself; --rate holds the count to the budget', async () => {
    const started = performance.now()
    const free = await runHttpLoad({
      url: `${mock.url}/chat/completions`,
      headers: { 'content-type': 'application/json' },
      body: chat,
      connections: 2,
      durationS: 1,
      timeoutS: 5,
    })
    expect(free.stoppedBy).toBe('duration')
    // autocannon looks at its stop flag once a second.
    expect(performance.now() - started).toBeLessThan(3000)
    expect(free.samples.length).toBe(free.autocannon.responses)
    expect(free.samples.length + free.unfinished).toBe(free.autocannon.sent)
    const rated = await runHttpLoad({
      url: `${mock.url}/chat/completions`,
      headers: { 'content-type': 'application/json' },
      body: chat,
      connections: 2,
      ratePerS: 4,
      durationS: 1,
      timeoutS: 5,
    })
    // 4 per second: the first second's budget and perhaps the next's before the stop is seen.
    expect(rated.samples.length).toBeGreaterThanOrEqual(4)
    expect(rated.samples.length).toBeLessThanOrEqual(8)
    // Unpaced, two connections at ~25 ms a request make far more in the same second.
    expect(free.samples.length).toBeGreaterThan(rated.samples.length * 2)
  })

  it('a server that never answers: every request a timeout after --timeout, the load still ends', async () => {
    const started = performance.now()
    const r = await runHttpLoad({
      url: silentUrl,
      headers: { 'content-type': 'application/json' },
      body: chat,
      connections: 2,
      durationS: 1.5,
      timeoutS: 1,
    })
    expect(performance.now() - started).toBeLessThan(5000)
    expect(r.samples.length).toBeGreaterThanOrEqual(2)
    expect(r.samples.length, 'one timeout sample per autocannon timeout').toBe(r.autocannon.timeouts)
    for (const s of r.samples) {
      expect(s.state).toBe('timeout')
      if (s.state === 'timeout') expect(s.afterMs, `request ${s.seq}`).toBeGreaterThanOrEqual(990)
    }
  })

  it('a refused endpoint: stopped as unreachable after UNREACHABLE_ERRORS connection errors, not at the duration', async () => {
    const port = await freePort()
    const r = await runHttpLoad({
      url: `http://127.0.0.1:${port}/v1/chat/completions`,
      headers: { 'content-type': 'application/json' },
      body: chat,
      connections: 2,
      durationS: 30,
      timeoutS: 5,
    })
    expect(r.stoppedBy).toBe('unreachable')
    expect(r.samples.length, 'the retries after the stop are not more requests').toBe(UNREACHABLE_ERRORS)
    for (const s of r.samples)
      expect(s).toMatchObject({ state: 'connection-error', message: 'request failed: ECONNREFUSED' })
  })

  it('an abort signal stops it early', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    const started = performance.now()
    const r = await runHttpLoad({
      url: `${mock.url}/chat/completions`,
      headers: { 'content-type': 'application/json' },
      body: chat,
      connections: 2,
      durationS: 30,
      timeoutS: 5,
      signal: controller.signal,
    })
    expect(r.stoppedBy).toBe('signal')
    expect(performance.now() - started).toBeLessThan(2500)
  })
})
