/**
 * The error-rate threshold of a run, k6 style (`thresholds: { http_req_failed: ['rate<0.01'] }`): a run
 * whose errorRate is above its maxErrorRate did not measure the server it meant to, so it is marked failed
 * and `bench run` exits 1 naming the error kinds and counts. Pure: outcomes in, verdict out; the runner
 * applies it and the CLI prints it.
 *
 * Requests the run's interrupt aborted (error kind `aborted`, Ctrl-C) were ended by the user, not the
 * server: they are in neither the numerator nor the denominator (summarizeRun counts them in
 * `abortedRequests` instead). Timeouts are errors.
 * @module
 */
import type { RequestErrorKind } from '../errors.ts'
import type { RequestOutcome } from '../results.ts'

/** An outcome the run's interrupt ended: not measured, so in no count or rate. */
export function isAborted(outcome: RequestOutcome): boolean {
  return outcome.state === 'error' && outcome.error.kind === 'aborted'
}

/** Errors of one kind (and HTTP status, for `http`). */
export interface ErrorCount {
  kind: Exclude<RequestErrorKind, 'aborted'>
  /** HTTP status, when the error carried one. */
  status?: number
  count: number
}

/** `http 500`, `timeout`. */
export function errorLabel(e: { kind: RequestErrorKind; status?: number | undefined }): string {
  return e.status === undefined ? e.kind : `${e.kind} ${e.status}`
}

/** Error outcomes grouped by kind and status, most frequent first (ties by label); aborted left out. */
export function countErrors(outcomes: readonly RequestOutcome[]): ErrorCount[] {
  const groups = new Map<string, ErrorCount>()
  for (const o of outcomes) {
    if (o.state !== 'error' || o.error.kind === 'aborted') continue
    const key = errorLabel(o.error)
    const group = groups.get(key)
    if (group) group.count++
    else
      groups.set(key, {
        kind: o.error.kind,
        ...(o.error.status !== undefined ? { status: o.error.status } : {}),
        count: 1,
      })
  }
  return [...groups.values()].sort(
    (a, b) =>
      b.count - a.count || (errorLabel(a) < errorLabel(b) ? -1 : errorLabel(a) > errorLabel(b) ? 1 : 0),
  )
}

/** `http 500 ×40, stream ×2`; `none` when empty. */
export function formatErrorCounts(counts: readonly ErrorCount[]): string {
  return counts.length === 0 ? 'none' : counts.map((c) => `${errorLabel(c)} ×${c.count}`).join(', ')
}

export interface ErrorRateCheck {
  /** errorRate ≤ maxErrorRate (exactly at the threshold passes). */
  passed: boolean
  /** errors / attempted, aborted requests excluded from both; 0 when nothing was attempted. ratio. */
  errorRate: number
  /** ratio in [0, 1]. */
  maxErrorRate: number
  /** Measured requests (ok + errors), aborted excluded. */
  attempted: number
  errors: number
  errorCounts: ErrorCount[]
  /** Why the run failed, e.g. `error rate 20.0 % (40 of 200) > max 1 %: http 500 ×40`; only when !passed. */
  reason?: string
}

/**
 * Checks a run's outcomes against maxErrorRate (a fraction in [0, 1]).
 * errors / attempted is compared as a quotient, never as errors vs maxErrorRate · attempted: the product
 * rounds (0.29 · 100 = 28.999999999999996), the correctly rounded quotient of a rate exactly at the
 * threshold equals the threshold's own double.
 */
export function checkErrorRate(outcomes: readonly RequestOutcome[], maxErrorRate: number): ErrorRateCheck {
  const errorCounts = countErrors(outcomes)
  let errors = 0
  for (const c of errorCounts) errors += c.count
  let attempted = 0
  for (const o of outcomes) if (!isAborted(o)) attempted++
  const errorRate = attempted > 0 ? errors / attempted : 0
  const passed = errorRate <= maxErrorRate
  return {
    passed,
    errorRate,
    maxErrorRate,
    attempted,
    errors,
    errorCounts,
    ...(passed
      ? {}
      : {
          reason: `error rate ${percent(errorRate, maxErrorRate)} (${errors} of ${attempted}) > max ${percent(maxErrorRate)}: ${formatErrorCounts(errorCounts)}`,
        }),
  }
}

/**
 * A ratio as `20.0 %`; with `unlike`, one more decimal (up to 3) until the two read differently, so
 * `1.04 % > max 1 %` never prints as `1.0 % > max 1 %`. Without `unlike`, the shortest exact form up to
 * 3 decimals (`1 %`, `0.5 %`).
 */
export function percent(ratio: number, unlike?: number): string {
  const pct = ratio * 100
  if (unlike === undefined) return `${Number(pct.toFixed(3))} %`
  let digits = 1
  while (digits < 3 && pct.toFixed(digits) === (unlike * 100).toFixed(digits)) digits++
  return `${pct.toFixed(digits)} %`
}
