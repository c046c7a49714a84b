/**
 * A ResultSink that appends JSON lines to a file: `{"type":"run",…}` when a run starts, one
 * `{"type":"outcome",…}` per request as it finishes, `{"type":"finish",…}` at the end. Lines are flushed
 * at least every `flushMs`, so a killed process loses at most that much.
 * @module
 */
import { randomUUID } from 'node:crypto'
import { appendFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { ResultSink, RunRecorder } from './sink.ts'

export function createJsonlSink(file: string, options: { flushMs?: number } = {}): ResultSink {
  const flushMs = options.flushMs ?? 200
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  let buffer: string[] = []
  let timer: NodeJS.Timeout | undefined
  // Synchronous appends: cheap at these sizes and nothing is pending when the process dies after a flush.
  const flush = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (buffer.length === 0) return
    const text = buffer.join('')
    buffer = []
    appendFileSync(file, text)
  }
  const write = (line: unknown) => {
    buffer.push(`${JSON.stringify(line)}\n`)
    timer ??= setTimeout(flush, flushMs)
  }
  return {
    async startRun(meta): Promise<RunRecorder> {
      const runId = randomUUID()
      write({ type: 'run', runId, meta })
      flush()
      return {
        runId,
        record: (outcome) => write({ type: 'outcome', runId, outcome }),
        async finish(state, metrics, error) {
          write({ type: 'finish', runId, state, metrics, ...(error !== undefined ? { error } : {}) })
          flush()
        },
      }
    },
    async close() {
      flush()
    },
  }
}

/** A sink that keeps nothing (runs without --out before a database is configured). */
export function createNullSink(): ResultSink {
  let n = 0
  return {
    startRun: async () => ({ runId: String(++n), record: () => {}, finish: async () => {} }),
    close: async () => {},
  }
}
