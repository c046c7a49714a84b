/**
 * createTargetEngine: a target's engine from its validated config, through the engine registry (no switch
 * on the kind). A `mock:` target's mock server (harness/mock-server, in a worker thread) is started here,
 * not by the engine: the engine gets the mock's URL as its baseUrl, and the mock's options are stored with
 * the engine's (its literal apiKey redacted). Engines and the mock server never import each other.
 * @module
 */
import type { EngineConfig } from './config/schema.ts'
import type { CreatedEngine } from './engines/definition.ts'
import { requireEngineDefinition } from './engines/registry.ts'
import type { MockOptions } from './mock-server/options.ts'

export type { CreatedEngine } from './engines/definition.ts'

export async function createTargetEngine(
  config: EngineConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CreatedEngine> {
  const definition = requireEngineDefinition(config.kind)
  const { mock, ...engineConfig } = config as EngineConfig & { mock?: MockOptions }
  if (mock === undefined) return await definition.create(engineConfig, { env })
  const { startMockServerInWorker } = await import('./mock-server/worker.ts')
  const server = await startMockServerInWorker(mock)
  try {
    const created = await definition.create(engineConfig, { env, baseUrl: server.url })
    return {
      ...created,
      storedOptions: { ...created.storedOptions, mock: stripSecret(mock) },
      dispose: async () => {
        try {
          await created.dispose()
        } finally {
          await server.close()
        }
      },
    }
  } catch (err) {
    await server.close()
    throw err
  }
}

/** The mock's options as stored: its literal apiKey (a test key, still never stored) redacted. */
function stripSecret(options: MockOptions): Omit<MockOptions, 'apiKey'> & { apiKey?: string } {
  const { apiKey, ...rest } = options
  return apiKey === undefined ? rest : { ...rest, apiKey: '[redacted]' }
}
