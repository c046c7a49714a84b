/**
 * A ResultSink that appends JSON lines to a file: `{"type":"run",…}` when a run starts, one
 * `{"type":"outcome",…}` per request as it finishes (`{"type":"item",…}` per item of an accuracy run),
 * `{"type":"finish",…}` at the end (`metrics`: a load run's RunMetrics, an accuracy run's metric rows). Lines are flushed
 * at least every `flushMs`, so a killed process loses at most that much. Every line passes through the
 * redactor (harness/redact.ts) with the run's scenario and engine options as context, as the database
 * sink does: an error body that echoes the key, or a header value in the scenario, is never written.
 * The file is created 0600 and a missing directory 0700: results name endpoints and models, private to
 * the user (an existing file keeps its mode).
 * @module
 */
import { randomUUID } from 'node:crypto'
import { appendFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { type ContextRedactor, createRedactor } from './redact.ts'
import type { ResultSink, RunRecorder } from './sink.ts'

export interface JsonlSinkOptions {
  /** Lines are written at least this often. ms @default 200 */
  flushMs?: number
  /**
   * Secrets known beyond the run's own scenario (the CLI's output redactor); each run extends it with its
   * scenario source and engine options. @default createRedactor() (process.env)
   */
  redactor?: ContextRedactor
}

export function createJsonlSink(file: string, options: JsonlSinkOptions = {}): ResultSink {
  const flushMs = options.flushMs ?? 200
  const base = options.redactor ?? createRedactor()
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 })
  let buffer: string[] = []
  let timer: NodeJS.Timeout | undefined
  // Synchronous appends: cheap at these sizes and nothing is pending when the process dies after a flush.
  const flush = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (buffer.length === 0) return
    const text = buffer.join('')
    buffer = []
    appendFileSync(file, text, { mode: 0o600 })
  }
  const write = (line: unknown) => {
    buffer.push(`${JSON.stringify(line)}\n`)
    timer ??= setTimeout(flush, flushMs)
  }
  return {
    async startRun(meta): Promise<RunRecorder> {
      const runId = randomUUID()
      const redact = base.extend([meta.scenario.source, meta.engineOptions])
      write(redact.value({ type: 'run', runId, meta }))
      flush()
      return {
        runId,
        record: (outcome) => write(redact.value({ type: 'outcome', runId, outcome })),
        // JSON has no -Infinity (a choice an endpoint's top-k lacks) or NaN: such scores are written as text.
        recordItem: (item) =>
          write(
            redact.value({
              type: 'item',
              runId,
              item: item.logliks
                ? { ...item, logliks: item.logliks.map((v) => (Number.isFinite(v) ? v : String(v))) }
                : item,
            }),
          ),
        // Before the finish line: `{"type":"server-metrics","runId",url,state,reason?,samples,rows}`.
        async serverMetrics(record) {
          write(redact.value({ type: 'server-metrics', runId, ...record }))
        },
        async finish(state, metrics, error) {
          const line = { type: 'finish', runId, state, metrics, ...(error !== undefined ? { error } : {}) }
          write(redact.value(line))
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
    startRun: async () => ({
      runId: String(++n),
      record: () => {},
      recordItem: () => {},
      finish: async () => {},
    }),
    close: async () => {},
  }
}
