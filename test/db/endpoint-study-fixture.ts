/**
 * An endpoint study record of known figures (db/studies/endpoint-store.ts EndpointStudyRecord), built with
 * the endpoint study's own pure parts — speculationFromMetrics / speculationFromTimings on /metrics deltas
 * and response timings, endpointStudyRow for α̂, the speedups and the error — from hand-chosen counters, for
 * the storage and page tests (the CLI and real-server tests run real studies instead).
 *
 * Per K: 20 drafts, position i (1-based) kept in ⌊20 · 0.8^i⌋ of them; decode 100 tok/s without
 * speculation, 100 · (1 + 0.1·K) with; c = 0.5 given. Options: one K reported only through llama-server's
 * per-response timings (no drafts counter: no τ, α̂ or prediction), one K whose output changed.
 * @module
 */

import type { EndpointStudyRecord } from '../../db/studies/endpoint-store.ts'
import type { ServerMetricRow } from '../../harness/server-metrics/session.ts'
import {
  speculationFromMetrics,
  speculationFromTimings,
} from '../../harness/speculative/endpoints/server-counters.ts'
import {
  type EndpointPass,
  type EndpointStudyResult,
  endpointStudyRow,
} from '../../harness/speculative/endpoints/study.ts'
import { parseEndpointStudy } from '../../harness/speculative/endpoints/study-file.ts'

export const ENDPOINT_C = 0.5
export const DRAFTS = 20
const TEXTS = ['four', '<b>Norland</b> & "x"']

/** Drafts that kept their i-th drafted token (i = 1..K). */
export function keptAt(i: number): number {
  return Math.floor(DRAFTS * 0.8 ** i)
}

const counter = (name: string, delta: number, labels: Record<string, string> = {}): ServerMetricRow => ({
  name,
  labels,
  kind: 'counter',
  before: 0,
  after: delta,
  delta,
  sumDelta: null,
  max: null,
})

export function knownEndpointStudy(
  ks: readonly number[] = [1, 2, 4],
  o: { timingsOnlyAt?: number; changedAt?: number; name?: string; apiKeyEnv?: string } = {},
): EndpointStudyRecord {
  const study = parseEndpointStudy({
    name: o.name ?? 'known-endpoints',
    model: 'teacher',
    off: 'http://127.0.0.1:8080/v1',
    on: ks.map((k) => ({ k, url: `http://127.0.0.1:${8080 + k}/v1` })),
    c: ENDPOINT_C,
    prompts: ['Question: What is 3 + 5?\nAnswer:', 'The <capital> of "Norland" &'],
    maxTokens: 24,
    ...(o.apiKeyEnv !== undefined ? { apiKeyEnv: o.apiKeyEnv } : {}),
  })
  const off: EndpointPass = { texts: TEXTS, decodeTokensPerS: 100, decodeSource: 'server timings' }
  const rows = ks.map((k) => {
    const kept = Array.from({ length: k }, (_, i) => keptAt(i + 1))
    const accepted = kept.reduce((a, b) => a + b, 0)
    // Two responses' timings that sum to the /metrics deltas, as llama-server's agree.
    const timingsSpeculation = speculationFromTimings([
      { draftN: 10 * k, draftNAccepted: Math.floor(accepted / 2) },
      { draftN: 10 * k, draftNAccepted: accepted - Math.floor(accepted / 2) },
    ])
    const speculation =
      o.timingsOnlyAt === k
        ? timingsSpeculation
        : speculationFromMetrics([
            counter('llamacpp:spec_decode_num_drafts_total', DRAFTS),
            counter('llamacpp:spec_decode_num_draft_tokens_total', DRAFTS * k),
            counter('llamacpp:spec_decode_num_accepted_tokens_total', accepted),
            ...kept.map((n, i) =>
              counter('llamacpp:spec_decode_num_accepted_tokens_per_pos_total', n, { position: String(i) }),
            ),
          ])
    const pass: EndpointPass = {
      texts: o.changedAt === k ? [TEXTS[0]!, 'something else'] : TEXTS,
      decodeTokensPerS: 100 * (1 + 0.1 * k),
      decodeSource: 'server timings',
      ...(speculation ? { speculation } : {}),
      ...(timingsSpeculation ? { timingsSpeculation } : {}),
    }
    return endpointStudyRow(k, pass, off, ENDPOINT_C)
  })
  const result: EndpointStudyResult = { off, c: { value: ENDPOINT_C, source: 'given' }, rows }
  return {
    study,
    result,
    startedAt: '2026-12-07T22:00:00.000Z',
    durationMs: 1234,
    environment: {
      cpus: 2,
      cpuModel: 'test cpu',
      node: process.version,
      loadAverageBefore: [1, 2, 3],
      loadAverageAfter: [1.5, 2, 3],
    },
  }
}
