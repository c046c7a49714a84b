/**
 * Server metrics against a real llama-server (`--metrics`, build-llama-cpp.sh, tiny-q4_0 fixture): a run
 * of the openai engine reads its /metrics before and after (harness/server-metrics), and the deltas equal
 * what the run's own requests counted from the server's usage — llamacpp:tokens_predicted_total the output
 * tokens, llamacpp:prompt_tokens_total (evaluated) + llamacpp:prompt_tokens_cached_total (taken from the
 * slot's cache) the prompt tokens. Without `--metrics` the server answers 501 and the run records why.
 *
 * Skipped with the reason without the cached build; under CI a missing build fails (as llama-server.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseScenario } from '../../harness/config/index.ts'
import { runScenario } from '../../harness/runner.ts'
import type { ServerMetricsRecord } from '../../harness/server-metrics/session.ts'
import type { ResultSink } from '../../harness/sink.ts'
import { tinyModels } from '../helpers/fixture-models.ts'
import { findLlamaCppTool } from '../helpers/llama-cpp-tools.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'
import { type LlamaServer, startLlamaServer } from './llama-server.ts'

const ROOT = new URL('../../', import.meta.url).pathname
const tool = findLlamaCppTool(ROOT, 'llama-server')
if (!tool.found && process.env.CI) throw new Error(`CI must build llama-server first: ${tool.reason}`)

/** The memory sink, keeping each run's server metrics too. */
function sinkWithServerMetrics(): ReturnType<typeof createMemorySink> & { records: ServerMetricsRecord[] } {
  const memory = createMemorySink()
  const records: ServerMetricsRecord[] = []
  const sink: ResultSink = {
    async startRun(meta) {
      const recorder = await memory.startRun(meta)
      return { ...recorder, serverMetrics: async (record) => void records.push(record) }
    },
    close: () => memory.close(),
  }
  return Object.assign(sink, { runs: memory.runs, records })
}

const delta = (record: ServerMetricsRecord | undefined, name: string) =>
  record?.rows.find((r) => r.name === name)?.delta

describe.skipIf(!tool.found)(
  `real llama-server metrics${tool.found ? '' : ` (skipped: ${tool.reason})`}`,
  () => {
    let withMetrics: LlamaServer
    let without: LlamaServer
    beforeAll(async () => {
      if (!tool.found) return
      const model = (await tinyModels()).path('tiny-q4_0')
      ;[withMetrics, without] = await Promise.all([
        startLlamaServer({ binary: tool.path, model, args: ['--metrics'] }),
        startLlamaServer({ binary: tool.path, model }),
      ])
    }, 120_000)
    afterAll(async () => {
      await Promise.all([withMetrics?.close(), without?.close()])
    })

    const scenario = (baseUrl: string) =>
      parseScenario({
        name: 'llama-server-metrics',
        prompts: { kind: 'synthetic', promptTokens: { mean: 24, sd: 6 }, outputTokens: 8 },
        targets: [
          {
            name: 'llama-server',
            engine: { kind: 'openai', baseUrl, model: 'tiny-q4_0', api: 'completions' },
          },
        ],
        loads: [{ kind: 'sequential', requests: 4 }],
        warmupRequests: 1,
        sampling: { temperature: 0 },
      })

    it('the token deltas equal the run’s own counts (the server’s usage)', async () => {
      const sink = sinkWithServerMetrics()
      const result = await runScenario({
        scenario: scenario(withMetrics.url),
        baseDir: ROOT,
        sink,
        monitorEventLoop: false,
      })
      expect(result.state, result.runs[0]?.error).toBe('completed')
      const record = sink.records[0]
      expect(record?.state, record?.reason).toBe('ok')
      const outcomes = sink.runs[0]!.outcomes
      const ok = outcomes.flatMap((o) => (o.state === 'ok' ? [o] : []))
      expect(ok.length, 'every request answered').toBe(4)
      const prompt = ok.reduce((s, o) => s + (o.promptTokens ?? 0), 0)
      const output = ok.reduce((s, o) => s + o.outputTokens, 0)
      expect(output, 'fixed output length').toBe(32)
      expect(delta(record, 'llamacpp:tokens_predicted_total'), 'tokens predicted').toBe(output)
      const evaluated = delta(record, 'llamacpp:prompt_tokens_total') ?? Number.NaN
      const cached = delta(record, 'llamacpp:prompt_tokens_cached_total') ?? Number.NaN
      expect(evaluated + cached, `prompt tokens: ${evaluated} evaluated + ${cached} cached`).toBe(prompt)
      expect(evaluated, 'most prompt tokens evaluated (new text in every request)').toBeGreaterThan(
        prompt / 2,
      )
      const processing = record?.rows.find((r) => r.name === 'llamacpp:requests_processing')
      expect([processing?.kind, processing?.after], 'idle after').toEqual(['gauge', 0])
    })

    it('without --metrics the run completes and says why it has none', async () => {
      const sink = sinkWithServerMetrics()
      const result = await runScenario({
        scenario: scenario(without.url),
        baseDir: ROOT,
        sink,
        monitorEventLoop: false,
      })
      expect(result.state, 'completed').toBe('completed')
      expect(sink.records[0]?.state, 'unavailable').toBe('unavailable')
      expect(sink.records[0]?.reason, 'why').toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/metrics: HTTP 501/)
    })
  },
)
