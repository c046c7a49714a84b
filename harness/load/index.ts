/**
 * Load executors: sequential, concurrent (closed loop), constant-rate and poisson (open loop), trace replay, sweeps.
 * The contract is in ./types.ts; semantics in ./README.md.
 * @module
 */
export { arrivalOffsetsMs, constantRateOffsetMs, type OpenLoopSpec } from './arrivals.ts'
export { executeLoad } from './execute.ts'
export { describeLoad, expandLoads } from './expand.ts'
export { expectedRequests } from './expected.ts'
export {
  DEFAULT_TRACE_MAX_DURATION_S,
  DEFAULT_TRACE_MAX_LINES,
  readTrace,
  runTrace,
  type Trace,
  type TraceEntry,
} from './trace.ts'
export type { ExecuteLoad, LoadContext, LoadEnd, LoadResult } from './types.ts'
