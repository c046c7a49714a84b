import type { RunMetrics } from '../../harness/metrics/types.ts'
import type { RequestOutcome, RunMeta, RunState } from '../../harness/results.ts'
import type { ResultSink } from '../../harness/sink.ts'

export interface MemoryRun {
  meta: RunMeta
  outcomes: RequestOutcome[]
  state: RunState
  metrics?: RunMetrics
  error?: string
}

/** A ResultSink that keeps everything in memory, for asserting what the runner handed over and when. */
export function createMemorySink(): ResultSink & { runs: MemoryRun[] } {
  const runs: MemoryRun[] = []
  return {
    runs,
    async startRun(meta) {
      const run: MemoryRun = { meta, outcomes: [], state: 'running' }
      runs.push(run)
      return {
        runId: String(runs.length),
        record: (o) => {
          run.outcomes.push(o)
        },
        async finish(state, metrics, error) {
          run.state = state
          if (metrics) run.metrics = metrics
          if (error !== undefined) run.error = error
        },
      }
    },
    async close() {},
  }
}
