/**
 * The mock reports speculative decoding as the real servers do (the speculative option,
 * harness/mock-server/speculation.ts), so an endpoint study (harness/speculative/endpoints/study.ts) can be
 * practised without a GPU server: the llama-server personality in `timings.draft_n` / `draft_n_accepted`
 * per response and the `llamacpp:spec_decode_*` counters (per position too), the vllm personality in
 * vLLM's `vllm:spec_decode_*` counters only (vllm/v1/spec_decode/metrics.py, SpecDecodingProm), both from
 * the same draws. The counts are checked against the draw model itself: the n-th request a server accepts
 * draws with its delay seed mix32(seed, n) (app.ts), so the test sums responseSpeculation over the requests.
 * llama-server checked against the real one in test/real-server/llama-server-speculative.test.ts.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mockOptionsFromFlags } from '../../../harness/cli/actions/mock-flags.ts'
import { startMockFromFlags } from '../../../harness/cli/actions/mock-server.ts'
import { createOpenAIEngine } from '../../../harness/engines/openai/openai.ts'
import type { SpeculativeOptions } from '../../../harness/mock-server/options.ts'
import type { MockServerHandle } from '../../../harness/mock-server/server.ts'
import { startMockServer } from '../../../harness/mock-server/server.ts'
import { responseSpeculation, SpeculationTotals } from '../../../harness/mock-server/speculation.ts'
import { mix32 } from '../../../harness/mock-server/text.ts'
import { type EndpointStudyResult, runEndpointStudy } from '../../../harness/speculative/endpoints/study.ts'
import { alphaFromTau } from '../../../harness/speculative/model.ts'
import { BENCH_BIN } from '../../helpers/cli.ts'

const fast = { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 0 } } as const
const SPEC: SpeculativeOptions = { draftMax: 4, acceptance: 0.7 }
const PROMPTS = Array.from({ length: 8 }, (_, i) => `prompt number ${i} about rivers`)
const MAX_TOKENS = 400

/**
 * What a server with seed 1 counts over PROMPTS, one request each, after `skip` earlier requests (its n-th
 * request draws with mix32(1, n)): the draws summed.
 */
function drawnTotals(skip = 0): SpeculationTotals {
  const totals = new SpeculationTotals()
  for (let n = skip; n < skip + PROMPTS.length; n++)
    totals.add(responseSpeculation(MAX_TOKENS, SPEC, mix32(1, n)))
  return totals
}

/** An openai engine on the mock (completions, as the study's CLI uses) and where its /metrics are. */
async function endpoint(mock: MockServerHandle) {
  const engine = createOpenAIEngine({
    baseUrl: mock.url,
    model: 'mock-model',
    api: 'completions',
    client: 'http1',
  })
  await engine.start()
  return { engine, metricsUrl: mock.url.replace(/\/v1$/, '/metrics') }
}

describe('mock llama-server speculation', () => {
  const mocks: MockServerHandle[] = []
  let result: EndpointStudyResult
  beforeAll(async () => {
    const start = async (speculative?: SpeculativeOptions) => {
      const mock = await startMockServer({
        personality: 'llama-server',
        ...fast,
        ...(speculative ? { speculative } : {}),
      })
      mocks.push(mock)
      return endpoint(mock)
    }
    result = await runEndpointStudy({
      off: await start(),
      on: [{ k: 4, endpoint: await start(SPEC) }],
      c: 0.1,
      prompts: PROMPTS,
      maxTokens: MAX_TOKENS,
      // drawnTotals() replays the mock's draws from its first request: no unmeasured warm-up request.
      warmup: 0,
    })
  })
  afterAll(async () => {
    await Promise.all(mocks.map((m) => m.close()))
  })

  it('timings and /metrics count the same drafts, the draws; per position non-increasing; τ and α̂ near what was set', () => {
    const row = result.rows[0]!
    const m = row.pass.speculation
    const t = row.pass.timingsSpeculation
    const drawn = drawnTotals()
    expect(m?.source).toMatch(/llamacpp:spec_decode/)
    expect([t?.draftTokens, t?.acceptedTokens]).toEqual([m?.draftTokens, m?.acceptedTokens])
    expect([m?.drafts, m?.draftTokens, m?.acceptedTokens]).toEqual([
      drawn.drafts,
      drawn.draftTokens,
      drawn.acceptedTokens,
    ])
    expect(m?.acceptedAtPosition).toEqual(drawn.acceptedAtPosition)
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

describe('an endpoint study warms each endpoint up outside its figures', () => {
  it('warmup 2: two unmeasured requests per endpoint; the counters are exactly the measured requests’ draws', async () => {
    const off = await startMockServer({ personality: 'llama-server', ...fast })
    const on = await startMockServer({ personality: 'llama-server', ...fast, speculative: SPEC })
    try {
      const result = await runEndpointStudy({
        off: await endpoint(off),
        on: [{ k: SPEC.draftMax, endpoint: await endpoint(on) }],
        c: 0.1,
        prompts: PROMPTS,
        maxTokens: MAX_TOKENS,
        warmup: 2,
      })
      const m = result.rows[0]?.pass.speculation
      const drawn = drawnTotals(2)
      // Requests 0 and 1 were the warm-up: counted neither in the /metrics window nor in the timings.
      expect([m?.drafts, m?.draftTokens, m?.acceptedTokens]).toEqual([
        drawn.drafts,
        drawn.draftTokens,
        drawn.acceptedTokens,
      ])
      expect(m?.acceptedAtPosition).toEqual(drawn.acceptedAtPosition)
      expect(result.rows[0]?.pass.timingsSpeculation?.acceptedTokens).toBe(drawn.acceptedTokens)
      expect(result.off.texts).toHaveLength(PROMPTS.length)
      const served = await (await fetch(on.url.replace(/\/v1$/, '/metrics'))).text()
      // The server did answer the two warm-up requests: 8 + 2 completions.
      expect(served).toMatch(
        new RegExp(`mock_requests_total\\{[^}]*status="200"[^}]*\\} ${PROMPTS.length + 2}\\n`),
      )
    } finally {
      await Promise.all([off.close(), on.close()])
    }
  })
})

describe('mock vllm speculation (bench mock-server --personality vllm --spec-draft-max 4 --spec-acceptance 0.7)', () => {
  const mocks: MockServerHandle[] = []
  let result: EndpointStudyResult
  let freshMetrics: string
  let offMetrics: string
  beforeAll(async () => {
    // The client measures decode time here (vLLM sends no timings): chunks 0.05 ms apart, not one burst.
    const flags = { host: '127.0.0.1', port: 0, personality: 'vllm', ttft: fast.ttft } as const
    const itl = { kind: 'fixed', ms: 0.05 } as const
    const off = await startMockFromFlags({ ...flags, itl })
    const on = await startMockFromFlags({
      ...flags,
      itl,
      specDraftMax: SPEC.draftMax,
      specAcceptance: SPEC.acceptance,
    })
    mocks.push(off, on)
    freshMetrics = await (await fetch(on.url.replace(/\/v1$/, '/metrics'))).text()
    result = await runEndpointStudy({
      off: await endpoint(off),
      on: [{ k: SPEC.draftMax, endpoint: await endpoint(on) }],
      c: 0.1,
      prompts: PROMPTS,
      maxTokens: MAX_TOKENS,
      // drawnTotals() replays the mock's draws from its first request: no unmeasured warm-up request.
      warmup: 0,
    })
    offMetrics = await (await fetch(off.url.replace(/\/v1$/, '/metrics'))).text()
  })
  afterAll(async () => {
    await Promise.all(mocks.map((m) => m.close()))
  })

  it('the study reads the draws from vllm:spec_decode_*: acceptance, τ, per-position rates; α̂ near the acceptance set', () => {
    const row = result.rows[0]!
    const m = row.pass.speculation
    const drawn = drawnTotals()
    expect(m?.source).toMatch(/vllm:spec_decode/)
    expect(m?.window).toBe('run')
    expect([m?.drafts, m?.draftTokens, m?.acceptedTokens]).toEqual([
      drawn.drafts,
      drawn.draftTokens,
      drawn.acceptedTokens,
    ])
    expect(m?.acceptedAtPosition).toEqual(drawn.acceptedAtPosition)
    expect(row.acceptanceRate).toBe(drawn.acceptedTokens / drawn.draftTokens)
    const tau = 1 + drawn.acceptedTokens / drawn.drafts
    expect(row.meanAcceptanceLength).toBe(tau)
    expect(row.alphaHat).toBe(alphaFromTau(tau, SPEC.draftMax))
    expect(m?.perPositionRate).toEqual(drawn.acceptedAtPosition.map((a) => a / drawn.drafts))
    // Position i is reached after i kept tokens: its rate is α^(i+1) (0.7, 0.49, 0.34, 0.24). Over ~1,100
    // steps the sd of a rate is ≤ √(0.25 / 1100) ≈ 0.015, of α̂ ≈ 0.01 (the sd of τ̂, 0.047, over dE/dα 5.2).
    for (const [i, rate] of (m?.perPositionRate ?? []).entries())
      expect(Math.abs(rate - SPEC.acceptance ** (i + 1)), `position ${i}`).toBeLessThan(0.06)
    expect(Math.abs((row.alphaHat ?? 0) - SPEC.acceptance)).toBeLessThan(0.04)
    expect(row.sameOutput).toBe(true)
    // vLLM's OpenAI responses carry no draft counts: nothing per response, only /metrics.
    expect(row.pass.timingsSpeculation).toBeUndefined()
    expect(row.pass.decodeSource).toBe('client chunks')
  })

  it("vLLM's names, HELP/TYPE, labels: first in /metrics, every position at 0 from start", () => {
    const labels = 'model_name="mock-model",engine="0"'
    const expected = [
      '# HELP vllm:spec_decode_num_drafts_total Number of spec decoding drafts.',
      '# TYPE vllm:spec_decode_num_drafts_total counter',
      `vllm:spec_decode_num_drafts_total{${labels}} 0`,
      '# HELP vllm:spec_decode_num_draft_tokens_total Number of draft tokens.',
      '# TYPE vllm:spec_decode_num_draft_tokens_total counter',
      `vllm:spec_decode_num_draft_tokens_total{${labels}} 0`,
      '# HELP vllm:spec_decode_num_accepted_tokens_total Number of accepted tokens.',
      '# TYPE vllm:spec_decode_num_accepted_tokens_total counter',
      `vllm:spec_decode_num_accepted_tokens_total{${labels}} 0`,
      '# HELP vllm:spec_decode_num_accepted_tokens_per_pos_total Accepted tokens per draft position.',
      '# TYPE vllm:spec_decode_num_accepted_tokens_per_pos_total counter',
      ...Array.from(
        { length: SPEC.draftMax },
        (_, i) => `vllm:spec_decode_num_accepted_tokens_per_pos_total{${labels},position="${i}"} 0`,
      ),
    ]
    expect(freshMetrics.split('\n').slice(0, expected.length)).toEqual(expected)
    expect(freshMetrics).toContain(`vllm:num_requests_running{${labels}} 0`)
  })

  it('without the option: no spec_decode series at all (vLLM registers none), nothing read', () => {
    expect(offMetrics).toContain('vllm:generation_tokens_total')
    expect(offMetrics).not.toContain('spec_decode')
    expect(result.off.speculation).toBeUndefined()
  })

  it('the flags: the default personality has no report to give (refused, naming the flag and the fix)', () => {
    expect(() =>
      mockOptionsFromFlags({ host: '127.0.0.1', port: 0, specDraftMax: 4, specAcceptance: 0.7 }),
    ).toThrow(
      /--spec-draft-max: only the llama-server and vllm personalities .*--personality llama-server\|vllm/,
    )
    expect(
      mockOptionsFromFlags({
        host: '127.0.0.1',
        port: 0,
        personality: 'vllm',
        specDraftMax: 4,
        specAcceptance: 0.7,
      }).speculative,
    ).toEqual(SPEC)
  })
})

describe('bench mock-server --personality vllm --spec-draft-max 4 --spec-acceptance 0.7, the real CLI', () => {
  it('serves the vllm:spec_decode_* counters of its draws', async () => {
    const child = spawn(
      process.execPath,
      [
        BENCH_BIN,
        'mock-server',
        '--personality',
        'vllm',
        '--spec-draft-max',
        '4',
        '--spec-acceptance',
        '0.7',
      ].concat(['--port', '0', '--json']),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      let out = ''
      let err = ''
      child.stderr.on('data', (d) => {
        err += d
      })
      for await (const d of child.stdout) {
        out += d
        if (out.includes('\n')) break
      }
      expect(out, err).toMatch(/"port":/)
      const { url } = JSON.parse(out) as { url: string }
      const body = { prompt: 'one request', max_tokens: 60 }
      const r = await fetch(`${url}/completions`, { method: 'POST', body: JSON.stringify(body) })
      expect(r.status).toBe(200)
      await r.text()
      const metrics = await (await fetch(url.replace(/\/v1$/, '/metrics'))).text()
      const drawn = responseSpeculation(60, SPEC, mix32(1, 0))
      const labels = 'model_name="mock-model",engine="0"'
      expect(metrics).toContain(`vllm:spec_decode_num_drafts_total{${labels}} ${drawn.drafts}`)
      expect(metrics).toContain(`vllm:spec_decode_num_draft_tokens_total{${labels}} ${drawn.draftTokens}`)
      expect(metrics).toContain(
        `vllm:spec_decode_num_accepted_tokens_total{${labels}} ${drawn.acceptedTokens}`,
      )
      for (const [i, n] of drawn.acceptedAtPosition.entries())
        expect(metrics).toContain(
          `vllm:spec_decode_num_accepted_tokens_per_pos_total{${labels},position="${i}"} ${n}`,
        )
    } finally {
      child.kill('SIGTERM')
      if (child.exitCode === null) await once(child, 'exit')
    }
  })
})
