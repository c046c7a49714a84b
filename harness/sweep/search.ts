/**
 * The knee search of `bench sweep`, independent of how a step is measured: coarse steps doubling the rate
 * from `minRatePerS` until one fails (or `maxRatePerS` passes), then bisection between the last passing and
 * the first failing rate until they are within `tolerance` of each other (relative to the passing one).
 * The knee is the last passing rate: the true knee of the measured curve lies in [knee, knee · (1 +
 * tolerance)). Assumes pass/fail is monotone in the rate (a server that gets better under more load breaks
 * the bisection, not the coarse phase).
 * @module
 */

export interface SearchOptions {
  /** First rate tried, requests/s (> 0). */
  minRatePerS: number
  /** Highest rate tried, requests/s (≥ minRatePerS). */
  maxRatePerS: number
  /** Bisection stops once (fail − pass) / pass ≤ this. ratio, e.g. 0.05. */
  tolerance: number
  /** Steps in all (coarse and bisection), a bound on the sweep's time. */
  maxSteps: number
}

export type SearchPhase = 'coarse' | 'bisect'

export interface StepOutcome<T> {
  pass: boolean
  /** The sweep must end now (interrupted): nothing is concluded from this step. */
  abort?: boolean
  result: T
}

export interface SearchStep<T> extends StepOutcome<T> {
  ratePerS: number
  phase: SearchPhase
}

/**
 * - `bracketed`: a passing and a failing rate within tolerance; `knee` the passing one.
 * - `max-rate`: maxRatePerS passed: the knee is at least that (`knee` = maxRatePerS).
 * - `lowest-fails`: minRatePerS failed: no knee at or above it.
 * - `max-steps`: the step budget ran out; `knee` the best passing rate so far (when one passed).
 * - `aborted`: a step asked to stop (interrupt).
 */
export type SearchEnd = 'bracketed' | 'max-rate' | 'lowest-fails' | 'max-steps' | 'aborted'

export interface SearchResult<T> {
  steps: SearchStep<T>[]
  end: SearchEnd
  /** Highest passing rate found, requests/s. */
  knee?: number
  /** Lowest failing rate above it, when one was measured. */
  firstFailing?: number
}

/** Runs the search; `runStep` measures one rate (each call is one stored run). */
export async function searchKnee<T>(
  runStep: (ratePerS: number, phase: SearchPhase) => Promise<StepOutcome<T>>,
  options: SearchOptions,
): Promise<SearchResult<T>> {
  const { minRatePerS, maxRatePerS, tolerance, maxSteps } = options
  if (!(minRatePerS > 0 && maxRatePerS >= minRatePerS && tolerance > 0 && maxSteps >= 1))
    throw new RangeError('searchKnee: need 0 < minRatePerS ≤ maxRatePerS, tolerance > 0, maxSteps ≥ 1')
  const steps: SearchStep<T>[] = []
  let pass: number | undefined
  let fail: number | undefined
  const result = (end: SearchEnd): SearchResult<T> => ({
    steps,
    end,
    ...(pass !== undefined ? { knee: pass } : {}),
    ...(fail !== undefined ? { firstFailing: fail } : {}),
  })
  const measure = async (ratePerS: number, phase: SearchPhase) => {
    const outcome = await runStep(ratePerS, phase)
    steps.push({ ...outcome, ratePerS, phase })
    return outcome
  }

  // Coarse: double until a failure or the cap.
  for (let rate = minRatePerS; ; rate = Math.min(maxRatePerS, rate * 2)) {
    if (steps.length >= maxSteps) return result('max-steps')
    const outcome = await measure(rate, 'coarse')
    if (outcome.abort) return result('aborted')
    if (!outcome.pass) {
      fail = rate
      break
    }
    pass = rate
    if (rate >= maxRatePerS) return result('max-rate')
  }
  if (pass === undefined || fail === undefined) return result('lowest-fails')

  // Bisection between the last pass and the first failure.
  let lo: number = pass
  let hi: number = fail
  while ((hi - lo) / lo > tolerance) {
    if (steps.length >= maxSteps) return result('max-steps')
    const mid = (lo + hi) / 2
    const outcome = await measure(mid, 'bisect')
    if (outcome.abort) return result('aborted')
    if (outcome.pass) pass = lo = mid
    else fail = hi = mid
  }
  return result('bracketed')
}
