/**
 * An endpoint study in rounds (harness/speculative/endpoints/study.ts, `rounds` in the study file): every
 * prompt to every endpoint, interleaved prompt by prompt, round after round, so a shared machine's load
 * drifting over the study hits each endpoint alike. One pass per endpoint in turn measured each endpoint once
 * over ~50 ms on a real llama-server: c ranged 0.68–4.47 over seven runs of one study at load 6–12; 5
 * interleaved rounds gave 0.75–0.89. Checked here on mock llama-servers: the order of the requests, every
 * round counted by /metrics and the timings alike, outputs compared on the first round, the progress
 * calls, and the study file refusing two endpoints on one server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Engine } from '../../../harness/engines/engine.ts'
import { createOpenAIEngine } from '../../../harness/engines/openai/openai.ts'
import type { SpeculativeOptions } from '../../../harness/mock-server/options.ts'
import { type MockServerHandle, startMockServer } from '../../../harness/mock-server/server.ts'
import {
  type EndpointStudyResult,
  endpointStudyPhases,
  runEndpointStudy,
  type StudyEndpoint,
} from '../../../harness/speculative/endpoints/study.ts'
import { parseEndpointStudy } from '../../../harness/speculative/endpoints/study-file.ts'
import { StudyError } from '../../../harness/speculative/study-file.ts'

const fast = { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 1 } } as const
const SPEC: SpeculativeOptions = { draftMax: 3, acceptance: 0.8 }
const PROMPTS = ['first prompt about rivers', 'second prompt about hills']
const ROUNDS = 3
const MAX_TOKENS = 48

describe('endpoint study in interleaved rounds', () => {
  const mocks: MockServerHandle[] = []
  const engines: Engine[] = []
  /** Which endpoint each request went to, in order. */
  const order: string[] = []
  const progress: string[] = []
  let result: EndpointStudyResult
  beforeAll(async () => {
    const endpoint = async (name: string, speculative?: SpeculativeOptions): Promise<StudyEndpoint> => {
      const mock = await startMockServer({
        personality: 'llama-server',
        ...fast,
        ...(speculative ? { speculative } : {}),
      })
      mocks.push(mock)
      const engine = createOpenAIEngine({
        baseUrl: mock.url,
        model: 'mock-model',
        api: 'completions',
        client: 'http1',
      })
      engines.push(engine)
      await engine.start()
      const logged: Engine = Object.create(engine)
      logged.generate = (request, signal) => {
        order.push(name)
        return engine.generate(request, signal)
      }
      return { engine: logged, metricsUrl: mock.url.replace(/\/v1$/, '/metrics') }
    }
    result = await runEndpointStudy({
      off: await endpoint('off'),
      draftAlone: await endpoint('draft'),
      on: [
        { k: 2, endpoint: await endpoint('k2', { ...SPEC, draftMax: 2 }) },
        { k: 3, endpoint: await endpoint('k3', SPEC) },
      ],
      prompts: PROMPTS,
      maxTokens: MAX_TOKENS,
      rounds: ROUNDS,
      onProgress: (m) => progress.push(m),
    })
  })
  afterAll(async () => {
    await Promise.all(engines.map((e) => e[Symbol.asyncDispose]()))
    await Promise.all(mocks.map((m) => m.close()))
  })

  it('sends each prompt to every endpoint in turn, round after round; one progress call per round', () => {
    const one = ['off', 'draft', 'k2', 'k3']
    // First one unmeasured warm-up request each (the default warmup 1), in the same order.
    expect(order).toEqual([...one, ...Array.from({ length: ROUNDS * PROMPTS.length }, () => one).flat()])
    expect(progress).toHaveLength(ROUNDS)
    expect(progress[0]).toMatch(/^round 1 of 3/)
    expect(endpointStudyPhases({ on: [1, 2], draftAlone: 'x', rounds: ROUNDS })).toBe(ROUNDS)
    expect(endpointStudyPhases({ on: [1, 2], draftAlone: 'x' })).toBe(4)
  })

  it('every round is counted: /metrics over the study equals the timings of every response', () => {
    for (const row of result.rows) {
      const m = row.pass.speculation
      const t = row.pass.timingsSpeculation
      expect(m?.counters).toBe('metrics')
      expect(t?.source).toContain(`(${ROUNDS * PROMPTS.length} responses)`)
      expect(m?.draftTokens).toBe(t?.draftTokens)
      expect(m?.acceptedTokens).toBe(t?.acceptedTokens)
      expect(m?.drafts).toBeGreaterThan(0)
      // Outputs compared prompt by prompt on the first round.
      expect(row.pass.texts).toHaveLength(PROMPTS.length)
      expect(row.sameOutput).toBe(true)
      expect(row.predictedSpeedup).toBeGreaterThan(0)
    }
    expect(result.off.speculation?.draftTokens).toBe(0)
    expect(result.c?.source).toBe('measured')
  })

  it('the study file: rounds default 1; with rounds > 1 two endpoints on one server are refused by field', () => {
    const base = {
      name: 'r',
      model: 'm',
      off: 'http://127.0.0.1:8090/v1',
      on: [{ k: 2, url: 'http://127.0.0.1:8091/v1' }],
      prompts: ['a'],
    }
    expect(parseEndpointStudy(base).rounds).toBe(1)
    const same = { ...base, on: [...base.on, { k: 4, url: 'http://127.0.0.1:8091/v1' }], rounds: 3 }
    expect(parseEndpointStudy({ ...same, rounds: 1 }).on).toHaveLength(2)
    let err: unknown
    try {
      parseEndpointStudy(same, 's.ts')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(StudyError)
    expect((err as StudyError).issues).toEqual([
      {
        path: 'on[1].url',
        message:
          'the same server as on[0].url (http://127.0.0.1:8091): with rounds > 1 every endpoint needs its own server (got "http://127.0.0.1:8091/v1")',
      },
    ])
    expect(() => parseEndpointStudy({ ...base, rounds: 0 })).toThrow(/rounds: must be ≥ 1, got 0/)
  })
})
