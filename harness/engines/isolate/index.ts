/**
 * An engine in a child process: crash and hang isolation, child-side token stamps, memory sampling.
 * @module
 */
export type { LatencySummary } from './ipc-stats.ts'
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
