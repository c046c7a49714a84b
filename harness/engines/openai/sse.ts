/**
 * Incremental decoder of `text/event-stream` bodies (WHATWG HTML §9.2 "Server-sent events"), written for
 * the streaming hot path: bytes may be split anywhere (mid-line, inside a UTF-8 sequence, between the CR
 * and LF of a CRLF), one read may hold many events, and line endings may be LF, CRLF or CR.
 *
 * It works on the bytes, not on decoded text: a line is found with a byte search, and an event whose data
 * is one `data:` line inside one read (every OpenAI-compatible server's chunk) reaches the sink as a range
 * of that read, with no string, array or event object made for it. Only a line split across reads is
 * copied, and only multi-line data is joined. The bytes are UTF-8 (the standard's only encoding); a field
 * is decoded where it is read, so a multi-byte character split across reads is whole by then.
 *
 * Deviation from the standard, on purpose: `flush()` dispatches an event still pending when the body ends
 * without its blank line (the standard discards it). openai-node does the same, and a server that closes
 * right after its last `data:` line should not lose that chunk; a truncated payload then fails JSON
 * parsing upstream, which is the right outcome for a cut stream.
 * @module
 */

/** Receives the parser's events. */
export interface SseSink {
  /**
   * One dispatched event: `type` is the `event:` field ('message' when absent, as in the standard); its
   * data (`data:` lines joined with LF) is the UTF-8 `bytes[start, end)`, valid during this call only.
   */
  event(type: string, bytes: Buffer, start: number, end: number): void
}

/** One dispatched event, decoded (createSseDecoder). */
export interface SseEvent {
  type: string
  /** `data:` lines joined with '\n'. */
  data: string
  /** Last event id seen on the stream ('' when none); it persists across events, as in the standard. */
  id: string
}

export interface SseDecoder {
  /** Decodes one read of the body; returns the events completed by it (often none or one). */
  push(chunk: Uint8Array | string): SseEvent[]
  /** Ends the stream: decodes the last unterminated line, dispatches what is pending. */
  flush(): SseEvent[]
}

const LF = 10
const CR = 13
const COLON = 58
const SPACE = 32
const EMPTY = Buffer.alloc(0)
const LF_BYTES = Buffer.from('\n')

/** The byte-level parser: one per stream. */
export class SseParser {
  /** An unterminated line carried over from earlier reads (a copy: the reads are not ours to keep). */
  #carry: Buffer | undefined
  /** The previous read ended with CR: an LF opening the next read belongs to that CRLF. */
  #afterCr = false
  #atStart = true
  #eventType = ''
  #dataLines = 0
  /** The pending data: `#dataBytes[#dataStart, #dataEnd)`, in place in the read while it lasts. */
  #dataBytes: Buffer = EMPTY
  #dataStart = 0
  #dataEnd = 0
  #id = ''

  /** The last event id seen ('' when none). */
  get lastEventId(): string {
    return this.#id
  }

  /** Parses `bytes[start, end)`, one read of the body, and hands each event it completes to `sink`. */
  push(bytes: Buffer, start: number, end: number, sink: SseSink): void {
    let pos = start
    if (this.#afterCr) {
      this.#afterCr = false
      if (pos < end && bytes[pos] === LF) pos++
    }
    const carry = this.#carry
    if (carry !== undefined && pos < end) {
      const lineEnd = lineEndIn(bytes, pos, end)
      if (lineEnd === -1) {
        this.#carry = Buffer.concat([carry, bytes.subarray(pos, end)])
        return
      }
      this.#carry = undefined
      const line = Buffer.concat([carry, bytes.subarray(pos, lineEnd)])
      this.#line(line, 0, line.length, sink)
      pos = this.#pastLineEnd(bytes, lineEnd, end)
    }
    // Next LF and CR at or after pos, within the read; −1 stays −1 (none left), so a CR-free body costs one
    // search for CR per read, not one per line.
    let nextLf = pos < end ? bytes.indexOf(LF, pos) : -1
    if (nextLf >= end) nextLf = -1
    let nextCr = pos < end ? bytes.indexOf(CR, pos) : -1
    if (nextCr >= end) nextCr = -1
    while (pos < end) {
      if (nextLf !== -1 && nextLf < pos) {
        nextLf = bytes.indexOf(LF, pos)
        if (nextLf >= end) nextLf = -1
      }
      if (nextCr !== -1 && nextCr < pos) {
        nextCr = bytes.indexOf(CR, pos)
        if (nextCr >= end) nextCr = -1
      }
      const lineEnd = nextCr === -1 || (nextLf !== -1 && nextLf < nextCr) ? nextLf : nextCr
      if (lineEnd === -1) break
      this.#line(bytes, pos, lineEnd, sink)
      pos = this.#pastLineEnd(bytes, lineEnd, end)
    }
    if (pos < end) this.#carry = Buffer.from(bytes.subarray(pos, end))
    // Data waiting for its blank line must not point into this read past the call.
    if (this.#dataLines > 0 && this.#dataBytes === bytes) {
      this.#dataBytes = Buffer.from(bytes.subarray(this.#dataStart, this.#dataEnd))
      this.#dataStart = 0
      this.#dataEnd = this.#dataBytes.length
    }
  }

  /** Ends the stream: the last unterminated line, then what is pending. */
  flush(sink: SseSink): void {
    this.#afterCr = false
    const carry = this.#carry
    if (carry !== undefined) {
      this.#carry = undefined
      this.#line(carry, 0, carry.length, sink)
    }
    this.#dispatch(sink)
  }

  /** Index just past the line end at `lineEnd` (LF, CR or CRLF); sets #afterCr when a CR ends the read. */
  #pastLineEnd(bytes: Buffer, lineEnd: number, end: number): number {
    if (bytes[lineEnd] === LF) return lineEnd + 1
    if (lineEnd + 1 === end) {
      this.#afterCr = true
      return end
    }
    return bytes[lineEnd + 1] === LF ? lineEnd + 2 : lineEnd + 1
  }

  #line(bytes: Buffer, lineStart: number, end: number, sink: SseSink): void {
    let start = lineStart
    if (this.#atStart) {
      this.#atStart = false
      // A UTF-8 byte-order mark opening the stream is not part of the first line.
      if (end - start >= 3 && bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf)
        start += 3
    }
    if (start === end) {
      this.#dispatch(sink)
      return
    }
    const first = bytes[start]
    if (first === COLON) return
    // Nearly every line of an OpenAI stream is `data: {...}`; test for it before searching for the colon.
    if (
      first === 100 &&
      bytes[start + 1] === 97 &&
      bytes[start + 2] === 116 &&
      bytes[start + 3] === 97 &&
      bytes[start + 4] === COLON &&
      start + 4 < end
    ) {
      let valueStart = start + 5
      if (valueStart < end && bytes[valueStart] === SPACE) valueStart++
      this.#appendData(bytes, valueStart, end)
      return
    }
    let colon = bytes.indexOf(COLON, start)
    if (colon === -1 || colon >= end) colon = end
    const field = bytes.toString('utf8', start, colon)
    let valueStart = colon + 1
    if (valueStart < end && bytes[valueStart] === SPACE) valueStart++
    switch (field) {
      case 'data':
        this.#appendData(bytes, Math.min(valueStart, end), end)
        break
      case 'event':
        this.#eventType = valueStart < end ? bytes.toString('utf8', valueStart, end) : ''
        break
      case 'id': {
        const value = valueStart < end ? bytes.toString('utf8', valueStart, end) : ''
        if (!value.includes('\0')) this.#id = value
        break
      }
      default:
        // `retry` and unknown fields: nothing a request-scoped client needs.
        break
    }
  }

  #appendData(bytes: Buffer, start: number, end: number): void {
    if (this.#dataLines === 0) {
      this.#dataBytes = bytes
      this.#dataStart = start
      this.#dataEnd = end
    } else {
      const joined = Buffer.concat([
        this.#dataBytes.subarray(this.#dataStart, this.#dataEnd),
        LF_BYTES,
        bytes.subarray(start, end),
      ])
      this.#dataBytes = joined
      this.#dataStart = 0
      this.#dataEnd = joined.length
    }
    this.#dataLines++
  }

  #dispatch(sink: SseSink): void {
    const type = this.#eventType
    this.#eventType = ''
    if (this.#dataLines === 0) return
    const bytes = this.#dataBytes
    this.#dataBytes = EMPTY
    this.#dataLines = 0
    sink.event(type === '' ? 'message' : type, bytes, this.#dataStart, this.#dataEnd)
  }
}

/** Index of the first LF or CR in `bytes[from, end)`, or −1. */
function lineEndIn(bytes: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const byte = bytes[i]
    if (byte === LF || byte === CR) return i
  }
  return -1
}

/** The parser with decoded events, for callers that want them as objects (tests, non-hot paths). */
export function createSseDecoder(): SseDecoder {
  const parser = new SseParser()
  let out: SseEvent[] = []
  const sink: SseSink = {
    event(type, bytes, start, end) {
      out.push({ type, data: bytes.toString('utf8', start, end), id: parser.lastEventId })
    },
  }
  const collect = (run: () => void): SseEvent[] => {
    out = []
    run()
    return out
  }
  return {
    push(chunk) {
      const bytes =
        typeof chunk === 'string'
          ? Buffer.from(chunk, 'utf8')
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      return collect(() => parser.push(bytes, 0, bytes.length, sink))
    },
    flush: () => collect(() => parser.flush(sink)),
  }
}
