/**
 * Quality through a real llama-server (build-llama-cpp.sh, tiny-f32): refused, with the reason, never a
 * KLD from missing data. Its /v1/completions ignores echo and returns logprobs of the generated token only
 * (llama.cpp #27174), so the openai engine's probe throws a CapabilityError saying so, and `bench run` with
 * `measure: ['quality']` fails the endpoint's quality run with that message while the native reference's
 * run completes.
 *
 * Skipped with the reason without the cached build; under CI a missing build fails (as llama-server.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseScenario } from '../../harness/config/index.ts'
import { createOpenAIEngine } from '../../harness/engines/openai/openai.ts'
import { CapabilityError } from '../../harness/errors.ts'
import { runScenario } from '../../harness/runner.ts'
import { type TinyModels, tinyModels } from '../helpers/fixture-models.ts'
import { findLlamaCppTool } from '../helpers/llama-cpp-tools.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'
import { type LlamaServer, startLlamaServer } from './llama-server.ts'

const ROOT = new URL('../../', import.meta.url).pathname
const tool = findLlamaCppTool(ROOT, 'llama-server')
if (!tool.found && process.env.CI) throw new Error(`CI must build llama-server first: ${tool.reason}`)

const TEXT = 'the river runs past the city and winter music fills the garden. '.repeat(8)
const REASON =
  /it returns logprobs for generated tokens only \(1 entry for a \d+-token prompt\), none for prompt positions: it ignores echo, as llama-server does \(llama\.cpp #27174\)/

describe.skipIf(!tool.found)(
  `real llama-server quality${tool.found ? '' : ` (skipped: ${tool.reason})`}`,
  () => {
    let server: LlamaServer
    let models: TinyModels
    let dir: string
    beforeAll(async () => {
      if (!tool.found) return
      models = await tinyModels()
      server = await startLlamaServer({
        binary: tool.path,
        model: models.path('tiny-f32'),
        contextSize: 1024,
      })
      dir = mkdtempSync(join(tmpdir(), 'bench-ls-quality-'))
      writeFileSync(join(dir, 'corpus.txt'), TEXT)
    })
    afterAll(async () => {
      await server?.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('topKLogProbs: a CapabilityError naming the reason (#27174)', async () => {
      const engine = createOpenAIEngine({
        baseUrl: server.url,
        model: 'tiny',
        api: 'completions',
        client: 'http1',
      })
      try {
        await engine.start()
        const error = await engine.topKLogProbs(TEXT, { contextTokens: 64, window: 0, k: 20 }).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error, server.log().slice(-2000)).toBeInstanceOf(CapabilityError)
        expect((error as Error).message).toMatch(REASON)
      } finally {
        await engine[Symbol.asyncDispose]()
      }
    })

    it("bench run measure: ['quality']: the endpoint's run fails with the reason, the reference completes", async () => {
      const sink = createMemorySink()
      const result = await runScenario({
        scenario: parseScenario({
          name: 'ls-quality',
          measure: ['quality'],
          quality: { corpus: 'corpus.txt', reference: 'native', contextTokens: 64, maxTokens: 124 },
          targets: [
            {
              name: 'native',
              engine: { kind: 'llama-cpp', model: models.path('tiny-f32'), threads: 1, isolate: false },
            },
            {
              name: 'llama-server',
              engine: { kind: 'openai', baseUrl: server.url, model: 'tiny', api: 'completions' },
            },
          ],
        }),
        baseDir: dir,
        sink,
      })
      const byTarget = new Map(result.runs.map((r) => [r.target, r]))
      expect(byTarget.get('native')?.state, byTarget.get('native')?.error).toBe('completed')
      expect(byTarget.get('llama-server')?.state).toBe('failed')
      expect(byTarget.get('llama-server')?.error).toMatch(REASON)
      const stored = sink.runs.find((r) => r.meta.target.name === 'llama-server')
      expect(
        stored?.figures?.some((f) => f.name === 'klDivergence'),
        'no KLD stored for the endpoint',
      ).toBeFalsy()
    })
  },
)
