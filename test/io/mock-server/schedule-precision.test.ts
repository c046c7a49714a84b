import { describe, expect, it } from 'vitest'
import { startMockServerInWorker } from '../../../harness/mock-server/worker.ts'
import { chatBody, get, metricValue, post } from '../../helpers/sse-client.ts'

// What must hold at many paced streams with the mock in its own thread: every stream gets every chunk, and
// the mock records one schedule sample per content chunk. The schedule error itself is a figure to read,
// not a timed assertion: `npm run bench:schedule` prints it (test/bench/schedule-precision.ts).
const STREAMS = 256
const TOKENS = 20

describe('mock server under many paced streams', () => {
  it(`${STREAMS} streams × 10 ms ITL: every chunk delivered, one schedule sample per chunk`, async () => {
    const server = await startMockServerInWorker({
      ttft: { kind: 'fixed', ms: 20 },
      itl: { kind: 'fixed', ms: 10 },
    })
    try {
      const responses = await Promise.all(
        Array.from({ length: STREAMS }, () =>
          post(`${server.url}/chat/completions`, chatBody({ stream: true, max_tokens: TOKENS })),
        ),
      )
      const incomplete = responses.filter(
        (res) =>
          res.data.filter((d) => d.includes('"content":"')).length !== TOKENS || res.data.at(-1) !== '[DONE]',
      )
      expect(incomplete.length, 'streams missing chunks or [DONE]').toBe(0)
      const metrics = (await get(server.url.replace('/v1', '/metrics'))).text
      expect(metricValue(metrics, 'mock_schedule_error_seconds_count'), 'one sample per content chunk').toBe(
        STREAMS * TOKENS,
      )
    } finally {
      await server.close()
    }
  })
})
