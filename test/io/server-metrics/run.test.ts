/**
 * The runner reads the target's server metrics around each load run: against the built-in mock (vllm and
 * llama-server personalities, in a worker), the prompt and generation token deltas equal what the run's
 * own requests counted (the server's usage), warm-up excluded; `off` reads none; a target whose /metrics
 * is absent still completes, and its record says why.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../../harness/config/index.ts'
import type { RequestOutcome } from '../../../harness/results.ts'
import { runScenario } from '../../../harness/runner.ts'
import type { ServerMetricsRecord } from '../../../harness/server-metrics/session.ts'
import type { ResultSink } from '../../../harness/sink.ts'

interface Captured {
  target: string
  outcomes: RequestOutcome[]
  serverMetrics?: ServerMetricsRecord
  /** Order of the calls: the server metrics come before finish. */
  calls: string[]
}

function captureSink(): ResultSink & { runs: Captured[] } {
  const runs: Captured[] = []
  return {
    runs,
    async startRun(meta) {
      const run: Captured = { target: meta.target.name, outcomes: [], calls: [] }
      runs.push(run)
      return {
        runId: String(runs.length),
        record: (o) => void run.outcomes.push(o),
        recordItem: () => {},
        async serverMetrics(record) {
          run.calls.push('serverMetrics')
          run.serverMetrics = record
        },
        async finish(state) {
          run.calls.push(`finish ${state}`)
        },
      }
    },
    close: async () => {},
  }
}

const mockTarget = (name: string, personality: 'vllm' | 'llama-server' | 'default') => ({
  name,
  engine: {
    kind: 'openai' as const,
    model: 'mock-model',
    mock: { ttft: { kind: 'fixed' as const, ms: 1 }, itl: { kind: 'fixed' as const, ms: 1 }, personality },
  },
})

const delta = (record: ServerMetricsRecord | undefined, name: string) =>
  record?.rows.filter((r) => r.name === name).reduce((s, r) => s + (r.delta ?? 0), 0)

describe('server metrics around each load run', () => {
  it('deltas equal the run’s own token counts; warm-up excluded; stored before finish', async () => {
    const scenario = parseScenario({
      name: 'server-metrics',
      prompts: { kind: 'synthetic', promptTokens: { mean: 12, sd: 4 }, outputTokens: 6 },
      targets: [mockTarget('vllm', 'vllm'), mockTarget('llama', 'llama-server')],
      loads: [
        { kind: 'sequential', requests: 3 },
        { kind: 'concurrent', concurrency: 3, requests: 6 },
      ],
      warmupRequests: 2,
    })
    const sink = captureSink()
    const result = await runScenario({ scenario, baseDir: '.', sink, monitorEventLoop: false })
    expect(result.state, 'completed').toBe('completed')
    expect(sink.runs.length, 'two targets × two loads').toBe(4)
    for (const run of sink.runs) {
      const record = run.serverMetrics
      expect(record?.state, `${run.target}: ${record?.reason}`).toBe('ok')
      expect(run.calls, 'server metrics, then finish').toEqual(['serverMetrics', 'finish completed'])
      const prompt = run.outcomes.reduce((s, o) => s + (o.state === 'ok' ? (o.promptTokens ?? 0) : 0), 0)
      const output = run.outcomes.reduce((s, o) => s + (o.state === 'ok' ? o.outputTokens : 0), 0)
      expect(prompt, 'the synthetic prompts have tokens').toBeGreaterThan(0)
      if (run.target === 'vllm') {
        expect(delta(record, 'vllm:prompt_tokens_total'), 'vllm prompt tokens').toBe(prompt)
        expect(delta(record, 'vllm:generation_tokens_total'), 'vllm generation tokens').toBe(output)
        expect(delta(record, 'vllm:request_success_total'), 'requests').toBe(run.outcomes.length)
      } else {
        // llama-server counts evaluated prompt tokens apart from those its cache gave (two synthetic prompts
        // may share a first word): together they are every prompt token.
        const evaluated = delta(record, 'llamacpp:prompt_tokens_total') ?? 0
        const cached = delta(record, 'llamacpp:prompt_tokens_cached_total') ?? 0
        expect(evaluated + cached, 'llama prompt tokens, evaluated + cached').toBe(prompt)
        expect(delta(record, 'llamacpp:tokens_predicted_total'), 'llama predicted tokens').toBe(output)
      }
    }
  })

  it('off reads nothing; a /metrics that cannot be read leaves the run completed and says why', async () => {
    const base = {
      prompts: { kind: 'synthetic', promptTokens: 4, outputTokens: 2 },
      loads: [{ kind: 'sequential', requests: 2 }],
      warmupRequests: 0,
    }
    const off = captureSink()
    await runScenario({
      scenario: parseScenario({
        ...base,
        name: 'off',
        targets: [mockTarget('vllm', 'vllm')],
        serverMetrics: 'off',
      }),
      baseDir: '.',
      sink: off,
      monitorEventLoop: false,
    })
    expect(off.runs[0]?.calls, 'no server metrics').toEqual(['finish completed'])
    // Nothing listens there: the run completes, its record says why.
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/metrics`
    await new Promise((resolve) => closed.close(resolve))
    const missing = captureSink()
    const notices: string[] = []
    const result = await runScenario({
      onEvent: (e) => {
        if (e.type === 'notice') notices.push(`${e.target}: ${e.message}`)
      },
      scenario: parseScenario({
        ...base,
        name: 'missing',
        targets: [mockTarget('v', 'vllm')],
        serverMetrics: url,
      }),
      baseDir: '.',
      sink: missing,
      monitorEventLoop: false,
    })
    expect(result.state, 'the run is not failed by its server metrics').toBe('completed')
    expect(notices, 'said on the way').toEqual([
      `v: no server metrics: GET ${url}: fetch failed (ECONNREFUSED) (serverMetrics: 'off' skips them)`,
    ])
    expect(missing.runs[0]?.serverMetrics, 'why').toEqual({
      url,
      state: 'unavailable',
      reason: expect.stringMatching(
        /^GET http:\/\/127\.0\.0\.1:\d+\/metrics: fetch failed \(ECONNREFUSED\)$/,
      ),
      samples: 0,
      rows: [],
    })
  })
})
