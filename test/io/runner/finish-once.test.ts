/**
 * The runner calls finish once per run, even when that finish throws (issue 14: a sink whose finish threw
 * was finished again from the runner's catch, and the JSONL got two finish records).
 */
import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../../harness/config/index.ts'
import { runScenario } from '../../../harness/runner.ts'
import type { ResultSink } from '../../../harness/sink.ts'

const scenario = parseScenario({
  name: 'finish-once',
  prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
  targets: [
    {
      name: 'mock',
      engine: {
        kind: 'openai',
        model: 'mock-model',
        mock: { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 1 } },
      },
    },
  ],
  loads: [{ kind: 'concurrent', concurrency: 2, requests: 4 }],
  warmupRequests: 0,
})

describe('runner finish', () => {
  it('is called once when it throws, and the run reads failed with its message', async () => {
    const finishes: string[] = []
    const sink: ResultSink = {
      startRun: async () => ({
        runId: '1',
        record: () => {},
        recordItem: () => {},
        async finish(state) {
          finishes.push(state)
          throw new Error('storage said no')
        },
      }),
      close: async () => {},
    }
    const result = await runScenario({ scenario, baseDir: '.', sink, monitorEventLoop: false })
    expect(finishes, 'one finish').toEqual(['completed'])
    expect(result.runs[0]?.state, 'run state').toBe('failed')
    expect(result.runs[0]?.error, 'reason').toBe('storage said no')
  })
})
