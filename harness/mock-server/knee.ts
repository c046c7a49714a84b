/**
 * The knee of the capacity model (capacity.ts), computed: a deterministic simulation of what the mock does
 * under a constant-rate load — the same slots, FIFO queue and per-token time itl · (1 + k · (b − 1)) with b
 * taken when each next deadline is computed — with no lateness of its own and a client that stamps each
 * chunk when it is due. `capacityKnee` bisects the arrival rate on the simulated p95 TTFT and TPOT, so
 * tests and docs know the answer `bench sweep` must find. Fixed delays only (the model's knee is defined
 * for them); times in ms, rates in requests per second.
 *
 * Steady state, for orientation (no queue, λ·S < B): a request holds its slot S = ttft + (n − 1) · TPOT,
 * the batch averages b = λ·S (Little), so TPOT ≈ itl · (1 + k · (λ·S − 1)); the queue grows without bound
 * once λ > B / S(B). The simulation also counts the ramp-up and drain of a finite load.
 * @module
 */
import { percentile } from '../metrics/percentile.ts'

export interface CapacityModelParams {
  /** Batch slots B. */
  slots: number
  /** k in itl · (1 + k · (b − 1)). */
  itlGrowth: number
  /** Fixed TTFT after admission, ms. */
  ttftMs: number
  /** Fixed base inter-chunk time, ms. */
  itlMs: number
  /** Output tokens per request (one per chunk), ≥ 2. */
  outputTokens: number
}

export interface ConstantLoad {
  ratePerS: number
  /** Arrivals at i / ratePerS for every i with i / ratePerS < durationS. */
  durationS: number
}

export interface SimulatedRun {
  requests: number
  /** Per request, in arrival order: first chunk − arrival (queue wait included), ms. */
  ttftMs: number[]
  /** Per request: (last − first chunk) / (n − 1), ms. */
  tpotMs: number[]
  ttftMsP95: number
  tpotMsP95: number
}

interface Active {
  arrivalMs: number
  firstMs: number
  nextMs: number
  /** Chunks written so far. */
  sent: number
}

/** What the mock would do with a constant-rate load (deterministic: no draws, no lateness). */
export function simulateCapacity(model: CapacityModelParams, load: ConstantLoad): SimulatedRun {
  const { slots, itlGrowth, ttftMs, itlMs, outputTokens: n } = model
  if (!(slots >= 1 && n >= 2 && load.ratePerS > 0 && load.durationS > 0))
    throw new RangeError('simulateCapacity: slots ≥ 1, outputTokens ≥ 2, ratePerS > 0 and durationS > 0')
  const arrivals: number[] = []
  for (let i = 0; (i * 1000) / load.ratePerS < load.durationS * 1000; i++)
    arrivals.push((i * 1000) / load.ratePerS)
  const active: Active[] = []
  const queue: number[] = []
  const ttft = new Array<number>(arrivals.length)
  const tpot = new Array<number>(arrivals.length)
  const index = new Map<Active, number>()
  let nextArrival = 0
  let done = 0
  const admit = (i: number, atMs: number) => {
    const a: Active = { arrivalMs: arrivals[i]!, firstMs: 0, nextMs: atMs + ttftMs, sent: 0 }
    active.push(a)
    index.set(a, i)
  }
  // Bounded: every iteration writes one chunk or takes one arrival.
  while (done < arrivals.length) {
    let soonest: Active | undefined
    for (const a of active) if (soonest === undefined || a.nextMs < soonest.nextMs) soonest = a
    const arrivalMs = nextArrival < arrivals.length ? arrivals[nextArrival]! : Number.POSITIVE_INFINITY
    if (soonest === undefined || arrivalMs < soonest.nextMs) {
      if (active.length < slots) admit(nextArrival, arrivalMs)
      else queue.push(nextArrival)
      nextArrival++
      continue
    }
    const a = soonest
    const nowMs = a.nextMs
    if (a.sent === 0) a.firstMs = nowMs
    a.sent++
    if (a.sent < n) {
      a.nextMs = nowMs + itlMs * (1 + itlGrowth * (active.length - 1))
      continue
    }
    const i = index.get(a)!
    ttft[i] = a.firstMs - a.arrivalMs
    tpot[i] = (nowMs - a.firstMs) / (n - 1)
    done++
    active.splice(active.indexOf(a), 1)
    const next = queue.shift()
    if (next !== undefined) admit(next, nowMs)
  }
  const sortedTtft = [...ttft].sort((x, y) => x - y)
  const sortedTpot = [...tpot].sort((x, y) => x - y)
  return {
    requests: arrivals.length,
    ttftMs: ttft,
    tpotMs: tpot,
    ttftMsP95: percentile(sortedTtft, 95),
    tpotMsP95: percentile(sortedTpot, 95),
  }
}

export interface KneeSlo {
  ttftMsP95?: number
  tpotMsP95?: number
}

/** Whether a simulated run meets every given bound. */
export function meetsSlo(run: SimulatedRun, slo: KneeSlo): boolean {
  return (
    (slo.ttftMsP95 === undefined || run.ttftMsP95 <= slo.ttftMsP95) &&
    (slo.tpotMsP95 === undefined || run.tpotMsP95 <= slo.tpotMsP95)
  )
}

/**
 * The highest constant arrival rate (requests/s, to `resolution` relative) whose simulated p95 TTFT and
 * TPOT meet `slo` over loads of `durationS`: bisection between `minRatePerS` (must pass) and a rate that
 * fails (doubling from it, up to `maxRatePerS`). undefined when even the lowest rate fails; maxRatePerS
 * when nothing up to it fails.
 */
export function capacityKnee(
  model: CapacityModelParams,
  slo: KneeSlo,
  durationS: number,
  { minRatePerS = 0.1, maxRatePerS = 10_000, resolution = 0.001 } = {},
): number | undefined {
  const passes = (ratePerS: number) => meetsSlo(simulateCapacity(model, { ratePerS, durationS }), slo)
  if (!passes(minRatePerS)) return undefined
  let lo = minRatePerS
  let hi = lo * 2
  while (passes(hi)) {
    lo = hi
    if (hi >= maxRatePerS) return maxRatePerS
    hi = Math.min(maxRatePerS, hi * 2)
  }
  while ((hi - lo) / lo > resolution) {
    const mid = (lo + hi) / 2
    if (passes(mid)) lo = mid
    else hi = mid
  }
  return lo
}
