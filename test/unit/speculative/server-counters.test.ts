import { describe, expect, it } from 'vitest'
import type { ServerMetricRow } from '../../../harness/server-metrics/session.ts'
import {
  speculationFromMetrics,
  speculationFromTimings,
} from '../../../harness/speculative/endpoints/server-counters.ts'

const counter = (name: string, delta: number, labels: Record<string, string> = {}): ServerMetricRow => ({
  name,
  labels,
  kind: 'counter',
  before: 100,
  after: 100 + delta,
  delta,
  sumDelta: null,
  max: null,
})
const gauge = (name: string, after: number): ServerMetricRow => ({
  name,
  labels: {},
  kind: 'gauge',
  before: 0,
  after,
  delta: null,
  sumDelta: null,
  max: after,
})

describe('speculation reported by servers', () => {
  it('llama-server timings: sums over the responses that drafted; none → undefined', () => {
    expect(
      speculationFromTimings([
        { draftN: 12, draftNAccepted: 9 },
        undefined,
        {},
        { draftN: 8, draftNAccepted: 1 },
      ]),
    ).toEqual({
      source: 'llama-server timings.draft_n / draft_n_accepted (2 responses)',
      counters: 'timings',
      window: 'run',
      draftTokens: 20,
      acceptedTokens: 10,
      acceptanceRate: 0.5,
    })
    expect(speculationFromTimings([{}, undefined])).toBeUndefined()
    // Drafted nothing (draft_n 0): counts, but no rate from 0/0.
    expect(speculationFromTimings([{ draftN: 0, draftNAccepted: 0 }])?.acceptanceRate).toBeUndefined()
  })

  it('vLLM counters: rate, τ = 1 + accepted / drafts, per-position rates from the position label', () => {
    const rows = [
      counter('vllm:spec_decode_num_drafts_total', 10),
      counter('vllm:spec_decode_num_draft_tokens_total', 30),
      counter('vllm:spec_decode_num_accepted_tokens_total', 18),
      counter('vllm:spec_decode_num_accepted_tokens_per_pos_total', 9, { position: '0' }),
      counter('vllm:spec_decode_num_accepted_tokens_per_pos_total', 3, { position: '2' }),
      counter('vllm:spec_decode_num_accepted_tokens_per_pos_total', 6, { position: '1' }),
      counter('vllm:prompt_tokens_total', 500),
    ]
    const s = speculationFromMetrics(rows)
    expect(s).toMatchObject({
      counters: 'metrics',
      window: 'run',
      drafts: 10,
      draftTokens: 30,
      acceptedTokens: 18,
      acceptedAtPosition: [9, 6, 3],
      acceptanceRate: 0.6,
      meanAcceptanceLength: 2.8,
      perPositionRate: [0.9, 0.6, 0.3],
    })
  })

  it('llama-server counters (llamacpp:): no per-position series', () => {
    const s = speculationFromMetrics([
      counter('llamacpp:spec_decode_num_drafts_total', 4),
      counter('llamacpp:spec_decode_num_draft_tokens_total', 16),
      counter('llamacpp:spec_decode_num_accepted_tokens_total', 16),
    ])
    expect(s).toEqual({
      source: 'Δ llamacpp:spec_decode_* over the run',
      counters: 'metrics',
      window: 'run',
      draftTokens: 16,
      acceptedTokens: 16,
      drafts: 4,
      acceptanceRate: 1,
      meanAcceptanceLength: 5,
    })
  })

  it('SGLang gauges: the server’s own interval, said so; nothing speculative → undefined', () => {
    expect(
      speculationFromMetrics([
        gauge('sglang:spec_accept_length', 2.9),
        gauge('sglang:spec_accept_rate', 0.27),
      ]),
    ).toMatchObject({
      counters: 'gauges',
      window: 'server-interval',
      meanAcceptanceLength: 2.9,
      acceptanceRate: 0.27,
    })
    expect(speculationFromMetrics([counter('vllm:prompt_tokens_total', 5)])).toBeUndefined()
  })
})
