import { describe, expect, it } from 'vitest'
import { startMockServerInWorker } from '../../../harness/mock-server/worker.ts'
import { type Completion, chatBody, chunkText, post } from '../../helpers/sse-client.ts'

const contentArrivals = (res: Awaited<ReturnType<typeof post>>) =>
  res.data
    .map((d, i) => ({ d, at: res.arrivedMs[i]! }))
    .filter(({ d }) => d !== '[DONE]' && chunkText(JSON.parse(d) as Completion) !== '')
    .map(({ at }) => at)

describe('mock server in a worker thread', () => {
  it('serves, roughly honours the injected delays, and stops on close()', async () => {
    const server = await startMockServerInWorker({
      ttft: { kind: 'fixed', ms: 50 },
      itl: { kind: 'fixed', ms: 20 },
    })
    try {
      expect(server.url, 'url').toBe(`http://127.0.0.1:${server.port}/v1`)
      const res = await post(`${server.url}/chat/completions`, chatBody({ stream: true, max_tokens: 5 }))
      expect(res.data.at(-1), 'stream completes').toBe('[DONE]')
      const arrivals = contentArrivals(res)
      expect(arrivals.length, 'content chunks').toBe(5)
      // Lower bounds only: the deadlines are absolute, so nothing may come early; late is the host's noise.
      expect(arrivals[0]! - res.sentMs, 'TTFT ≥ 50 ms less clock slack').toBeGreaterThanOrEqual(45)
      // From the send, not from the first chunk: a late first chunk must not make the gaps look short.
      expect(arrivals[4]! - res.sentMs, 'TTFT + 4 gaps of 20 ms').toBeGreaterThanOrEqual(50 + 4 * 20 - 5)
    } finally {
      await server.close()
    }
    await expect(fetch(`${server.url}/models`), 'closed').rejects.toThrow()
  })

  it('random delays stay within their bounds', async () => {
    const server = await startMockServerInWorker({
      ttft: { kind: 'uniform', minMs: 30, maxMs: 40 },
      itl: { kind: 'lognormal', medianMs: 5, sigma: 0.3 },
    })
    try {
      const res = await post(`${server.url}/completions`, { prompt: 'a', stream: true, max_tokens: 3 })
      const arrivals = contentArrivals(res)
      expect(arrivals[0]! - res.sentMs, 'TTFT ≥ uniform minimum').toBeGreaterThanOrEqual(30 - 2)
      expect(arrivals.length, 'chunks').toBe(3)
    } finally {
      await server.close()
    }
  })

  it('rejects invalid options before starting a thread, naming the field', async () => {
    await expect(
      startMockServerInWorker({ ttft: { kind: 'uniform', minMs: 10, maxMs: 5 } }),
      'uniform bounds',
    ).rejects.toThrow(/ttft\.maxMs: maxMs must be ≥ minMs/)
  })
})
