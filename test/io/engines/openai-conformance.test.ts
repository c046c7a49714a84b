/**
 * The shared engine conformance suite against the openai engine on the built-in mock server: every HTTP
 * client against every personality (default, llama-server — which closes the connection after each
 * streamed response —, vllm), so remote and native engines are held to the same behaviour and no client
 * loses a request to a server that behaves like a real one. The lean clients run twice: iterated, and
 * consumed through pushEvents() as the runner consumes them (re-offered as iteration by `pushed`).
 */
import { afterAll, beforeAll } from 'vitest'
import { canPushEvents, type Engine, type StreamEvent } from '../../../harness/engines/engine.ts'
import {
  createOpenAIEngine,
  OPENAI_CLIENTS,
  type OpenAIClient,
} from '../../../harness/engines/openai/openai.ts'
import { PERSONALITIES } from '../../../harness/mock-server/options.ts'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import { engineConformance } from '../../helpers/engine-conformance.ts'

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

  type Mode = 'iterated' | 'pushed'
  const modes = OPENAI_CLIENTS.flatMap((client): [OpenAIClient, Mode][] =>
    client === 'sdk'
      ? [[client, 'iterated']]
      : [
          [client, 'iterated'],
          [client, 'pushed'],
        ],
  )
  for (const [client, mode] of modes) {
    const wrap = mode === 'pushed' ? pushed : (engine: Engine) => engine
    engineConformance(
      `openai (mock server ${personality}, ${client}${mode === 'pushed' ? ', pushEvents' : ''})`,
      async () =>
        wrap(createOpenAIEngine({ baseUrl: server.url, model: 'mock-model', api: 'completions', client })),
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

/**
 * The engine with every generate() consumed through pushEvents(), the runner's way, and handed on as
 * iteration: events are copied as pushed (a pushed token event may be refilled for the next one), queued,
 * and given out in order. Like the runner, it takes nothing more once the signal is aborted.
 */
function pushed(engine: Engine): Engine {
  return Object.assign(Object.create(engine) as Engine, {
    async *generate(request: Parameters<Engine['generate']>[0], signal: AbortSignal) {
      const stream = engine.generate(request, signal)
      if (!canPushEvents(stream)) throw new Error('this client offers no pushEvents()')
      const queue: StreamEvent[] = []
      let wake: (() => void) | undefined
      const settled = stream
        .pushEvents((event) => {
          queue.push({ ...event })
          wake?.()
        })
        .then(
          () => ({ ended: true as const }),
          (error: unknown) => ({ ended: false as const, error }),
        )
      let outcome: Awaited<typeof settled> | undefined
      void settled.then((o) => {
        outcome = o
        wake?.()
      })
      for (;;) {
        if (signal.aborted) {
          // The stream must end with the reason by itself, whatever it had decoded.
          const end = await settled
          throw end.ended ? new Error('pushEvents() resolved after an abort') : end.error
        }
        const event = queue.shift()
        if (event !== undefined) {
          yield event
          continue
        }
        if (outcome !== undefined) {
          if (outcome.ended) return
          throw outcome.error
        }
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        wake = undefined
      }
    },
  })
}
