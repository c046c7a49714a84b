/**
 * `bench load`'s autocannon load (harness/http-load) against a real llama-server (build-llama-cpp.sh) on
 * the tiny Q4_0 fixture: non-streamed /v1/completions on 2 connections and `--parallel 2`, 12 requests of
 * 4 tokens (ignore_eos). Every request answered 200 with the server's usage, each counted once (autocannon
 * agrees), none left unanswered. Skipped with the reason without the cached build; under CI a missing
 * build fails (as test/real-server/llama-server.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openBodySource } from '../../harness/http-load/bodies.ts'
import { summarizeHttpLoad } from '../../harness/http-load/metrics.ts'
import { runHttpLoad } from '../../harness/http-load/run.ts'
import { tinyModels } from '../helpers/fixture-models.ts'
import { findLlamaCppTool } from '../helpers/llama-cpp-tools.ts'
import { type LlamaServer, startLlamaServer } from '../real-server/llama-server.ts'

const ROOT = new URL('../../', import.meta.url).pathname
const tool = findLlamaCppTool(ROOT, 'llama-server')
if (!tool.found && process.env.CI) throw new Error(`CI must build llama-server first: ${tool.reason}`)

const REQUESTS = 12
const OUTPUT_TOKENS = 4

describe.skipIf(!tool.found)(
  `bench load on a real llama-server${tool.found ? '' : ` (skipped: ${tool.reason})`}`,
  () => {
    let server: LlamaServer
    beforeAll(async () => {
      if (!tool.found) return
      const models = await tinyModels()
      server = await startLlamaServer({ binary: tool.path, model: models.path('tiny-q4_0'), parallel: 2 })
    }, 120_000)
    afterAll(async () => {
      await server?.close()
    })

    it(`${REQUESTS} non-streamed completions: all 200, usage on each, none lost`, async () => {
      const bodies = await openBodySource({
        endpoint: 'completions',
        model: 'tiny-q4_0',
        promptTokens: 8,
        outputTokens: OUTPUT_TOKENS,
        fixedOutputLength: true,
      })
      const result = await runHttpLoad({
        url: `${server.url}/completions`,
        headers: { 'content-type': 'application/json' },
        body: (position) => bodies.at(position),
        connections: 2,
        requests: REQUESTS,
        durationS: 30,
        timeoutS: 30,
      })
      const summary = summarizeHttpLoad(result, 0)
      expect(summary.statusCounts, server.log().slice(-2000)).toEqual({ '200': REQUESTS })
      expect(result.unfinished).toBe(0)
      expect(result.autocannon.responses).toBe(REQUESTS)
      expect(summary.errorRate.passed).toBe(true)
      for (const s of result.samples) {
        expect(s.state).toBe('ok')
        if (s.state === 'ok')
          expect(s.outputTokens, `request ${s.seq}: usage.completion_tokens`).toBe(OUTPUT_TOKENS)
      }
      expect(summary.e2eMs?.n).toBe(REQUESTS)
      expect(summary.outputTokensPerS).toBeCloseTo(summary.requestsPerS * OUTPUT_TOKENS, 6)
    }, 90_000)
  },
)
