/**
 * The mock's llama-server personality reports speculative decoding as the real server does (the speculative
 * option, harness/mock-server/speculation.ts): `timings.draft_n` / `draft_n_accepted` per response and the
 * `llamacpp:spec_decode_*` counters (per position too) on /metrics, counted from the same draws, so an
 * endpoint study (harness/speculative/endpoints/study.ts) can be practised without a GPU server. Checked
 * against the real llama-server in test/real-server/llama-server-speculative.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOpenAIEngine } from '../../../harness/engines/openai/openai.ts'
import type { MockServerHandle } from '../../../harness/mock-server/server.ts'
import { startMockServer } from '../../../harness/mock-server/server.ts'
import { type EndpointStudyResult, runEndpointStudy } from '../../../harness/speculative/endpoints/study.ts'

const fast = { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 0 } } as const

describe('mock llama-server speculation', () => {
  const mocks: MockServerHandle[] = []
  let result: EndpointStudyResult
  beforeAll(async () => {
    const start = async (speculative?: { draftMax: number; acceptance: number }) => {
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
      await engine.start()
      return { engine, metricsUrl: mock.url.replace(/\/v1$/, '/metrics') }
    }
    result = await runEndpointStudy({
      off: await start(),
      on: [{ k: 4, endpoint: await start({ draftMax: 4, acceptance: 0.7 }) }],
      c: 0.1,
      prompts: Array.from({ length: 8 }, (_, i) => `prompt number ${i} about rivers`),
      maxTokens: 400,
    })
  })
  afterAll(async () => {
    await Promise.all(mocks.map((m) => m.close()))
  })

  it('timings and /metrics count the same drafts; per position non-increasing; τ and α̂ near what was set', () => {
    const row = result.rows[0]!
    const m = row.pass.speculation
    const t = row.pass.timingsSpeculation
    expect(m?.source).toMatch(/llamacpp:spec_decode/)
    expect([t?.draftTokens, t?.acceptedTokens]).toEqual([m?.draftTokens, m?.acceptedTokens])
    expect(m?.acceptedAtPosition?.length).toBe(4)
    expect(m?.acceptedAtPosition?.reduce((a, b) => a + b, 0)).toBe(m?.acceptedTokens)
    const perPos = m?.acceptedAtPosition ?? []
    expect(perPos.every((n, i) => i === 0 || n <= perPos[i - 1]!)).toBe(true)
    // ~1,100 verification steps of K = 4 at α = 0.7: E = 2.773; α̂ within a few hundredths.
    expect(row.meanAcceptanceLength).toBeGreaterThan(2.6)
    expect(row.meanAcceptanceLength).toBeLessThan(2.95)
    expect(Math.abs((row.alphaHat ?? 0) - 0.7)).toBeLessThan(0.04)
    expect(row.predictedSpeedup).toBeCloseTo(row.meanAcceptanceLength! / 1.4, 1)
    expect(row.sameOutput).toBe(true)
  })

  it('without the option: nothing drafted, counters at 0, no per-position series', () => {
    expect(result.off.timingsSpeculation).toBeUndefined()
    expect(result.off.speculation?.draftTokens).toBe(0)
    expect(result.off.speculation?.acceptedAtPosition).toBeUndefined()
  })
})
