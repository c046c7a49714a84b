/**
 * An error crossing the process boundary of an isolated engine: toWire() in the child, fromWire() in the
 * parent, so the runner classifies a child's RequestError or EngineStartError as it would an in-process one.
 * @module
 */
import { EngineStartError, RequestError, type RequestErrorKind } from '../../errors.ts'
import type { WireError } from './protocol.ts'

/** An error of the child's engine as it is sent: name, message and the fields the parent's classes need. */
export function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) }
  const e = err as Error & { kind?: unknown; status?: unknown; engine?: unknown; model?: unknown }
  return {
    name: e.name,
    message: e.message,
    ...(typeof e.kind === 'string' ? { kind: e.kind } : {}),
    ...(typeof e.status === 'number' ? { status: e.status } : {}),
    ...(typeof e.engine === 'string' ? { engine: e.engine } : {}),
    ...(typeof e.model === 'string' ? { model: e.model } : {}),
  }
}

/** An error from the child as the parent's own classes, so the runner classifies it the same way. */
export function fromWire(error: WireError): Error {
  if (error.name === 'EngineStartError' && error.engine !== undefined && error.model !== undefined) {
    const prefix = `${error.engine} engine could not start model "${error.model}": `
    const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message
    return new EngineStartError(error.engine, error.model, detail)
  }
  if (error.name === 'RequestError' && error.kind !== undefined)
    return new RequestError(error.kind as RequestErrorKind, error.message, error.status)
  return new RequestError('engine', error.message)
}
