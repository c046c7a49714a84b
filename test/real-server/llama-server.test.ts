/**
 * The openai engine against a real llama-server (built from the llama.cpp source node-llama-cpp ships, by
 * build-llama-cpp.sh) on the bench Q4_0 fixture: every client, sequential on `--parallel 1` and
 * concurrency 4 on `--parallel 4`. llama-server closes the connection ~1 ms after every streamed
 * response although it advertises keep-alive, so this is where a client that reuses connections without
 * care loses requests. Zero errors; server usage and `timings` on every request; `/health` answers.
 *
 * Without the cached build the suite is skipped with the reason (plain `npm test` on a fresh machine);
 * under CI (`CI` set), where .ci/run builds it first, a missing build fails instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseScenario } from '../../harness/config/index.ts'
import { OPENAI_CLIENTS } from '../../harness/engines/openai/openai.ts'
import type { OkOutcome } from '../../harness/results.ts'
import { runScenario } from '../../harness/runner.ts'
import { benchModels } from '../helpers/fixture-models.ts'
import { findLlamaCppTool } from '../helpers/llama-cpp-tools.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'
import { type LlamaServer, startLlamaServer } from './llama-server.ts'

const ROOT = new URL('../../', import.meta.url).pathname
const tool = findLlamaCppTool(ROOT, 'llama-server')
if (!tool.found && process.env.CI) throw new Error(`CI must build llama-server first: ${tool.reason}`)

const REQUESTS = 30
const PROMPT_TOKENS = 8
const OUTPUT_TOKENS = 16

describe.skipIf(!tool.found)(`real llama-server${tool.found ? '' : ` (skipped: ${tool.reason})`}`, () => {
  for (const { parallel, load } of [
    { parallel: 1, load: { kind: 'sequential', requests: REQUESTS } },
    { parallel: 4, load: { kind: 'concurrent', concurrency: 4, requests: REQUESTS } },
  ] as const) {
    describe(`--parallel ${parallel}, ${load.kind}`, () => {
      let server: LlamaServer
      beforeAll(async () => {
        if (!tool.found) return
        const models = await benchModels()
        server = await startLlamaServer({ binary: tool.path, model: models.path('bench-q4_0'), parallel })
      }, 120_000)
      afterAll(async () => {
        await server?.close()
      })

      for (const client of OPENAI_CLIENTS) {
        it(`${client}: ${REQUESTS} requests, no errors, server usage and timings on each`, async () => {
          const sink = createMemorySink()
          const scenario = parseScenario({
            name: 'real-llama-server',
            prompts: { kind: 'synthetic', promptTokens: PROMPT_TOKENS, outputTokens: OUTPUT_TOKENS },
            targets: [
              {
                name: `llama-server-${client}`,
                engine: { kind: 'openai', baseUrl: server.url, model: 'bench-q4_0', client },
              },
            ],
            loads: [load],
            warmupRequests: 2,
            requestTimeoutMs: 30_000,
            fixedOutputLength: true,
            sampling: { temperature: 0 },
          })
          await runScenario({ scenario, baseDir: ROOT, sink })
          const run = sink.runs[0]!
          const errors = run.outcomes.flatMap((o) => (o.state === 'error' ? [o.error.message] : []))
          expect(errors, `no errors (server log tail: ${server.log().slice(-500)})`).toEqual([])
          expect(run.outcomes.length, 'every request recorded').toBe(REQUESTS)
          expect(run.state, 'run state').toBe('completed')
          const ok = run.outcomes as OkOutcome[]
          for (const o of ok) {
            expect(o.tokensSource, 'usage from the server').toBe('server')
            expect(o.outputTokens, 'fixed output length (ignore_eos)').toBe(OUTPUT_TOKENS)
            expect(o.serverTimings?.predictedN, 'timings.predicted_n = usage').toBe(OUTPUT_TOKENS)
            expect(o.serverTimings?.predictedMs, 'timings.predicted_ms').toBeGreaterThan(0)
            expect(
              (o.serverTimings?.promptN ?? 0) + (o.serverTimings?.cacheN ?? 0),
              'timings: evaluated + cached prompt tokens = usage prompt tokens',
            ).toBe(o.promptTokens)
          }
          // Every run asks for new prompt text, so the server's RAM prompt cache (which outlives runs and
          // clients here) never answers a measured request.
          expect(run.metrics?.promptCacheHits, 'no TTFT measured a prompt-cache hit').toBe(0)
          expect(run.metrics?.serverTimingsN, 'server figures from every request').toBe(REQUESTS)
          const health = await fetch(`${server.origin}/health`)
          expect(health.status, '/health').toBe(200)
          expect(await health.json(), '/health body').toEqual({ status: 'ok' })
        }, 120_000)
      }
    })
  }
})
