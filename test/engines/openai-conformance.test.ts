/**
 * The shared engine conformance suite against the openai engine on the built-in mock server: every HTTP
 * client against every personality (default, llama-server — which closes the connection after each
 * streamed response —, vllm), so remote and native engines are held to the same behaviour and no client
 * loses a request to a server that behaves like a real one.
 */
import { afterAll, beforeAll } from 'vitest'
import { createOpenAIEngine, OPENAI_CLIENTS } from '../../harness/engines/openai.ts'
import { PERSONALITIES } from '../../harness/mock-server/options.ts'
import { type MockServerHandle, startMockServer } from '../../harness/mock-server/server.ts'
import { engineConformance } from '../helpers/engine-conformance.ts'

for (const personality of PERSONALITIES) {
  let server: MockServerHandle
  beforeAll(async () => {
    server = await startMockServer(
      { personality, ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 1 } },
      { port: 0 },
    )
  })
  afterAll(async () => {
    await server?.close()
  })

  for (const client of OPENAI_CLIENTS) {
    engineConformance(
      `openai (mock server ${personality}, ${client})`,
      async () =>
        createOpenAIEngine({ baseUrl: server.url, model: 'mock-model', api: 'completions', client }),
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
}
