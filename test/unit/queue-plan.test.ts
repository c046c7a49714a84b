import { describe, expect, it } from 'vitest'
import { planMatrix, shardLoad } from '../../db/queue/plan.ts'
import { claimableIdentifiers, parseIdentifier, parseTags, taskIdentifier } from '../../db/queue/tags.ts'
import { parseScenario } from '../../harness/config/index.ts'

const mock = (name: string) => ({ name, engine: { kind: 'openai', model: 'mock-model', mock: {} } })

describe('queue tags', () => {
  it('canonicalizes key=value tags and refuses malformed ones, naming the flag', () => {
    expect(parseTags(['region=eu', 'gpu=h100', 'gpu=h100'], '--tag')).toEqual(['gpu=h100', 'region=eu'])
    expect(() => parseTags(['gpu'], '--tag')).toThrow(/--tag "gpu": expected key=value/)
    expect(() => parseTags(['gpu=h100', 'gpu=a100'], '--require')).toThrow(/--require: .*gpu two values/)
  })

  it('a worker claims exactly the identifiers of jobs whose every required tag it has', () => {
    const worker = claimableIdentifiers('run', ['gpu=h100', 'region=eu'])
    expect(worker).toHaveLength(4)
    expect(worker).toContain(taskIdentifier('run', []))
    expect(worker).toContain(taskIdentifier('run', ['region=eu', 'gpu=h100']))
    expect(worker).not.toContain(taskIdentifier('run', ['gpu=a100']))
    expect(claimableIdentifiers('run', [])).toEqual(['run'])
    expect(parseIdentifier(taskIdentifier('study', ['b=2', 'a=1']))).toEqual({
      kind: 'study',
      tags: ['a=1', 'b=2'],
    })
    expect(() =>
      claimableIdentifiers(
        'run',
        Array.from({ length: 9 }, (_, i) => `t${i}=x`),
      ),
    ).toThrow(/at most 8/)
  })
})

describe('planMatrix', () => {
  it('one job per target × expanded load step, loadIndex as the runner numbers it, accuracy after', () => {
    const scenario = parseScenario({
      name: 'm',
      prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
      targets: [mock('a'), mock('b')],
      loads: [
        { kind: 'sequential', requests: 2 },
        {
          kind: 'sweep',
          loads: [
            { kind: 'concurrent', concurrency: 2, requests: 4 },
            { kind: 'sequential', requests: 3 },
          ],
        },
      ],
    })
    const plan = planMatrix(scenario)
    expect(plan.map((j) => `${j.targetName}:${j.loadIndex}`)).toEqual([
      'a:0',
      'a:1',
      'a:2',
      'b:0',
      'b:1',
      'b:2',
    ])
    expect(plan[2]?.spec).toEqual({ step: 'load', load: { kind: 'sequential', requests: 3 } })
  })

  it('plans one job per target × micro load, numbered after the load steps and the accuracy run', () => {
    const gguf = (name: string) => ({ name, engine: { kind: 'llama-cpp', model: `${name}.gguf` } })
    const forward = { kind: 'micro', tasks: [{ kind: 'forward', promptTokens: 16 }] }
    const tokenize = { kind: 'micro', tasks: [{ kind: 'tokenize', chars: 100 }] }
    const scenario = parseScenario({
      name: 'micro-queue',
      measure: ['latency', 'accuracy'],
      prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
      accuracy: { dataset: 'knowledge' },
      targets: [gguf('a'), gguf('b')],
      // A micro load listed first still runs after the load steps, as bench run orders it.
      loads: [
        forward,
        { kind: 'concurrent', concurrency: 2, requests: 2 },
        tokenize,
        { kind: 'concurrent', concurrency: 2, requests: 4 },
      ],
    })
    const plan = planMatrix(scenario)
    expect(
      plan.map((j) => `${j.targetName}:${j.loadIndex}:${j.spec.step}`),
      'steps 0–1, accuracy 2, micro 3–4 per target',
    ).toEqual([
      'a:0:load',
      'a:1:load',
      'a:2:accuracy',
      'a:3:micro',
      'a:4:micro',
      'b:0:load',
      'b:1:load',
      'b:2:accuracy',
      'b:3:micro',
      'b:4:micro',
    ])
    expect(plan[3]?.spec, 'the stored micro spec (defaults filled)').toMatchObject({
      step: 'micro',
      micro: { kind: 'micro', tasks: [{ kind: 'forward', promptTokens: 16 }], timeMs: 1000 },
    })
    // --clients splits the load steps only (their indices unchanged by the micro load before them).
    const split = planMatrix(scenario, { clients: 2 })
    expect(
      split.filter((j) => j.targetName === 'a').map((j) => `${j.loadIndex}:${j.spec.step}`),
      'two clients per step, one job per micro load',
    ).toEqual(['0:load', '0:load', '1:load', '1:load', '2:accuracy', '3:micro', '4:micro'])
    const client = split[2]?.spec
    expect(client?.step === 'load' ? client.shard?.load : undefined, "step 1's client share").toEqual({
      kind: 'concurrent',
      concurrency: 1,
      requests: 2,
    })
    // measure without latency: no load step and no micro run (bench run skips both).
    expect(planMatrix({ ...scenario, measure: ['accuracy'] }).map((j) => j.spec.step)).toEqual([
      'accuracy',
      'accuracy',
    ])
  })

  it('refuses quality (a reference measured first cannot be ordered across workers), saying what to do', () => {
    const scenario = parseScenario({
      name: 'q',
      measure: ['quality'],
      targets: [
        { name: 'a', engine: { kind: 'llama-cpp', model: 'a.gguf' } },
        { name: 'b', engine: { kind: 'llama-cpp', model: 'b.gguf' } },
      ],
      quality: { reference: 'a', corpus: 'c.txt' },
    })
    expect(() => planMatrix(scenario)).toThrow(/quality.*bench run/)
  })
})

describe('shardLoad (bench enqueue --clients)', () => {
  it('divides concurrency or rate by the clients and splits the requests, the first ones taking the remainder', () => {
    const concurrent = { kind: 'concurrent', concurrency: 6, requests: 20 } as const
    expect([0, 1, 2].map((i) => shardLoad(concurrent, i, 3, 'step 0'))).toEqual([
      { kind: 'concurrent', concurrency: 2, requests: 7 },
      { kind: 'concurrent', concurrency: 2, requests: 7 },
      { kind: 'concurrent', concurrency: 2, requests: 6 },
    ])
    const poisson = { kind: 'poisson', ratePerS: 9, burstiness: 1, maxInFlight: 100, durationS: 30 } as const
    expect(shardLoad(poisson, 2, 3, 'step 1')).toEqual({
      kind: 'poisson',
      ratePerS: 3,
      burstiness: 1,
      maxInFlight: 34,
      durationS: 30,
    })
  })

  it('refuses what cannot be split, naming --clients, the step and what to do', () => {
    expect(() => shardLoad({ kind: 'concurrent', concurrency: 4, requests: 8 }, 0, 3, 'step 2')).toThrow(
      /--clients 3: step 2 \(concurrent\) concurrency 4 is not a multiple of the clients; use a multiple or fewer clients/,
    )
    expect(() => shardLoad({ kind: 'sequential', requests: 8 }, 0, 2, 'step 0')).toThrow(
      /--clients 2: step 0 \(sequential\) cannot be split between clients: only concurrent, constant-rate and poisson/,
    )
    expect(() => shardLoad({ kind: 'concurrent', concurrency: 4, requests: 2 }, 3, 4, 'step 0')).toThrow(
      /has 2 requests, fewer than the clients/,
    )
  })
})
