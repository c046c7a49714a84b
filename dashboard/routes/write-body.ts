/**
 * The small JSON bodies of the dashboard's writes (label, alert actions, prices): a size cap checked
 * before the body is read, and one parse whose failure is a 400 naming the body and, when given, an
 * example of what to send. (Run ingest has its own: a large, configurable cap answered with 413.)
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { BadRequestError } from '../errors.ts'

/** Refuses a body over `maxBytes` with a 400 before it is read. */
export function smallBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new BadRequestError([`body: larger than ${maxBytes} bytes`])
    },
  })
}

/**
 * The request's JSON body. `example` goes into the error ("expected a JSON object like …"); with
 * `empty`, a blank body stands for it (an optional body).
 */
export async function readJsonBody(
  c: Context,
  o: { example?: string; empty?: unknown } = {},
): Promise<unknown> {
  const text = await c.req.text()
  if (o.empty !== undefined && text.trim() === '') return o.empty
  try {
    return JSON.parse(text)
  } catch {
    throw new BadRequestError([`body: expected a JSON object${o.example ? ` like ${o.example}` : ''}`])
  }
}
