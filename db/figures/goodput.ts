/**
 * Goodput of stored requests at an SLO the reader chooses, pure: METRICS.md `goodputRequestsPerS` (ok
 * requests meeting every SLO bound / window) and `goodFraction` (good / (ok + errors)), computed by the
 * harness's own summarizeRun and meetsSlo on the outcomes the rows were stored from (db/request-rows.ts
 * fromRequestRow), so the window, the aborted-request rule and "a request without a TPOT meets the TPOT
 * bound" are the harness's, not a copy.
 * @module
 */
import { meetsSlo, summarizeRun } from '../../harness/metrics/run.ts'
import type { Slo } from '../../harness/metrics/types.ts'
import type { RequestOutcome } from '../../harness/results.ts'

export type GoodputAtSlo =
  | {
      state: 'computed'
      goodputRequestsPerS: number
      goodFraction: number
      /** Ok requests meeting every bound. */
      good: number
      /** Measured requests (ok + errors; aborted ones left out, as summarizeRun does). */
      attempted: number
      /** The run's window (first tSend → last tLast), ms. */
      windowMs: number
    }
  | { state: 'unavailable'; reason: string }

/** A run's stored request rows as outcomes (seq order), or why they cannot be (imported, incomplete). */
export type StoredOutcomes = RequestOutcome[] | string

/**
 * METRICS.md goodput of `outcomes` at `slo`, through summarizeRun (the same window and rule). No outcomes
 * → unavailable; outcomes that were all aborted → computed, 0 of 0 over a 0 ms window (the harness's
 * "rates are 0 when the window is 0").
 */
export function goodputOfOutcomes(outcomes: readonly RequestOutcome[], slo: Slo): GoodputAtSlo {
  if (outcomes.length === 0) return { state: 'unavailable', reason: 'no per-request rows are stored' }
  const summary = summarizeRun(outcomes, { slo })
  let good = 0
  for (const o of outcomes) if (o.state === 'ok' && meetsSlo(o, slo)) good++
  return {
    state: 'computed',
    goodputRequestsPerS: summary.goodputRequestsPerS ?? 0,
    goodFraction: summary.goodFraction ?? 0,
    good,
    attempted: summary.attempted,
    windowMs: summary.windowMs,
  }
}

/** goodputOfOutcomes, or unavailable with the reason the rows could not be read back as outcomes. */
export function goodputOf(outcomes: StoredOutcomes, slo: Slo): GoodputAtSlo {
  return typeof outcomes === 'string'
    ? { state: 'unavailable', reason: outcomes }
    : goodputOfOutcomes(outcomes, slo)
}

/**
 * Every SLO bound (ttftMs, tpotMs, e2eMs) a stored scenario declared: each kept only when a finite number
 * > 0; empty when it declared none (or the scenario is not an object). Goodput "at the scenario's SLO" then
 * counts the requests the run's own goodputRequestsPerS counted (all its bounds).
 */
export function declaredSlo(scenario: unknown): Slo {
  const slo = (scenario as { slo?: Record<string, unknown> } | null)?.slo
  const bound = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined)
  const out: Slo = {}
  for (const name of ['ttftMs', 'tpotMs', 'e2eMs'] as const) {
    const v = bound(slo?.[name])
    if (v !== undefined) out[name] = v
  }
  return out
}
