/**
 * Hands every result to several sinks (the database and a JSON-lines file). The first sink's run id is
 * the one reported.
 * @module
 */
import type { ResultSink, RunRecorder } from './sink.ts'

export function teeSinks(sinks: readonly ResultSink[]): ResultSink {
  if (sinks.length === 1 && sinks[0]) return sinks[0]
  return {
    async startRun(meta): Promise<RunRecorder> {
      const recorders = await Promise.all(sinks.map((s) => s.startRun(meta)))
      return {
        runId: recorders[0]?.runId ?? '',
        record: (outcome) => {
          for (const r of recorders) r.record(outcome)
        },
        recordItem: (item) => {
          for (const r of recorders) r.recordItem(item)
        },
        async serverMetrics(record) {
          await Promise.all(recorders.map((r) => r.serverMetrics?.(record)))
        },
        async finish(state, metrics, error) {
          await Promise.all(recorders.map((r) => r.finish(state, metrics, error)))
        },
      }
    },
    async close() {
      await Promise.all(sinks.map((s) => s.close()))
    },
  }
}
