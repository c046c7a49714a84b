/**
 * No request lost to a server that closes a kept-alive connection (issue: llama-server sends FIN ~1 ms
 * after every streamed response while advertising Keep-Alive). Every client, through the runner, against
 * a loopback server that closes after each streamed response: 200 sequential and 200 at concurrency 8,
 * zero errors, the retries counted per request and in the run figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseScenario } from '../../../harness/config/index.ts'
import { OPENAI_CLIENTS } from '../../../harness/engines/openai/openai.ts'
import { runScenario } from '../../../harness/runner.ts'
import { type ClosingServer, startClosingServer } from '../../helpers/closing-server.ts'
import { createMemorySink } from '../../helpers/memory-sink.ts'

const loads = [
  { name: 'sequential', load: { kind: 'sequential', requests: 200 } },
  { name: 'concurrency 8', load: { kind: 'concurrent', concurrency: 8, requests: 200 } },
] as const

// 1 ms as llama-server; 10 ms lets a client as slow between requests as the openai SDK meet the close too.
describe.each([1, 10])(
  'a server that closes the connection %d ms after every streamed response',
  (closeDelayMs) => {
    let server: ClosingServer
    beforeAll(async () => {
      server = await startClosingServer({ closeDelayMs })
    })
    afterAll(async () => {
      await server?.close()
    })
    for (const client of OPENAI_CLIENTS) {
      for (const { name, load } of loads) {
        it(`${client}, ${name}: every request succeeds; lost ones are retried and counted`, async () => {
          const lostBefore = server.lostGenerations
          const sink = createMemorySink()
          const scenario = parseScenario({
            name: 'closing-server',
            prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
            targets: [
              {
                name: client,
                engine: { kind: 'openai', baseUrl: server.url, model: 'closing-model', client },
              },
            ],
            loads: [load],
            warmupRequests: 0,
            requestTimeoutMs: 10_000,
          })
          const result = await runScenario({ scenario, baseDir: '.', sink })
          const run = sink.runs[0]!
          const errors = run.outcomes.filter((o) => o.state === 'error')
          expect(errors.map((o) => o.state === 'error' && o.error.message).slice(0, 3), 'no errors').toEqual(
            [],
          )
          expect(run.outcomes.length, 'every request recorded').toBe(200)
          expect(result.state, 'scenario state').toBe('completed')
          const retried = run.outcomes.reduce((n, o) => n + (o.connectionRetries ?? 0), 0)
          expect(run.metrics?.connectionRetries, 'run figure = Σ per-request retries').toBe(retried)
          for (const o of run.outcomes)
            expect(o.connectionRetries ?? 0, 'a request is retried at most once').toBeLessThanOrEqual(1)
          // Generation requests only: the engine's GET /models at start may meet the socket the previous
          // test left closing in the pool (it failed once 91 vs 92 in CI); that retry is not a request's.
          const lost = server.lostGenerations - lostBefore
          expect(retried, 'each request the server dropped unanswered was sent again and counted').toBe(lost)
        }, 60_000)
      }
    }
  },
)
