/**
 * The shared engine conformance suite against the openai engine on the built-in mock server, with both
 * HTTP clients, so remote and native engines are held to the same behaviour.
 */
import { afterAll, beforeAll } from 'vitest'
import { createOpenAIEngine, OPENAI_CLIENTS } from '../../harness/engines/openai.ts'
import { type MockServerHandle, startMockServer } from '../../harness/mock-server/server.ts'
import { engineConformance } from '../helpers/engine-conformance.ts'

let server: MockServerHandle
beforeAll(async () => {
  server = await startMockServer(
    { ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 1 } },
    { port: 0 },
  )
})
afterAll(async () => {
  await server?.close()
})

for (const client of OPENAI_CLIENTS) {
  engineConformance(
    `openai (mock server, ${client})`,
    async () => createOpenAIEngine({ baseUrl: server.url, model: 'mock-model', api: 'completions', client }),
    [],
    {
      // Port 9 (discard) on loopback: nothing listens, so the probe fails to connect.
      createBroken: () =>
        createOpenAIEngine({
          baseUrl: 'http://127.0.0.1:9/v1',
          model: 'absent-model',
          api: 'completions',
          client,
        }),
      brokenNames: 'absent-model',
    },
  )
}
