/**
 * Incremental decoder of `text/event-stream` bodies (WHATWG HTML §9.2 "Server-sent events"), written for
 * the streaming hot path: bytes may be split anywhere (mid-line, inside a UTF-8 sequence, between the CR
 * and LF of a CRLF), one read may hold many events, and line endings may be LF, CRLF or CR.
 *
 * Deviation from the standard, on purpose: `flush()` dispatches an event still pending when the body ends
 * without its blank line (the standard discards it). openai-node does the same, and a server that closes
 * right after its last `data:` line should not lose that chunk; a truncated payload then fails JSON
 * parsing upstream, which is the right outcome for a cut stream.
 * @module
 */
import { StringDecoder } from 'node:string_decoder'

/** One dispatched event. `type` is the `event:` field, 'message' when absent (as in the standard). */
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
  /** Ends the stream: decodes any buffered bytes and the last unterminated line, dispatches what is pending. */
  flush(): SseEvent[]
}

const LF = 10
const COLON = 58
const SPACE = 32
const BOM = 0xfeff
const NO_EVENTS: SseEvent[] = []

export function createSseDecoder(): SseDecoder {
  return new Decoder()
}

class Decoder implements SseDecoder {
  readonly #utf8 = new StringDecoder('utf8')
  /** Text after the last line terminator of the previous read. */
  #partial = ''
  /** The previous read ended with CR: an LF opening the next read belongs to that CRLF. */
  #afterCr = false
  #atStart = true
  #eventType = ''
  #data = ''
  #dataLines = 0
  #id = ''
  #out: SseEvent[] = NO_EVENTS

  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.#utf8.write(chunk)
    this.#out = NO_EVENTS
    if (text.length > 0) this.#decode(text)
    return this.#out
  }

  flush(): SseEvent[] {
    this.#out = NO_EVENTS
    const rest = this.#utf8.end()
    if (rest.length > 0) this.#decode(rest)
    if (this.#partial.length > 0) {
      const line = this.#partial
      this.#partial = ''
      this.#line(line, 0, line.length)
    }
    this.#dispatch()
    return this.#out
  }

  #decode(input: string): void {
    let text = input
    if (this.#partial.length > 0) {
      text = this.#partial + text
      this.#partial = ''
    }
    let pos = 0
    if (this.#atStart) {
      this.#atStart = false
      if (text.charCodeAt(0) === BOM) pos = 1
    }
    if (this.#afterCr) {
      this.#afterCr = false
      if (text.charCodeAt(pos) === LF) pos++
    }
    const length = text.length
    // Positions of the next LF and CR at or after pos; -1 stays -1 (none left), so a CR-free body costs
    // one extra scan per read, not one per line.
    let nextLf = text.indexOf('\n', pos)
    let nextCr = text.indexOf('\r', pos)
    while (pos < length) {
      if (nextLf !== -1 && nextLf < pos) nextLf = text.indexOf('\n', pos)
      if (nextCr !== -1 && nextCr < pos) nextCr = text.indexOf('\r', pos)
      let end: number
      let next: number
      if (nextCr === -1 || (nextLf !== -1 && nextLf < nextCr)) {
        if (nextLf === -1) break
        end = nextLf
        next = end + 1
      } else {
        end = nextCr
        if (end + 1 === length) {
          this.#afterCr = true
          next = length
        } else {
          next = text.charCodeAt(end + 1) === LF ? end + 2 : end + 1
        }
      }
      this.#line(text, pos, end)
      pos = next
    }
    if (pos < length) this.#partial = pos === 0 ? text : text.slice(pos)
  }

  #line(text: string, start: number, end: number): void {
    if (start === end) {
      this.#dispatch()
      return
    }
    const first = text.charCodeAt(start)
    if (first === COLON) return
    // Nearly every line of an OpenAI stream is `data: {...}`; test for it before searching for the colon.
    if (
      first === 100 &&
      text.charCodeAt(start + 1) === 97 &&
      text.charCodeAt(start + 2) === 116 &&
      text.charCodeAt(start + 3) === 97 &&
      text.charCodeAt(start + 4) === COLON
    ) {
      let valueStart = start + 5
      if (text.charCodeAt(valueStart) === SPACE && valueStart < end) valueStart++
      this.#appendData(text.slice(valueStart, end))
      return
    }
    let colon = text.indexOf(':', start)
    if (colon === -1 || colon >= end) colon = end
    const field = text.slice(start, colon)
    let valueStart = colon + 1
    if (valueStart < end && text.charCodeAt(valueStart) === SPACE) valueStart++
    const value = valueStart < end ? text.slice(valueStart, end) : ''
    switch (field) {
      case 'data':
        this.#appendData(value)
        break
      case 'event':
        this.#eventType = value
        break
      case 'id':
        if (!value.includes('\0')) this.#id = value
        break
      default:
        // `retry` and unknown fields: nothing a request-scoped client needs.
        break
    }
  }

  #appendData(value: string): void {
    this.#data = this.#dataLines === 0 ? value : `${this.#data}\n${value}`
    this.#dataLines++
  }

  #dispatch(): void {
    if (this.#dataLines === 0) {
      this.#eventType = ''
      return
    }
    const event: SseEvent = { type: this.#eventType || 'message', data: this.#data, id: this.#id }
    this.#eventType = ''
    this.#data = ''
    this.#dataLines = 0
    if (this.#out === NO_EVENTS) this.#out = [event]
    else this.#out.push(event)
  }
}
