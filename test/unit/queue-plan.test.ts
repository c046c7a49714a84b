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
