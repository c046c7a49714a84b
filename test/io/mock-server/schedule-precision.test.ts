import { describe, expect, it } from 'vitest'
import { startMockServerInWorker } from '../../../harness/mock-server/worker.ts'
import { chatBody, get, metricValue, post } from './sse-client.ts'

// Prints the mock's own schedule error (chunk write time − deadline, measured inside the mock) at
// 256 streams × 10 ms ITL with the mock in its own thread. A figure to read, not a timed assertion: the
// test asserts only that every stream delivered every chunk.
const STREAMS = 256
const TOKENS = 50
const ROUNDS = 2

describe('mock server schedule precision', () => {
  it(`${STREAMS} streams × 10 ms ITL: every chunk delivered; prints the schedule error`, async () => {
    const server = await startMockServerInWorker({
      ttft: { kind: 'fixed', ms: 20 },
      itl: { kind: 'fixed', ms: 10 },
    })
    try {
      const gapsMs: number[] = []
      let incomplete = 0
      const stream = async () => {
        for (let round = 0; round < ROUNDS; round++) {
          const res = await post(
            `${server.url}/chat/completions`,
            chatBody({ stream: true, max_tokens: TOKENS }),
          )
          const content = res.arrivedMs.filter((_, i) => res.data[i]!.includes('"content":"'))
          if (content.length !== TOKENS || res.data.at(-1) !== '[DONE]') incomplete++
          for (let i = 1; i < content.length; i++) gapsMs.push(content[i]! - content[i - 1]!)
        }
      }
      await Promise.all(Array.from({ length: STREAMS }, stream))
      expect(incomplete, 'streams missing chunks').toBe(0)

      const metrics = (await get(server.url.replace('/v1', '/metrics'))).text
      const ms = (q: string) =>
        (metricValue(metrics, `mock_schedule_error_seconds{quantile="${q}"}`) ?? Number.NaN) * 1000
      const count = metricValue(metrics, 'mock_schedule_error_seconds_count')
      expect(count, 'one schedule sample per content chunk').toBe(STREAMS * ROUNDS * TOKENS)
      gapsMs.sort((a, b) => a - b)
      const at = (p: number) => gapsMs[Math.min(gapsMs.length - 1, Math.floor(p * gapsMs.length))]!
      console.log(
        `mock schedule error (write − deadline, inside the mock thread), ${STREAMS} streams × 10 ms ITL, ` +
          `${count} chunks: p50 ${ms('0.5').toFixed(3)} ms, p90 ${ms('0.9').toFixed(3)} ms, p99 ${ms('0.99').toFixed(3)} ms, ` +
          `p99.9 ${ms('0.999').toFixed(3)} ms\n` +
          `client-observed chunk gaps (this test's client, same process): p1 ${at(0.01).toFixed(3)} ms, ` +
          `p50 ${at(0.5).toFixed(3)} ms, p99 ${at(0.99).toFixed(3)} ms`,
      )
    } finally {
      await server.close()
    }
  })
})
