/**
 * executeLoad: runs one load profile (a sweep step) by dispatching to the closed- or open-loop executor.
 * @module
 */
import { HarnessError } from '../errors.ts'
import type { LoadSpec } from '../results.ts'
import { runClosedLoop } from './closed-loop.ts'
import { runOpenLoop } from './open-loop.ts'
import { runTrace } from './trace.ts'
import type { LoadContext, LoadResult } from './types.ts'

/**
 * Issues the requests of `load` through `ctx.send` and resolves once every one has finished.
 * Rejects only on a broken contract: a load that could never end, or a send() that rejected.
 */
export function executeLoad(load: LoadSpec, ctx: LoadContext): Promise<LoadResult> {
  const problem = findProblem(load)
  if (problem !== undefined) return Promise.reject(new HarnessError(`cannot run load: ${problem}`))
  switch (load.kind) {
    case 'sequential':
      return runClosedLoop(1, load, ctx)
    case 'concurrent':
      return runClosedLoop(load.concurrency, load, ctx)
    case 'constant-rate':
    case 'poisson':
      return runOpenLoop(load, ctx)
    case 'trace':
      if (ctx.traceOffsetsMs === undefined)
        return Promise.reject(new HarnessError('cannot run a trace load without its offsets (readTrace)'))
      return runTrace(ctx.traceOffsetsMs, load.durationS, ctx)
    default: {
      const never: never = load
      return Promise.reject(new HarnessError(`unknown load kind ${JSON.stringify(never)}`))
    }
  }
}

/** The schema rules executors rely on, rechecked because a spec built in code skips validation. */
function findProblem(load: LoadSpec): string | undefined {
  if (load.kind === 'trace') {
    // The trace's line count bounds it (readTrace refuses more than maxLines).
    if (!(load.timeScale > 0 && Number.isFinite(load.timeScale)))
      return `timeScale must be positive and finite, got ${load.timeScale}`
    return undefined
  }
  if (load.requests === undefined && load.durationS === undefined)
    return 'give requests or durationS (or both) so the load ends'
  if (load.requests !== undefined && !(Number.isInteger(load.requests) && load.requests > 0))
    return `requests must be a positive integer, got ${load.requests}`
  if (load.durationS !== undefined && !(load.durationS > 0))
    return `durationS must be positive, got ${load.durationS}`
  if (load.kind === 'concurrent' && !(Number.isInteger(load.concurrency) && load.concurrency > 0))
    return `concurrency must be a positive integer, got ${load.concurrency}`
  if (
    load.kind === 'concurrent' &&
    load.rampUpMs !== undefined &&
    !(load.rampUpMs >= 0 && Number.isFinite(load.rampUpMs))
  )
    return `rampUpMs must be finite and ≥ 0, got ${load.rampUpMs}`
  if (load.kind === 'constant-rate' || load.kind === 'poisson') {
    if (!(load.ratePerS > 0 && Number.isFinite(load.ratePerS)))
      return `ratePerS must be positive and finite, got ${load.ratePerS}`
    if (!(load.maxInFlight >= 1)) return `maxInFlight must be at least 1, got ${load.maxInFlight}`
    if (load.burstiness !== undefined && !(load.burstiness > 0 && Number.isFinite(load.burstiness)))
      return `burstiness must be positive and finite, got ${load.burstiness}`
  }
  return undefined
}
