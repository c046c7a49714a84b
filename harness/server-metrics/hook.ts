/**
 * The load runner's hook (harness/load/run.ts): start reading the target's server metrics before the
 * measured requests, hand the record to the run's recorder after them. Nothing here fails a run.
 * @module
 */
import type { RunRecorder } from '../sink.ts'
import { type ServerMetricsMode, scrapeTarget } from './endpoint.ts'
import { type ServerMetricsRecord, type ServerMetricsSession, startServerMetrics } from './session.ts'

export interface RunServerMetrics {
  /**
   * Stops sampling, scrapes after the run and hands the record to `recorder` (when it takes one); returns
   * it. A second call (the runner's error path after the first) does nothing more.
   */
  finish(recorder: RunRecorder): Promise<ServerMetricsRecord>
}

/**
 * Scrapes before the run (2 s at most) unless `mode` is off or the engine has no endpoint (`auto` on a
 * native engine): then undefined, and the run stores no server metrics at all.
 */
export async function startRunServerMetrics(
  mode: ServerMetricsMode | undefined,
  engine: object,
): Promise<RunServerMetrics | undefined> {
  const target = scrapeTarget(mode, engine)
  if (target === undefined) return undefined
  const session: ServerMetricsSession = await startServerMetrics({ url: target.url, headers: target.headers })
  let finished: Promise<ServerMetricsRecord> | undefined
  return {
    finish(recorder) {
      finished ??= session.finish().then(async (record) => {
        await recorder.serverMetrics?.(record)
        return record
      })
      return finished
    },
  }
}
