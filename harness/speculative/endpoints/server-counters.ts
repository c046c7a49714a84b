/**
 * What a serving engine reports about its own speculative decoding, as one record whatever the server:
 * drafted and accepted tokens, verification steps when counted, accepted per draft position when served,
 * and what METRICS.md derives from them (acceptance rate, τ, per-position rates). Pure: per-request
 * timings or a run's /metrics deltas (harness/server-metrics) in, figures out; a figure the server does
 * not report is absent, never 0.
 *
 * Sources (names and types from the servers' code):
 * - llama-server, per response: `timings.draft_n`, `timings.draft_n_accepted` (tools/server/server-common.cpp
 *   server_slot_stats::to_json, present once the slot drafted); kept per request as ServerTimings draftN /
 *   draftNAccepted. No verification steps: τ is not derivable from them.
 * - llama-server /metrics (`--metrics`; tools/server/server-task.cpp): counters
 *   `llamacpp:spec_decode_num_draft_tokens_total`, `…_num_accepted_tokens_total`, `…_num_drafts_total`
 *   (verification steps) and `…_num_accepted_tokens_per_pos_total{position="i"}`, the names vLLM uses.
 *   Speculation runs only with `--spec-type draft-simple` (or another type) besides `-md`: the default
 *   type is none, and the draft model then loads but never drafts (checked on the build of build-llama-cpp.sh).
 * - vLLM /metrics (vllm/v1/metrics/loggers.py, SpecDecodingProm): counters `vllm:spec_decode_num_drafts_total`,
 *   `vllm:spec_decode_num_draft_tokens_total`, `vllm:spec_decode_num_accepted_tokens_total`, and
 *   `vllm:spec_decode_num_accepted_tokens_per_pos_total{position="i"}` (0-based).
 * - SGLang /metrics (python/sglang/srt/metrics/collector.py): gauges `sglang:spec_accept_length` (τ) and
 *   `sglang:spec_accept_rate` over its last logging interval, not over our run: reported as the gauge's
 *   value after the run, marked `window: 'server-interval'`.
 * @module
 */
import type { ServerMetricRow } from '../../server-metrics/session.ts'

export interface ServerSpeculation {
  /** Where the figures come from, e.g. "llama-server timings (30 responses)" or "Δ vllm:spec_decode_*". */
  source: string
  /** Which kind of report: /metrics counters (Δ over the run), llama-server's per-response timings, or SGLang's gauges. */
  counters: 'metrics' | 'timings' | 'gauges'
  /** run: counted over exactly our run (deltas, our responses); server-interval: the server's own window. */
  window: 'run' | 'server-interval'
  draftTokens?: number
  acceptedTokens?: number
  /** Verification steps (one per draft the target checked). */
  drafts?: number
  /** acceptedAtPosition[i]: drafts whose (i+1)-th token was kept (vLLM only). */
  acceptedAtPosition?: number[]
  /** acceptedTokens / draftTokens. */
  acceptanceRate?: number
  /** τ = 1 + acceptedTokens / drafts: tokens emitted per verification step, the bonus token included. */
  meanAcceptanceLength?: number
  /** acceptedAtPosition[i] / drafts. */
  perPositionRate?: number[]
}

/** From per-request llama-server `timings` (ok responses that carry draft_n); undefined when none does. */
export function speculationFromTimings(
  timings: readonly ({ draftN?: number; draftNAccepted?: number } | undefined)[],
): ServerSpeculation | undefined {
  let responses = 0
  let draftTokens = 0
  let acceptedTokens = 0
  for (const t of timings) {
    if (t?.draftN === undefined) continue
    responses++
    draftTokens += t.draftN
    acceptedTokens += t.draftNAccepted ?? 0
  }
  if (responses === 0) return undefined
  return {
    source: `llama-server timings.draft_n / draft_n_accepted (${responses} responses)`,
    counters: 'timings',
    window: 'run',
    draftTokens,
    acceptedTokens,
    ...(draftTokens > 0 ? { acceptanceRate: acceptedTokens / draftTokens } : {}),
  }
}

/** Σ delta of a counter over its series; undefined when the server does not serve it. */
function delta(rows: readonly ServerMetricRow[], name: string): number | undefined {
  const matching = rows.filter((r) => r.name === name && r.delta !== null)
  return matching.length === 0 ? undefined : matching.reduce((s, r) => s + (r.delta ?? 0), 0)
}

/** A gauge's value after the run (the last over its series); undefined when absent. */
function after(rows: readonly ServerMetricRow[], name: string): number | undefined {
  const values = rows.filter((r) => r.name === name && r.after !== null).map((r) => r.after as number)
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length
}

/** From a run's /metrics rows: vLLM or llama-server counters first, else SGLang's gauges; else undefined. */
export function speculationFromMetrics(rows: readonly ServerMetricRow[]): ServerSpeculation | undefined {
  for (const prefix of ['vllm:', 'llamacpp:'] as const) {
    const draftTokens = delta(rows, `${prefix}spec_decode_num_draft_tokens_total`)
    const acceptedTokens = delta(rows, `${prefix}spec_decode_num_accepted_tokens_total`)
    if (draftTokens === undefined || acceptedTokens === undefined) continue
    const drafts = delta(rows, `${prefix}spec_decode_num_drafts_total`)
    const perPos = perPosition(rows, `${prefix}spec_decode_num_accepted_tokens_per_pos_total`)
    return {
      source: `Δ ${prefix}spec_decode_* over the run`,
      counters: 'metrics',
      window: 'run',
      draftTokens,
      acceptedTokens,
      ...(drafts !== undefined ? { drafts } : {}),
      ...(perPos ? { acceptedAtPosition: perPos } : {}),
      ...(draftTokens > 0 ? { acceptanceRate: acceptedTokens / draftTokens } : {}),
      ...(drafts !== undefined && drafts > 0 ? { meanAcceptanceLength: 1 + acceptedTokens / drafts } : {}),
      ...(perPos && drafts !== undefined && drafts > 0
        ? { perPositionRate: perPos.map((a) => a / drafts) }
        : {}),
    }
  }
  const tau = after(rows, 'sglang:spec_accept_length')
  const rate = after(rows, 'sglang:spec_accept_rate')
  if (tau === undefined && rate === undefined) return undefined
  return {
    source: 'sglang:spec_accept_length / spec_accept_rate (gauges, the server’s last interval)',
    counters: 'gauges',
    window: 'server-interval',
    ...(tau !== undefined ? { meanAcceptanceLength: tau } : {}),
    ...(rate !== undefined ? { acceptanceRate: rate } : {}),
  }
}

/** Σ delta per `position` label (0-based), as a dense array; undefined when the metric is absent. */
function perPosition(rows: readonly ServerMetricRow[], name: string): number[] | undefined {
  const out: number[] = []
  let any = false
  for (const r of rows) {
    if (r.name !== name || r.delta === null) continue
    const position = Number(r.labels.position)
    if (!Number.isInteger(position) || position < 0) continue
    any = true
    out[position] = (out[position] ?? 0) + r.delta
  }
  return any ? Array.from(out, (v) => v ?? 0) : undefined
}
