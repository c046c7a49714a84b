import type { MetricRow, RunMetrics } from '../../harness/metrics/types.ts'
import type { ItemOutcome, RequestOutcome, RunMeta, RunState } from '../../harness/results.ts'
import type { ResultSink } from '../../harness/sink.ts'

export interface MemoryRun {
  meta: RunMeta
  outcomes: RequestOutcome[]
  items: ItemOutcome[]
  state: RunState
  /** A load run's summary. */
  metrics?: RunMetrics
  /** An accuracy run's metric rows. */
  figures?: MetricRow[]
  error?: string
}

/** A ResultSink that keeps everything in memory, for asserting what the runner handed over and when. */
export function createMemorySink(): ResultSink & { runs: MemoryRun[] } {
  const runs: MemoryRun[] = []
  return {
    runs,
    async startRun(meta) {
      const run: MemoryRun = { meta, outcomes: [], items: [], state: 'running' }
      runs.push(run)
      return {
        runId: String(runs.length),
        record: (o) => {
          run.outcomes.push(o)
        },
        recordItem: (item) => {
          run.items.push(item)
        },
        async finish(state, metrics, error) {
          run.state = state
          if (Array.isArray(metrics)) run.figures = metrics
          else if (metrics) run.metrics = metrics
          if (error !== undefined) run.error = error
        },
      }
    },
    async close() {},
  }
}
