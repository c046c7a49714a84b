/**
 * `POST /api/runs`: a run measured on another machine, sent as the document `bench export <id> --format
 * json` writes (what `bench push` sends), stored as a new run here (db/import/bench-run.ts). Behind the
 * bearer token like every write (dashboard/auth.ts). 201 `{ id, url, state: 'created' }` for a new run,
 * 200 with the id already here when the same run was sent before, 400 listing every problem, 413 past
 * the size limit.
 * @module
 */
import { Hono } from 'hono'
import type { Db } from '../../db/client.ts'
import { BenchRunError } from '../../db/import/bench-run.ts'
import { BenchRunSyntaxError, streamBenchRun } from '../../db/import/bench-run-stream.ts'
import type { ReadCache } from '../data/cache.ts'
import { BadRequestError } from '../errors.ts'
import { jsonResponse } from './api.ts'

/** Largest run document accepted, bytes (100 k requests with ~30 chunk gaps each are ~60 MiB). */
export const DEFAULT_MAX_INGEST_BYTES = 256 * 1024 * 1024

export interface IngestOptions {
  /** Largest body accepted, bytes. @default DEFAULT_MAX_INGEST_BYTES */
  maxBytes?: number
  /** Told about each new run, so cached reads show it at once. */
  cache?: ReadCache
}

/** What runs.imported.file says of a run that came in through this route. */
export const INGEST_SOURCE = 'POST /api/runs'

export function ingestRoutes(db: Db, options: IngestOptions = {}): Hono {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_INGEST_BYTES
  const app = new Hono()
  const tooLarge = () =>
    jsonResponse(
      {
        error: 'Payload too large',
        problems: [
          `body: larger than the ${sizeText(maxBytes)} this dashboard takes for one run; push a run with fewer requests, or start the dashboard with a larger maxIngestBytes`,
        ],
      },
      413,
    )
  app.post('/runs', async (c) => {
    // A declared length over the limit is refused before a byte is read; a chunked body is counted as
    // it streams and refused the moment it passes the limit (it is never held whole: db/import/
    // bench-run-stream.ts stores it as it arrives, and removes what it stored when refused).
    const declared = Number(c.req.header('content-length') ?? Number.NaN)
    if (declared > maxBytes) return tooLarge()
    const body = c.req.raw.body
    if (!body)
      throw new BadRequestError(['body: empty; send the document `bench export <id> --format json` writes'])
    let stored: Awaited<ReturnType<typeof streamBenchRun>>
    try {
      stored = await streamBenchRun(db, limited(body, maxBytes), { source: INGEST_SOURCE })
    } catch (err) {
      if (err instanceof BodyTooLargeError) return tooLarge()
      if (err instanceof BodyAbortedError)
        throw new BadRequestError(['body: the connection closed before the document ended; send it again'])
      if (err instanceof BenchRunError) throw new BadRequestError(err.problems)
      if (err instanceof BenchRunSyntaxError)
        throw new BadRequestError([
          `body: not valid JSON: ${err.message}; send the document \`bench export <id> --format json\` writes`,
        ])
      const refused = dataError(err)
      if (refused)
        throw new BadRequestError([
          `body: the database refused a value (${refused}); fix that field and send again`,
        ])
      throw err
    }
    const created = stored.state === 'imported'
    if (created) options.cache?.invalidate()
    const url = new URL(`/runs/${stored.id}`, c.req.url).href
    const response = jsonResponse(
      { id: stored.id, url, state: created ? 'created' : 'exists' },
      created ? 201 : 200,
    )
    response.headers.set('location', url)
    return response
  })
  return app
}

class BodyTooLargeError extends Error {}
/** The client went away mid-body: its answer (a 400) goes nowhere, but nothing is logged as a failure. */
class BodyAbortedError extends Error {}

/** The body's chunks, throwing BodyTooLargeError once more than `maxBytes` have come. */
async function* limited(body: ReadableStream<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  const reader = body.getReader()
  let total = 0
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>
      try {
        chunk = await reader.read()
      } catch (err) {
        throw new BodyAbortedError('request body aborted', { cause: err })
      }
      const { done, value } = chunk
      if (done) return
      total += value.byteLength
      if (total > maxBytes) throw new BodyTooLargeError()
      yield value
    }
  } finally {
    // Stop reading (a refused or abandoned body is not drained into memory).
    await reader.cancel().catch(() => {})
  }
}

function sizeText(bytes: number): string {
  const mib = bytes / (1024 * 1024)
  return mib >= 1 ? `${Number(mib.toFixed(1))} MiB` : `${bytes} bytes`
}

/** The message of a PostgreSQL data exception (SQLSTATE class 22, e.g. NUL in a JSON key) in the chain. */
function dataError(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) return e.message
  }
  return undefined
}
