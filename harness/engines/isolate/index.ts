/**
 * Native engines in a child process: crash and hang isolation, child-side token stamps, memory sampling.
 * @module
 */
export { type ClockOffset, type ClockPing, estimateClockOffset } from './clock-sync.ts'
export type { IpcStats, LatencySummary } from './ipc-stats.ts'
export {
  childEnvironment,
  createIsolatedEngine,
  type IsolatedEngine,
  type IsolatedEngineSpec,
  type IsolateHandle,
  type IsolateOptions,
  type IsolateState,
  type IsolateStats,
} from './isolated-engine.ts'
