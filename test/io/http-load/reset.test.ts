import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runHttpLoad } from '../../../harness/http-load/run.ts'

/**
 * Connections reset mid-load while others wait on slow answers: every 5th request's connection is reset at
 * once (ECONNRESET, a connection error), the others answered after ANSWER_MS. autocannon
 * reports a connection error without its request; it must be charged to the request of the connection
 * that failed, not to an older request still waiting on another connection (whose response would then
 * go uncounted).
 */
/** Every answer's delay, ms: a request charged with another connection's reset would be this old. */
const ANSWER_MS = 200

let server: Server
let url: string
/** What every 5th request gets: its connection reset (RST) or closed (FIN) without an answer. */
let drop: 'reset' | 'close' = 'reset'
beforeAll(async () => {
  let n = 0
  server = createServer((req, res) => {
    const i = n++
    req.resume()
    req.on('end', () => {
      if (i % 5 === 4) {
        if (drop === 'reset') req.socket.resetAndDestroy()
        else req.socket.end()
        return
      }
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"usage":{"prompt_tokens":1,"completion_tokens":2}}')
      }, ANSWER_MS)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`
})
afterAll(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
})

describe('runHttpLoad with connection resets', () => {
  it('every response counted, every reset one connection error of its own connection', async () => {
    const r = await runHttpLoad({
      url,
      headers: { 'content-type': 'application/json' },
      body: (position) => ({ body: `{"n":${position}}`, promptIndex: position }),
      connections: 4,
      durationS: 1.5,
      timeoutS: 5,
    })
    const ok = r.samples.filter((s) => s.state === 'ok')
    const resets = r.samples.filter((s) => s.state === 'connection-error')
    expect(ok.length, 'autocannon counted the same responses').toBe(r.autocannon.responses)
    expect(resets.length, 'one sample per connection error').toBe(r.autocannon.errors)
    expect(resets.length).toBeGreaterThan(0)
    for (const s of ok)
      if (s.state === 'ok') expect(s.latencyMs, `request ${s.seq}`).toBeGreaterThanOrEqual(ANSWER_MS - 1)
    // A reset comes at once: charged to its own request it is ~0 ms old (an event-loop stall aside), never
    // one of the requests waiting up to ANSWER_MS on the other connections.
    for (const s of resets)
      if (s.state === 'connection-error') expect(s.afterMs, `reset ${s.seq}`).toBeLessThan(ANSWER_MS / 2)
  })

  it('a connection closed without an answer (FIN): its request an error, not left unanswered at the stop', async () => {
    drop = 'close'
    const r = await runHttpLoad({
      url,
      headers: { 'content-type': 'application/json' },
      body: (position) => ({ body: `{"n":${position}}`, promptIndex: position }),
      connections: 4,
      durationS: 1.5,
      timeoutS: 5,
    })
    const ok = r.samples.filter((s) => s.state === 'ok')
    const closed = r.samples.filter((s) => s.state === 'connection-error')
    expect(ok.length, 'autocannon counted the same responses').toBe(r.autocannon.responses)
    // autocannon reconnects at the FIN and sends the next request: no error of its own.
    expect(r.autocannon.errors).toBe(0)
    expect(closed.length).toBeGreaterThan(0)
    for (const s of closed)
      expect(s).toMatchObject({ message: 'connection closed by the server before the response' })
    expect(r.unfinished, 'at most one request per connection in flight at the stop').toBeLessThanOrEqual(4)
    expect(r.samples.length + r.unfinished, 'every request sent is a sample or in flight').toBe(
      r.autocannon.sent,
    )
  })
})
