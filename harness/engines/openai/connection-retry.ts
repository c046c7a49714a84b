/**
 * Counting the requests that the lean transports (http1, undici) sent again because a kept-alive
 * connection closed under them before any byte of the response (see Http1Agent.request for the rule). A
 * response carries its count; an error that ends a retried request is tagged here, since it may be Node's
 * own socket error rather than one of ours.
 * @module
 */

const RETRIES = Symbol('connectionRetries')
interface Retried {
  [RETRIES]?: number
}

/** Socket errors that mean "the server closed this connection", not "this request broke it". */
export const CLOSED_BY_PEER_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE'])

/** Records on `error` that its request had been sent `retries` times again before it failed. */
export function markConnectionRetries(error: unknown, retries: number): void {
  if (retries > 0 && typeof error === 'object' && error !== null) (error as Retried)[RETRIES] = retries
}

/** How many times the request that failed with `error` had been resent (0 when it never was). */
export function connectionRetriesOf(error: unknown): number {
  let current: unknown = error
  // RequestError wraps the transport's error in `cause`.
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const retries = (current as Retried)[RETRIES]
    if (retries !== undefined) return retries
    current = (current as { cause?: unknown }).cause
  }
  return 0
}

/**
 * Whether undici's error says the request died with a connection the server closed, before the response
 * head: EOF ("other side closed") on a socket that had already carried a response (undici reports the
 * socket's byte counts: bytes read before this request's head means the connection was reused), or a reset
 * / broken pipe, for which undici gives no socket details — those are retried whatever the connection's age.
 */
export function lostOnReusedConnection(error: unknown): boolean {
  const { code, socket } = error as { code?: unknown; socket?: { bytesRead?: number } }
  if (code === 'UND_ERR_SOCKET') return (socket?.bytesRead ?? 0) > 0
  return typeof code === 'string' && CLOSED_BY_PEER_CODES.has(code)
}
