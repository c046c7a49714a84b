/**
 * `bench enqueue` plans micro loads (db/queue/plan.ts) with the loadIndex `bench run` gives their runs, so a
 * worker's job (runScenario `only: { target, loadIndex }`, db/queue/run-kind.ts) runs exactly that micro
 * load: checked against the real runner on the tiny ONNX fixture, in-process (a few ms per pass).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { planMatrix } from '../../db/queue/plan.ts'
import { parseScenario, type Scenario } from '../../harness/config/index.ts'
import { runScenario } from '../../harness/runner.ts'
import { tinyModels } from '../helpers/fixture-models.ts'
import { createMemorySink } from '../helpers/memory-sink.ts'

/** Each task ≥ 5 ms and ≥ 2 iterations, no warmup. */
const bounds = { timeMs: 5, iterations: 2, warmupTimeMs: 0, warmupIterations: 0, maxTimeMs: 5000 }

describe('queued micro loads', () => {
  let scenario: Scenario
  beforeAll(async () => {
    const model = (await tinyModels()).path('tiny-onnx-fp32')
    scenario = parseScenario({
      name: 'queue-micro',
      prompts: { kind: 'synthetic', promptTokens: 4, outputTokens: 2 },
      targets: [{ name: 'onnx', engine: { kind: 'onnx', model, intraOpNumThreads: 1, isolate: false } }],
      // The micro loads first: bench run still runs (and numbers) them after the load steps.
      loads: [
        { kind: 'micro', tasks: [{ kind: 'forward', promptTokens: 8 }], ...bounds },
        { kind: 'sequential', requests: 1 },
        { kind: 'micro', tasks: [{ kind: 'tokenize', chars: 50 }], ...bounds },
        { kind: 'sequential', requests: 1 },
      ],
      warmupRequests: 0,
    })
  }, 120_000)

  it('plans every run bench run makes, with the same loadIndex and kind', async () => {
    const sink = createMemorySink()
    const all = await runScenario({ scenario, baseDir: process.cwd(), sink })
    expect(all.state, `bench run: ${all.runs.map((r) => r.error).join('; ')}`).toBe('completed')
    const ran = all.runs.map((r) => `${r.loadIndex}:${r.load.kind}`)
    const planned = planMatrix(scenario).map(
      (j) => `${j.loadIndex}:${j.spec.step === 'load' ? j.spec.load.kind : j.spec.step}`,
    )
    expect(planned, 'one job per run, numbered as bench run numbers them').toEqual(ran)
    expect(ran, 'the runner: steps, then micro').toEqual([
      '0:sequential',
      '1:sequential',
      '2:micro',
      '3:micro',
    ])
  })

  it("a micro job's run is that micro load alone", async () => {
    const job = planMatrix(scenario).find((j) => j.spec.step === 'micro' && j.loadIndex === 3)
    if (!job) return expect.unreachable('no job for the second micro load')
    const sink = createMemorySink()
    const result = await runScenario({
      scenario,
      baseDir: process.cwd(),
      sink,
      only: { target: job.targetName, loadIndex: job.loadIndex },
    })
    expect(
      result.runs.map((r) => [r.loadIndex, r.state, r.micro?.map((m) => m.id)]),
      'one run: the tokenize micro load',
    ).toEqual([[3, 'completed', ['tokenize-50']]])
    expect(sink.runs[0]?.meta.load, 'stored as the job planned it').toEqual(
      job.spec.step === 'micro' ? job.spec.micro : undefined,
    )
  })
})
