/**
 * Incremental parser of one HTTP/1.1 response (RFC 9112): status line, header fields, then the body framed
 * by chunked transfer coding, Content-Length, or the connection's close. Bytes may be split anywhere.
 *
 * Written for the streaming hot path: once the head is parsed, a read of the body costs a scan of the few
 * framing bytes per data piece, with no string, buffer or view built. Strict where a mistake
 * would corrupt a measurement (a bad chunk size, a second Content-Length that disagrees, framing past the
 * announced length), lenient where servers commonly are (bare LF line ends, a missing reason phrase).
 * @module
 */

/** The response does not follow HTTP/1.1; the connection cannot be trusted after it. */
export class HttpParseError extends Error {
  override readonly name = 'HttpParseError'
}

export interface ResponseHead {
  statusCode: number
  /** Header field names lower-cased; repeated fields joined with ', ' (set-cookie too: unused here). */
  headers: Record<string, string>
  /** The connection may carry another request after this response (keep-alive). */
  keepAlive: boolean
}

export interface ResponseHandler {
  onHead(head: ResponseHead): void
  /**
   * A piece of the body: `bytes[start, end)` of the read, passed as is rather than as a view per piece (the
   * read's buffer belongs to the caller of push(); copy to keep it beyond what the caller allows).
   */
  onBody(bytes: Buffer, start: number, end: number): void
  /** The body ended as framed; nothing of the response is left. */
  onComplete(): void
}

/** Longest head (status line plus fields) accepted; Node's own default is 16 KiB. */
export const MAX_HEAD_BYTES = 64 * 1024
/** Longest chunk-size line (size, extensions) or trailer section accepted. */
const MAX_LINE_BYTES = 4 * 1024

const CR = 13
const LF = 10

enum State {
  Head,
  /** Reading a chunk-size line. */
  ChunkSize,
  ChunkData,
  /** The CRLF after a chunk's data. */
  ChunkDataEnd,
  /** Its CR ended the previous read: only the LF may follow. */
  ChunkDataLf,
  Trailers,
  /** Content-Length bytes left. */
  Fixed,
  /** Until the connection closes. */
  UntilClose,
  Done,
}

export class ResponseParser {
  readonly #handler: ResponseHandler
  #state = State.Head
  /** Head bytes or a partial framing line carried over from earlier reads. */
  #carry: Buffer | undefined
  #remaining = 0

  constructor(handler: ResponseHandler) {
    this.#handler = handler
  }

  /** Ready for the next response on the same connection (one parser per connection, not per response). */
  reset(): void {
    this.#state = State.Head
    this.#carry = undefined
    this.#remaining = 0
  }

  /** The response is complete. */
  get done(): boolean {
    return this.#state === State.Done
  }

  /** The parser has passed the head (a failure now is mid-body). */
  get headParsed(): boolean {
    return this.#state !== State.Head
  }

  /**
   * Parses one read. Returns how many bytes of it belonged to this response: less than its length only
   * when the response completed inside it (the rest is unexpected: nothing was asked for yet).
   */
  push(bytes: Buffer): number {
    let at = 0
    while (at < bytes.length && this.#state !== State.Done) {
      switch (this.#state) {
        case State.Head:
          at = this.#readHead(bytes, at)
          break
        case State.ChunkSize:
          at = this.#readChunkSize(bytes, at)
          break
        case State.ChunkData:
          at = this.#readCounted(bytes, at)
          if (this.#remaining === 0) this.#state = State.ChunkDataEnd
          break
        case State.ChunkDataEnd:
        case State.ChunkDataLf:
          at = this.#readChunkDataEnd(bytes, at)
          break
        case State.Trailers:
          at = this.#readTrailers(bytes, at)
          break
        case State.Fixed:
          at = this.#readCounted(bytes, at)
          if (this.#remaining === 0) this.#complete()
          break
        case State.UntilClose:
          this.#handler.onBody(bytes, at, bytes.length)
          at = bytes.length
          break
      }
    }
    return at
  }

  /** Hands over up to `#remaining` body bytes of the read (a chunk's data or a Content-Length body). */
  #readCounted(bytes: Buffer, at: number): number {
    const end = Math.min(bytes.length, at + this.#remaining)
    this.#remaining -= end - at
    this.#handler.onBody(bytes, at, end)
    return end
  }

  /** The connection ended (EOF). Completes a close-delimited body; anything else was cut short. */
  end(): void {
    if (this.#state === State.Done) return
    if (this.#state === State.UntilClose) {
      this.#complete()
      return
    }
    throw new HttpParseError(
      this.#state === State.Head
        ? 'the connection closed before a response'
        : 'the connection closed before the response ended',
    )
  }

  #complete(): void {
    this.#state = State.Done
    this.#carry = undefined
    this.#handler.onComplete()
  }

  /** Appends to the carried bytes; the result is the carry plus `bytes[from, to)`. */
  #withCarry(bytes: Buffer, from: number, to: number): Buffer {
    const piece = bytes.subarray(from, to)
    return this.#carry === undefined ? piece : Buffer.concat([this.#carry, piece])
  }

  #readHead(bytes: Buffer, at: number): number {
    const carried = this.#carry?.length ?? 0
    // The head ends at an empty line: LF, then CRLF or LF. Search from just before this read, since the
    // blank line may straddle reads.
    const all = this.#withCarry(bytes, at, bytes.length)
    const end = findBlankLine(all, Math.max(0, carried - 2))
    if (end < 0) {
      if (all.length > MAX_HEAD_BYTES)
        throw new HttpParseError(`the response head exceeds ${MAX_HEAD_BYTES} bytes`)
      this.#carry = Buffer.from(all)
      return bytes.length
    }
    if (end > MAX_HEAD_BYTES) throw new HttpParseError(`the response head exceeds ${MAX_HEAD_BYTES} bytes`)
    this.#carry = undefined
    const consumed = end - carried
    const head = parseHead(all.toString('latin1', 0, end))
    if (head === undefined) return at + consumed // 1xx interim response: the real one follows
    this.#handler.onHead(head.head)
    this.#enterBody(head)
    return at + consumed
  }

  #enterBody(head: ParsedHead): void {
    if (head.framing === 'none') this.#complete()
    else if (head.framing === 'chunked') this.#state = State.ChunkSize
    else if (head.framing === 'close') this.#state = State.UntilClose
    else if (head.framing === 0) this.#complete()
    else {
      this.#remaining = head.framing
      this.#state = State.Fixed
    }
  }

  #readChunkSize(bytes: Buffer, at: number): number {
    const lf = bytes.indexOf(LF, at)
    if (lf < 0) {
      // Copied: the read's buffer is not ours to keep.
      this.#carry = Buffer.from(this.#withCarry(bytes, at, bytes.length))
      if (this.#carry.length > MAX_LINE_BYTES) throw new HttpParseError('a chunk-size line is too long')
      return bytes.length
    }
    let line = bytes
    let from = at
    let to = lf
    if (this.#carry !== undefined) {
      line = this.#withCarry(bytes, at, lf)
      from = 0
      to = line.length
      this.#carry = undefined
    }
    // Checked here too, not only on the carry, so the outcome does not depend on where the reads split.
    if (to - from > MAX_LINE_BYTES) throw new HttpParseError('a chunk-size line is too long')
    const size = parseChunkSize(line, from, to)
    if (size === 0) this.#state = State.Trailers
    else {
      this.#remaining = size
      this.#state = State.ChunkData
    }
    return lf + 1
  }

  #readChunkDataEnd(bytes: Buffer, at: number): number {
    // CRLF (or a bare LF); the CR may have come at the end of the previous read.
    let i = at
    if (this.#state === State.ChunkDataEnd && bytes[i] === CR) {
      i++
      // Only the CR so far: the LF follows in the next read. The state remembers the CR, or a second CR
      // at the start of that read would pass where the same bytes in one read fail.
      if (i === bytes.length) {
        this.#state = State.ChunkDataLf
        return i
      }
    }
    if (bytes[i] !== LF) throw new HttpParseError('a chunk is longer than its size')
    this.#state = State.ChunkSize
    return i + 1
  }

  #readTrailers(bytes: Buffer, at: number): number {
    // Trailer fields are not used: skip lines until an empty one.
    let i = at
    for (;;) {
      const lf = bytes.indexOf(LF, i)
      if (lf < 0) {
        this.#carry = Buffer.from(this.#withCarry(bytes, i, bytes.length))
        if (this.#carry.length > MAX_LINE_BYTES) throw new HttpParseError('a trailer field is too long')
        return bytes.length
      }
      const line = this.#withCarry(bytes, i, lf)
      this.#carry = undefined
      if (line.length > MAX_LINE_BYTES) throw new HttpParseError('a trailer field is too long')
      const blank = line.length === 0 || (line.length === 1 && line[0] === CR)
      i = lf + 1
      if (blank) {
        this.#complete()
        return i
      }
    }
  }
}

/** Index just past the blank line ending the head, or −1. */
function findBlankLine(bytes: Buffer, from: number): number {
  let i = bytes.indexOf(LF, from)
  while (i >= 0) {
    const next = bytes[i + 1]
    if (next === LF) return i + 2
    if (next === CR && bytes[i + 2] === LF) return i + 3
    i = bytes.indexOf(LF, i + 1)
  }
  return -1
}

interface ParsedHead {
  head: ResponseHead
  /** 'none' (204/304), 'chunked', 'close' (until EOF), or a Content-Length. */
  framing: 'none' | 'chunked' | 'close' | number
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** The head's text (through its blank line); undefined for a 1xx interim response. */
function parseHead(text: string): ParsedHead | undefined {
  const lines = text.split('\n')
  const statusLine = trimCr(lines[0] ?? '')
  const status = STATUS_LINE.exec(statusLine)
  if (status === null)
    throw new HttpParseError(`not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 80))}`)
  const minor = status[1]!
  const statusCode = Number(status[2])
  const headers: Record<string, string> = {}
  for (let k = 1; k < lines.length; k++) {
    const line = trimCr(lines[k]!)
    if (line.length === 0) continue
    if (line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9)
      throw new HttpParseError('obsolete line folding in a header field')
    const colon = line.indexOf(':')
    const name = colon > 0 ? line.slice(0, colon) : ''
    if (!FIELD_NAME.test(name))
      throw new HttpParseError(`malformed header field: ${JSON.stringify(line.slice(0, 80))}`)
    const key = name.toLowerCase()
    const value = line.slice(colon + 1).trim()
    const previous = headers[key]
    headers[key] = previous === undefined ? value : `${previous}, ${value}`
  }
  // 101 would switch protocols, which was never asked for; other 1xx are interim and skipped.
  if (statusCode >= 100 && statusCode < 200) {
    if (statusCode === 101) throw new HttpParseError('unexpected 101 Switching Protocols')
    return undefined
  }
  const connection = (headers.connection ?? '').toLowerCase()
  let keepAlive = minor === '1' ? !hasToken(connection, 'close') : hasToken(connection, 'keep-alive')
  let framing: ParsedHead['framing']
  const transferEncoding = headers['transfer-encoding']
  const contentLength = headers['content-length']
  if (statusCode === 204 || statusCode === 304) framing = 'none'
  else if (transferEncoding !== undefined) {
    // RFC 9112 §6.3: with Transfer-Encoding, Content-Length is ignored; chunked must be the last coding.
    const codings = transferEncoding
      .toLowerCase()
      .split(',')
      .map((c) => c.trim())
    framing = codings[codings.length - 1] === 'chunked' ? 'chunked' : 'close'
    // §6.1/§6.3: such a message (or Transfer-Encoding under HTTP/1.0) may be a smuggling attempt or a
    // confused proxy; read it, but do not trust the connection with another request.
    if (contentLength !== undefined || minor === '0') keepAlive = false
  } else if (contentLength !== undefined) {
    const values = new Set(contentLength.split(',').map((v) => v.trim()))
    const [only] = values
    if (values.size !== 1 || only === undefined || !/^\d{1,15}$/.test(only))
      throw new HttpParseError(`invalid Content-Length: ${JSON.stringify(contentLength)}`)
    framing = Number(only)
  } else framing = 'close'
  if (framing === 'close') keepAlive = false
  return { head: { statusCode, headers, keepAlive }, framing }
}

function trimCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line
}

function hasToken(list: string, token: string): boolean {
  return list.split(',').some((t) => t.trim() === token)
}

/** The hex size at the start of `line[from, to)` (extensions after ';' ignored). */
function parseChunkSize(line: Buffer, from: number, to: number): number {
  let size = 0
  let digits = 0
  let i = from
  for (; i < to; i++) {
    const c = line[i]!
    const value =
      c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1
    if (value < 0) break
    if (++digits > 12) throw new HttpParseError('a chunk size is too large')
    size = size * 16 + value
  }
  if (digits === 0)
    throw new HttpParseError(`invalid chunk size: ${JSON.stringify(line.toString('latin1', from, to))}`)
  // What may follow the digits: whitespace, extensions, and the CR of the CRLF.
  for (; i < to; i++) {
    const c = line[i]!
    if (c === 59) break // ';' chunk extensions
    if (c !== 32 && c !== 9 && !(c === CR && i === to - 1))
      throw new HttpParseError(`invalid chunk size: ${JSON.stringify(line.toString('latin1', from, to))}`)
  }
  return size
}
