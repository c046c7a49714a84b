/**
 * The HTTP/1.1 response parser on its own. A socket may split a response anywhere, so every case is fed
 * whole, split at every byte position, and byte by byte, and must give the same result each way.
 */
import { describe, expect, it } from 'vitest'
import {
  HttpParseError,
  MAX_HEAD_BYTES,
  type ResponseHead,
  ResponseParser,
} from '../../../harness/engines/openai/http1/response-parser.ts'

interface Outcome {
  heads: ResponseHead[]
  body: string
  /** onComplete calls. */
  complete: number
  /** Sum of push() results: the bytes that belonged to the response. */
  consumed: number
  error?: string
}

/** Feeds `pieces` (then EOF when `eof`), as a socket would. */
function parse(pieces: Buffer[], eof: boolean): Outcome {
  const heads: ResponseHead[] = []
  const body: Buffer[] = []
  let complete = 0
  let consumed = 0
  const parser = new ResponseParser({
    onHead: (head) => heads.push(head),
    onBody: (bytes, start, end) => body.push(Buffer.from(bytes.subarray(start, end))),
    onComplete: () => complete++,
  })
  let error: string | undefined
  try {
    for (const piece of pieces) {
      consumed += parser.push(piece)
      // A read's buffer is not the parser's to keep: scribbling over it must not change the outcome.
      piece.fill(0x58)
    }
    if (eof) parser.end()
  } catch (caught) {
    error = caught instanceof HttpParseError ? caught.message : `not an HttpParseError: ${String(caught)}`
  }
  const outcome: Outcome = { heads, body: Buffer.concat(body).toString('latin1'), complete, consumed }
  // After a failure the connection is dropped, so what earlier pushes returned no longer matters.
  if (error !== undefined) {
    outcome.error = error
    outcome.consumed = -1
  }
  return outcome
}

/** Every way of cutting `bytes` checked here, each piece a fresh buffer. */
function splits(bytes: Buffer): { name: string; pieces: Buffer[] }[] {
  const copy = (from: number, to: number) => Buffer.from(bytes.subarray(from, to))
  const all = [
    { name: 'whole', pieces: [copy(0, bytes.length)] },
    { name: 'byte by byte', pieces: Array.from(bytes, (_, i) => copy(i, i + 1)) },
    {
      name: 'with empty reads',
      pieces: Array.from(bytes, (_, i) => [copy(i, i + 1), Buffer.alloc(0)]).flat(),
    },
  ]
  for (let at = 1; at < bytes.length; at++)
    all.push({ name: `split at ${at}`, pieces: [copy(0, at), copy(at, bytes.length)] })
  return all
}

/** The outcome of `text`, asserted identical for every split. */
function parseEveryWay(text: string | Buffer, eof = false): Outcome {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text
  const [first, ...rest] = splits(bytes)
  const expected = parse(first!.pieces, eof)
  for (const { name, pieces } of rest) expect(parse(pieces, eof), name).toEqual(expected)
  return expected
}

const crlf = (lines: string[]) => lines.join('\r\n')

describe('ResponseParser, at every split', () => {
  it('chunked with extensions, upper-case hex and trailers', () => {
    const data = 'abcdefghijklmnopqrstuvwxyz'
    const response = crlf([
      'HTTP/1.1 200 OK',
      'Content-Type: text/event-stream',
      'Transfer-Encoding: chunked',
      '',
      '5;name=value',
      'hello',
      '1A ; ext="quoted" ; flag',
      data,
      '0;last',
      'X-Trailer: yes',
      'X-Other: 2',
      '',
      '',
    ])
    const outcome = parseEveryWay(response)
    expect(outcome).toEqual({
      heads: [
        {
          statusCode: 200,
          headers: { 'content-type': 'text/event-stream', 'transfer-encoding': 'chunked' },
          keepAlive: true,
        },
      ],
      body: `hello${data}`,
      complete: 1,
      consumed: response.length,
    })
  })

  it('bare LF line ends, in the head, chunk framing and trailers', () => {
    const response = 'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nX-A: 1\n\n3\nabc\n2\r\nde\n0\nX-T: 1\n\n'
    expect(parseEveryWay(response)).toEqual({
      heads: [{ statusCode: 200, headers: { 'transfer-encoding': 'chunked', 'x-a': '1' }, keepAlive: true }],
      body: 'abcde',
      complete: 1,
      consumed: response.length,
    })
  })

  it('Content-Length, with a reason phrase missing and binary body bytes', () => {
    const body = '\r\n\0\xff body \n\n'
    const response = `HTTP/1.1 200\r\ncontent-length: ${body.length}\r\n\r\n${body}`
    expect(parseEveryWay(response)).toEqual({
      heads: [{ statusCode: 200, headers: { 'content-length': String(body.length) }, keepAlive: true }],
      body,
      complete: 1,
      consumed: response.length,
    })
  })

  it('Content-Length: 0 completes at the head', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'
    const outcome = parseEveryWay(response)
    expect(outcome.complete).toBe(1)
    expect(outcome.body).toBe('')
    expect(outcome.heads[0]?.keepAlive).toBe(true)
    expect(outcome.error).toBeUndefined()
  })

  it('204 and 304 have no body whatever their headers say', () => {
    for (const status of ['204 No Content', '304 Not Modified']) {
      const response = `HTTP/1.1 ${status}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`
      const outcome = parseEveryWay(response)
      expect(outcome.heads[0]?.statusCode, status).toBe(Number(status.slice(0, 3)))
      expect(outcome.complete, status).toBe(1)
      expect(outcome.body, status).toBe('')
      expect(outcome.consumed, status).toBe(response.length)
    }
  })

  it('a close-delimited body completes only at end()', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the\r\n\r\nclose'
    const open = parseEveryWay(response)
    expect(open.complete).toBe(0)
    expect(open.body).toBe('until the\r\n\r\nclose')
    expect(open.heads[0]?.keepAlive, 'framed by the close, so never reusable').toBe(false)
    const closed = parseEveryWay(response, true)
    expect(closed).toEqual({ ...open, complete: 1 })
  })

  it('a Transfer-Encoding not ending in chunked is close-delimited, and overrides Content-Length', () => {
    const gzip = parseEveryWay('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz', true)
    expect(gzip.heads[0]?.keepAlive).toBe(false)
    expect(gzip.body).toBe('xyz')
    expect(gzip.complete).toBe(1)
    const both = parseEveryWay(
      'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    )
    expect(both.body).toBe('ok')
    expect(both.complete).toBe(1)
  })

  it('skips 100 Continue and 103 Early Hints before the real response', () => {
    const response = crlf([
      'HTTP/1.1 100 Continue',
      '',
      'HTTP/1.1 103 Early Hints',
      'Link: </style.css>; rel=preload',
      '',
      'HTTP/1.1 200 OK',
      'Content-Length: 2',
      '',
      'ok',
    ])
    expect(parseEveryWay(response)).toEqual({
      heads: [{ statusCode: 200, headers: { 'content-length': '2' }, keepAlive: true }],
      body: 'ok',
      complete: 1,
      consumed: response.length,
    })
  })

  it('joins repeated header fields, lower-cases names and trims values', () => {
    const response = crlf([
      'HTTP/1.1 200 OK',
      'Vary: accept',
      'X-Rate:   1  ',
      'vary: origin',
      'x-rate:2',
      'Content-Length: 0',
      '',
      '',
    ])
    expect(parseEveryWay(response).heads[0]?.headers).toEqual({
      vary: 'accept, origin',
      'x-rate': '1, 2',
      'content-length': '0',
    })
  })

  it('a repeated Content-Length that agrees is accepted', () => {
    const outcome = parseEveryWay('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok')
    expect(outcome.error).toBeUndefined()
    expect(outcome.body).toBe('ok')
    expect(outcome.complete).toBe(1)
  })

  it('keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only with Connection: keep-alive', () => {
    const keepAlive = (head: string) => {
      const outcome = parseEveryWay(`${head}\r\nContent-Length: 0\r\n\r\n`)
      expect(outcome.error, head).toBeUndefined()
      return outcome.heads[0]?.keepAlive
    }
    expect(keepAlive('HTTP/1.1 200 OK')).toBe(true)
    expect(keepAlive('HTTP/1.1 200 OK\r\nConnection: close')).toBe(false)
    expect(keepAlive('HTTP/1.1 200 OK\r\nConnection: Close')).toBe(false)
    expect(keepAlive('HTTP/1.1 200 OK\r\nConnection: upgrade, close')).toBe(false)
    expect(keepAlive('HTTP/1.1 200 OK\r\nConnection: keep-alive')).toBe(true)
    expect(keepAlive('HTTP/1.0 200 OK')).toBe(false)
    expect(keepAlive('HTTP/1.0 200 OK\r\nConnection: keep-alive')).toBe(true)
    expect(keepAlive('HTTP/1.0 200 OK\r\nConnection: Keep-Alive')).toBe(true)
    expect(keepAlive('HTTP/1.0 200 OK\r\nConnection: close')).toBe(false)
    // RFC 9112 §6.1/§6.3: read as chunked, but never trust the connection again.
    const chunkedWith = (head: string) => parseEveryWay(`${head}\r\n\r\n2\r\nok\r\n0\r\n\r\n`)
    const both = chunkedWith('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99')
    expect(both.body, 'Content-Length ignored').toBe('ok')
    expect(both.heads[0]?.keepAlive, 'Transfer-Encoding with Content-Length').toBe(false)
    const http10 = chunkedWith('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked')
    expect(http10.heads[0]?.keepAlive, 'Transfer-Encoding under HTTP/1.0').toBe(false)
    // Close-delimited bodies end the connection, whatever Connection says.
    const closeDelimited = parseEveryWay('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nbody', true)
    expect(closeDelimited.heads[0]?.keepAlive).toBe(false)
    expect(closeDelimited.body).toBe('body')
  })

  it('returns fewer bytes than pushed once the response is complete, and ignores later pushes', () => {
    const cases = [
      ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'HTTP/1.1 200 OK\r\n\r\n'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', 'extra'],
      ['HTTP/1.1 204 No Content\r\n\r\n', 'surplus bytes'],
      ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', '\r\n'],
    ] as const
    for (const [response, extra] of cases) {
      const outcome = parseEveryWay(response + extra)
      expect(outcome.consumed, response).toBe(response.length)
      expect(outcome.complete, response).toBe(1)
      expect(outcome.heads.length, response).toBe(1)
    }
    const parser = new ResponseParser({ onHead() {}, onBody() {}, onComplete() {} })
    expect(parser.headParsed).toBe(false)
    expect(parser.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n'))).toBe(38)
    expect(parser.headParsed).toBe(true)
    expect(parser.done).toBe(false)
    expect(parser.push(Buffer.from('xyz'))).toBe(1)
    expect(parser.done).toBe(true)
    expect(parser.push(Buffer.from('more'))).toBe(0)
    expect(() => parser.end(), 'EOF after a complete response is fine').not.toThrow()
  })

  it('hands body pieces over as ranges of the read itself, without copying or a view', () => {
    const read = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello')
    const pieces: [Buffer, number, number][] = []
    new ResponseParser({
      onHead() {},
      onBody: (bytes, start, end) => pieces.push([bytes, start, end]),
      onComplete() {},
    }).push(read)
    expect(pieces.length).toBe(1)
    const [bytes, start, end] = pieces[0]!
    expect(bytes, 'the read itself').toBe(read)
    expect(bytes.toString('latin1', start, end)).toBe('hello')
  })

  it('accepts a head of exactly MAX_HEAD_BYTES', () => {
    const start = 'HTTP/1.1 200 OK\r\nX-Pad: '
    const end = '\r\nContent-Length: 2\r\n\r\n'
    const head = start + 'p'.repeat(MAX_HEAD_BYTES - start.length - end.length) + end
    expect(head.length).toBe(MAX_HEAD_BYTES)
    // Byte by byte would be slow for 64 KiB: 1 KiB reads and a few split points instead.
    for (const pieces of largeSplits(Buffer.from(`${head}ok`))) {
      const outcome = parse(pieces, false)
      expect(outcome.error).toBeUndefined()
      expect(outcome.body).toBe('ok')
      expect(outcome.complete).toBe(1)
    }
  })
})

/** Splits of a large input: 1 KiB reads, and two pieces cut at positions around the head limit. */
function largeSplits(bytes: Buffer): Buffer[][] {
  const all: Buffer[][] = [[Buffer.from(bytes)]]
  const reads: Buffer[] = []
  for (let at = 0; at < bytes.length; at += 1024) reads.push(Buffer.from(bytes.subarray(at, at + 1024)))
  all.push(reads)
  for (const at of [1, 100, MAX_HEAD_BYTES - 3, MAX_HEAD_BYTES - 1, MAX_HEAD_BYTES, MAX_HEAD_BYTES + 1]) {
    if (at < bytes.length) all.push([Buffer.from(bytes.subarray(0, at)), Buffer.from(bytes.subarray(at))])
  }
  return all
}

describe('ResponseParser errors, at every split', () => {
  /** The HttpParseError message for `text`, the same however it is split. */
  function failure(text: string, eof = false): string {
    const outcome = parseEveryWay(text, eof)
    expect(outcome.error, `${JSON.stringify(text.slice(0, 60))} should fail`).toBeDefined()
    return outcome.error!
  }

  it('rejects a bad status line, quoting it', () => {
    expect(failure('HTP/1.1 200 OK\r\n\r\n')).toBe('not an HTTP/1.x status line: "HTP/1.1 200 OK"')
    expect(failure('HTTP/2 200\r\n\r\n')).toMatch(/^not an HTTP\/1\.x status line: "HTTP\/2 200"$/)
    expect(failure('HTTP/1.1 20 OK\r\n\r\n')).toMatch(/not an HTTP\/1\.x status line/)
    expect(failure('HTTP/1.1 2000 OK\r\n\r\n')).toMatch(/not an HTTP\/1\.x status line/)
    expect(failure('SSH-2.0-OpenSSH_9.6\r\n\r\n')).toMatch(/not an HTTP\/1\.x status line/)
  })

  it('rejects a malformed header field', () => {
    expect(failure('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n')).toBe(
      'malformed header field: "no colon here"',
    )
    expect(failure('HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n')).toMatch(/^malformed header field/)
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx')).toMatch(/^malformed header field/)
    expect(failure('HTTP/1.1 200 OK\r\n: empty name\r\n\r\n')).toMatch(/^malformed header field/)
  })

  it('rejects obsolete line folding', () => {
    expect(failure('HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\nContent-Length: 0\r\n\r\n')).toBe(
      'obsolete line folding in a header field',
    )
    expect(failure('HTTP/1.1 200 OK\r\nX-A: 1\r\n\tcontinued\r\n\r\n')).toBe(
      'obsolete line folding in a header field',
    )
  })

  it('rejects 101 Switching Protocols (never asked for)', () => {
    expect(failure('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n')).toBe(
      'unexpected 101 Switching Protocols',
    )
  })

  it('rejects a bad chunk size, quoting the line', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
    expect(failure(`${head}zz\r\n`)).toBe('invalid chunk size: "zz\\r"')
    expect(failure(`${head}\r\n`)).toMatch(/^invalid chunk size/)
    expect(failure(`${head}-1\r\n`)).toMatch(/^invalid chunk size/)
    expect(failure(`${head}5 x\r\nhello\r\n`)).toBe('invalid chunk size: "5 x\\r"')
    expect(failure(`${head}5\r\r\nhello\r\n`)).toMatch(/^invalid chunk size/)
    expect(failure(`${head}1000000000000\r\n`)).toBe('a chunk size is too large')
    // After a good chunk, the body so far is still delivered.
    const outcome = parseEveryWay(`${head}2\r\nok\r\nq\r\n`)
    expect(outcome.body).toBe('ok')
    expect(outcome.error).toMatch(/^invalid chunk size/)
  })

  it('rejects a chunk longer than its size', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
    const outcome = parseEveryWay(`${head}3\r\nabcd\r\n0\r\n\r\n`)
    expect(outcome.error).toBe('a chunk is longer than its size')
    expect(outcome.body, 'the announced size is delivered').toBe('abc')
    expect(outcome.complete).toBe(0)
    expect(failure(`${head}3\r\nabc\rd\r\n`)).toBe('a chunk is longer than its size')
    // A CR that is not followed by LF, however the reads fall (the CR may end one read).
    expect(failure(`${head}3\r\nabc\r\r\n0\r\n\r\n`)).toBe('a chunk is longer than its size')
  })

  it('rejects a Content-Length that conflicts or is not a number', () => {
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello')).toBe(
      'invalid Content-Length: "5, 6"',
    )
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello')).toMatch(/^invalid Content-Length/)
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')).toMatch(/^invalid Content-Length/)
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n')).toMatch(/^invalid Content-Length/)
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n')).toMatch(/^invalid Content-Length/)
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n')).toMatch(/^invalid Content-Length/)
  })

  it('rejects a head longer than MAX_HEAD_BYTES, complete or not', () => {
    const start = 'HTTP/1.1 200 OK\r\nX-Pad: '
    const end = '\r\nContent-Length: 2\r\n\r\n'
    const message = `the response head exceeds ${MAX_HEAD_BYTES} bytes`
    const oneOver = start + 'p'.repeat(MAX_HEAD_BYTES + 1 - start.length - end.length) + end
    const endless = start + 'p'.repeat(MAX_HEAD_BYTES * 2)
    for (const text of [`${oneOver}ok`, endless]) {
      for (const pieces of largeSplits(Buffer.from(text))) {
        const outcome = parse(pieces, false)
        expect(outcome.error).toBe(message)
        expect(outcome.heads).toEqual([])
      }
    }
  })

  it('rejects over-long chunk-size lines and trailer fields however they are split', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
    const longExtension = `2;x=${'e'.repeat(5000)}\r\nok\r\n0\r\n\r\n`
    const longTrailer = `2\r\nok\r\n0\r\nX-T: ${'t'.repeat(5000)}\r\n\r\n`
    for (const [text, message] of [
      [head + longExtension, 'a chunk-size line is too long'],
      [head + longTrailer, 'a trailer field is too long'],
    ] as const) {
      for (const pieces of largeSplits(Buffer.from(text))) {
        const outcome = parse(pieces, false)
        expect(outcome.error).toBe(message)
        expect(outcome.complete).toBe(0)
      }
      const bytes = [...Buffer.from(text)].map((b) => Buffer.from([b]))
      expect(parse(bytes, false).error, 'byte by byte').toBe(message)
    }
  })

  it('EOF before the head, or before the body ends', () => {
    const before = 'the connection closed before a response'
    const during = 'the connection closed before the response ended'
    expect(parse([], true).error).toBe(before)
    expect(failure('HTTP/1.1 200 OK\r\nContent-Len', true)).toBe(before)
    expect(failure('HTTP/1.1 100 Continue\r\n\r\n', true)).toBe(before)
    expect(failure('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello', true)).toBe(during)
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
    expect(failure(`${chunked}5\r\nhel`, true)).toBe(during)
    expect(failure(`${chunked}5\r\nhello\r\n`, true)).toBe(during)
    expect(failure(`${chunked}5\r\nhello\r\n0\r\n`, true), 'no blank line after the last chunk').toBe(during)
    const outcome = parseEveryWay('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello', true)
    expect(outcome.heads.length, 'the head was delivered before the failure').toBe(1)
    expect(outcome.body).toBe('hello')
  })

  it('throws HttpParseError instances', () => {
    const parser = new ResponseParser({ onHead() {}, onBody() {}, onComplete() {} })
    expect(() => parser.push(Buffer.from('nonsense\r\n\r\n'))).toThrow(HttpParseError)
    let error: unknown
    try {
      new ResponseParser({ onHead() {}, onBody() {}, onComplete() {} }).end()
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(HttpParseError)
    expect((error as Error).name).toBe('HttpParseError')
  })
})
