import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../harness/config/index.ts'
import type { RequestErrorKind } from '../../harness/errors.ts'
import { runScenario } from '../../harness/runner.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'

function faultScenario(fault: string, requestTimeoutMs = 5_000) {
  return parseScenario({
    name: 'faults',
    prompts: { kind: 'synthetic', promptTokens: 16, outputTokens: 8 },
    targets: [
      {
        name: 'mock',
        engine: {
          kind: 'openai',
          model: 'mock-model',
          mock: { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 1 }, faults: { [fault]: 1 } },
        },
      },
    ],
    loads: [{ kind: 'concurrent', concurrency: 2, requests: 4 }],
    warmupRequests: 0,
    requestTimeoutMs,
    // Every request fails on purpose: the outcomes are the subject, not the error-rate threshold.
    maxErrorRate: 1,
  })
}

const cases: [fault: string, kind: RequestErrorKind, status: number | undefined][] = [
  ['rate429', 'http', 429],
  ['rate500', 'http', 500],
  ['rateDrop', 'stream', undefined],
  ['rateMalformed', 'stream', undefined],
  ['rateStall', 'timeout', undefined],
]

describe('mock faults become recorded error outcomes', () => {
  for (const [fault, kind, status] of cases) {
    it(`${fault} → ${kind}${status ? ` ${status}` : ''}`, async () => {
      const sink = createMemorySink()
      const result = await runScenario({ scenario: faultScenario(fault, 1_000), baseDir: '.', sink })
      expect(result.state, 'scenario completes').toBe('completed')
      const run = sink.runs[0]
      expect(run?.state, 'run state').toBe('completed')
      expect(run?.outcomes.length, 'every request recorded').toBe(4)
      for (const o of run?.outcomes ?? []) {
        if (o.state !== 'error')
          return expect.unreachable(`expected an error outcome, got ${JSON.stringify(o)}`)
        expect(o.error.kind, 'kind').toBe(kind)
        expect(o.error.status, 'status').toBe(status)
      }
      expect(run?.metrics?.errorRate, 'errorRate').toBe(1)
      expect(run?.metrics?.errorsByKind[kind], 'errorsByKind').toBe(4)
    })
  }

  it('a healthy run records every request once, in seq order, with timings', async () => {
    const sink = createMemorySink()
    const scenario = parseScenario({
      name: 'healthy',
      prompts: { kind: 'synthetic', promptTokens: 16, outputTokens: 6 },
      targets: [
        {
          name: 'mock',
          engine: {
            kind: 'openai',
            model: 'mock-model',
            mock: { ttft: { kind: 'fixed', ms: 20 }, itl: { kind: 'fixed', ms: 5 } },
          },
        },
      ],
      loads: [{ kind: 'concurrent', concurrency: 3, requests: 9 }],
      warmupRequests: 1,
    })
    await runScenario({ scenario, baseDir: '.', sink })
    const run = sink.runs[0]
    const seqs = (run?.outcomes ?? []).map((o) => o.seq).sort((a, b) => a - b)
    expect(seqs, 'seqs').toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    for (const o of run?.outcomes ?? []) {
      if (o.state !== 'ok') return expect.unreachable(JSON.stringify(o))
      expect(o.outputTokens, 'output tokens').toBe(6)
      expect(o.tokensSource, 'server usage').toBe('server')
      expect(o.chunks, 'chunks').toBe(6)
      expect(o.chunkGapsMs.length, 'gaps').toBe(5)
      expect(o.ttftMs, 'ttft ≥ injected').toBeGreaterThanOrEqual(19)
      expect(o.promptTokens, 'prompt tokens').toBe(16)
    }
    expect(run?.metrics?.ok, 'ok').toBe(9)
    expect(run?.metrics?.errorRate, 'errorRate').toBe(0)
  })
})
