/**
 * Load executors: sequential, concurrent (closed loop), constant-rate and poisson (open loop), sweeps.
 * The contract is in ./types.ts; semantics in ./README.md.
 * @module
 */
export { arrivalOffsetsMs, constantRateOffsetMs, type OpenLoopSpec } from './arrivals.ts'
export { executeLoad } from './execute.ts'
export { describeLoad, expandLoads } from './expand.ts'
export { expectedRequests } from './expected.ts'
export type { ExecuteLoad, LoadContext, LoadEnd, LoadResult } from './types.ts'
