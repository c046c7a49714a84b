/**
 * Streaming split of one large JSON object: its top-level members are handed over one by one, parsed,
 * and the elements of one named array member (a run document's `requests`) one element at a time, so a
 * 100 k-request document never sits in memory whole (issue 14: JSON.parse of a pushed run raised the
 * dashboard's RSS by ~800 MB).
 *
 * Why not a dependency: the package lists offer general streaming parsers (@streamparser/json and the
 * like) that build every value token by token in JavaScript; this document needs only its boundaries
 * found. A byte scanner (strings and nesting; `{}[]",` are ASCII and never part of a multi-byte UTF-8
 * sequence) plus the built-in JSON.parse on each piece does that in ~100 lines, and JSON.parse still
 * checks every piece's syntax.
 * @module
 */

export type JsonStreamEvent =
  | { kind: 'member'; key: string; value: unknown }
  | { kind: 'element'; index: number; value: unknown }

/** Not valid JSON, or not one object; `at` is the byte offset where it was noticed. */
export class JsonStreamError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(`${message} (at byte ${at})`)
    this.name = 'JsonStreamError'
  }
}

const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09

/**
 * Feed chunks with push(), then end(); each returns the events completed so far. The streamed array's
 * elements come as `element` events in order; every other member as one `member` event when it ends.
 */
export class JsonObjectStream {
  readonly #arrayKey: RegExp
  /** Nesting depth outside strings: 1 inside the top object, 2 inside one of its members' values. */
  #depth = 0
  #inString = false
  #escape = false
  /** Inside the streamed array (its elements are at depth 2). */
  #streaming = false
  /** The top object has closed. */
  #done = false
  #started = false
  /** Bytes of the piece being collected, from earlier chunks. */
  #pieces: Buffer[] = []
  #pieceBytes = 0
  #index = 0
  #members = 0
  /** The streamed array has just closed: its member's remaining text is only white space. */
  #afterArray = false
  #sawArray = false
  /** Bytes seen before the current chunk. */
  #offset = 0

  constructor(arrayKey: string) {
    this.#arrayKey = new RegExp(
      `^\\s*${JSON.stringify(arrayKey).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:\\s*$`,
    )
  }

  push(chunk: Uint8Array): JsonStreamEvent[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const events: JsonStreamEvent[] = []
    let start = 0
    // The hot loop keeps its state in locals, written back below (measured faster than fields).
    let inString = this.#inString
    let escaped = this.#escape
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i] as number
      if (inString) {
        if (escaped) escaped = false
        else if (b === BACKSLASH) escaped = true
        else if (b === QUOTE) inString = false
        continue
      }
      if (this.#depth === 0) {
        // White space, and a UTF-8 byte-order mark at the very start.
        if (isSpace(b) || (this.#offset + i < 3 && (b === 0xef || b === 0xbb || b === 0xbf))) continue
        if (!this.#started && b === OPEN_OBJECT) {
          this.#started = true
          this.#depth = 1
          start = i + 1
          continue
        }
        throw new JsonStreamError(
          this.#done ? 'unexpected data after the document' : 'expected a JSON object',
          this.#offset + i,
        )
      }
      if (b === QUOTE) inString = true
      else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
        if (this.#depth === 1 && b === OPEN_ARRAY && this.#arrayKey.test(this.#text(buf, start, i))) {
          this.#streaming = true
          this.#sawArray = true
          this.#depth = 2
          this.#reset()
          start = i + 1
          continue
        }
        this.#depth++
      } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        if (this.#streaming && this.#depth === 2) {
          if (b !== CLOSE_ARRAY) throw new JsonStreamError('unbalanced brackets', this.#offset + i)
          this.#element(buf, start, i, events, true)
          this.#streaming = false
          this.#afterArray = true
          this.#members++
          this.#depth = 1
          start = i + 1
          continue
        }
        this.#depth--
        if (this.#depth === 0) {
          if (b !== CLOSE_OBJECT) throw new JsonStreamError('unbalanced brackets', this.#offset + i)
          this.#member(buf, start, i, events, true)
          this.#done = true
          start = i + 1
        }
      } else if (b === COMMA) {
        if (this.#streaming && this.#depth === 2) {
          this.#element(buf, start, i, events, false)
          start = i + 1
        } else if (this.#depth === 1) {
          this.#member(buf, start, i, events, false)
          start = i + 1
        }
      }
    }
    this.#inString = inString
    this.#escape = escaped
    if (this.#depth > 0 && start < buf.length) {
      // Copied: the caller may reuse its buffer.
      const rest = Buffer.from(buf.subarray(start))
      this.#pieces.push(rest)
      this.#pieceBytes += rest.length
    }
    this.#offset += buf.length
    return events
  }

  /** Checks the document ended where it should. */
  end(): JsonStreamEvent[] {
    if (!this.#done)
      throw new JsonStreamError(
        this.#started ? 'the document ends early (cut short?)' : 'empty body: expected a JSON object',
        this.#offset,
      )
    return []
  }

  /** The streamed array was met (it may have been empty). */
  get sawArray(): boolean {
    return this.#sawArray
  }

  /** Bytes of the piece now being collected (a member or one element), for callers bounding memory. */
  get pendingBytes(): number {
    return this.#pieceBytes
  }

  #text(buf: Buffer, start: number, end: number): string {
    const tail = buf.subarray(start, end)
    return (this.#pieces.length === 0 ? tail : Buffer.concat([...this.#pieces, tail])).toString('utf8')
  }

  #reset(): void {
    this.#pieces = []
    this.#pieceBytes = 0
  }

  #element(buf: Buffer, start: number, end: number, events: JsonStreamEvent[], last: boolean): void {
    const text = this.#text(buf, start, end)
    this.#reset()
    const at = this.#offset + end
    if (text.trim() === '') {
      if (last && this.#index === 0) return // []
      throw new JsonStreamError(`${last ? 'a trailing comma' : 'an empty element'} in the array`, at)
    }
    events.push({ kind: 'element', index: this.#index++, value: parse(text, at) })
  }

  #member(buf: Buffer, start: number, end: number, events: JsonStreamEvent[], last: boolean): void {
    const text = this.#text(buf, start, end)
    this.#reset()
    const at = this.#offset + end
    const afterArray = this.#afterArray
    this.#afterArray = false
    if (text.trim() === '') {
      // What followed the streamed array's closing bracket, or `{}`.
      if (afterArray || (last && this.#members === 0)) return
      throw new JsonStreamError(last ? 'a trailing comma in the object' : 'an empty member in the object', at)
    }
    if (afterArray) throw new JsonStreamError('unexpected data after the array', at)
    const member = parse(`{${text}}`, at) as Record<string, unknown>
    const keys = Object.keys(member)
    if (keys.length !== 1) throw new JsonStreamError('expected one "key": value per member', at)
    const key = keys[0] as string
    this.#members++
    events.push({ kind: 'member', key, value: member[key] })
  }
}

function parse(text: string, at: number): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // V8's message quotes the input; only the position is repeated back.
    throw new JsonStreamError('a syntax error', at)
  }
}
