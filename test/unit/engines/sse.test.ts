import { describe, expect, it } from 'vitest'
import {
  createSseDecoder,
  type SseEvent,
  SseParser,
  type SseSink,
} from '../../../harness/engines/openai/sse.ts'

const encoder = new TextEncoder()

/** A llama-server chat stream as sent (role chunk, content with multi-byte UTF-8, finish, usage, [DONE]). */
const RECORDED = [
  'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"object":"chat.completion.chunk"}',
  '',
  'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Héllo"}}],"object":"chat.completion.chunk"}',
  '',
  ': keep-alive comment',
  'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":" wörld 🙂"}}],"object":"chat.completion.chunk"}',
  '',
  'data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"object":"chat.completion.chunk"}',
  '',
  'data: {"choices":[],"usage":{"completion_tokens":3,"prompt_tokens":5,"total_tokens":8}}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\n')

const RECORDED_DATA = RECORDED.split('\n')
  .filter((line) => line.startsWith('data: '))
  .map((line) => line.slice(6))

function decodeAll(reads: (Uint8Array | string)[]): SseEvent[] {
  const decoder = createSseDecoder()
  const events: SseEvent[] = []
  for (const read of reads) events.push(...decoder.push(read))
  events.push(...decoder.flush())
  return events
}

function datas(events: SseEvent[]): string[] {
  return events.map((e) => e.data)
}

describe('createSseDecoder', () => {
  it('decodes a recorded stream read in one piece', () => {
    const events = decodeAll([encoder.encode(RECORDED)])
    expect(datas(events), 'data of every event in order').toEqual(RECORDED_DATA)
    expect(events[1]?.type, 'default event type').toBe('message')
    expect(events[2]?.data, 'multi-byte text intact').toContain('wörld 🙂')
  })

  it('gives the same events for every two-piece split of the bytes', () => {
    const bytes = encoder.encode(RECORDED)
    for (let i = 0; i <= bytes.length; i++) {
      const events = decodeAll([bytes.subarray(0, i), bytes.subarray(i)])
      expect(datas(events), `split at byte ${i}`).toEqual(RECORDED_DATA)
    }
  })

  it('gives the same events when fed one byte per read', () => {
    const bytes = encoder.encode(RECORDED)
    const reads: Uint8Array[] = []
    for (let i = 0; i < bytes.length; i++) reads.push(bytes.subarray(i, i + 1))
    expect(datas(decodeAll(reads)), 'byte by byte').toEqual(RECORDED_DATA)
  })

  it('handles CRLF and CR line endings, also split between CR and LF at every point', () => {
    // Multi-line events and typed events: a CR/LF pair taken for two line ends would split or retype them.
    const stream = `${RECORDED}event: progress\nid: 4\ndata: a\ndata: b\n\n: note\ndata: c\n\n`
    const expected = decodeAll([stream])
    expect(expected.slice(-2), 'reference events').toEqual([
      { type: 'progress', data: 'a\nb', id: '4' },
      { type: 'message', data: 'c', id: '4' },
    ])
    for (const [name, ending] of [
      ['CRLF', '\r\n'],
      ['CR', '\r'],
    ] as const) {
      const bytes = encoder.encode(stream.replaceAll('\n', ending))
      expect(decodeAll([bytes]), `${name} whole`).toEqual(expected)
      for (let i = 0; i <= bytes.length; i++) {
        const events = decodeAll([bytes.subarray(0, i), bytes.subarray(i)])
        expect(events, `${name} split at byte ${i}`).toEqual(expected)
      }
    }
  })

  it('handles mixed line endings in one stream', () => {
    const events = decodeAll(['data: a\r\n\r', '\ndata: b\r\rdata: c\n\n'])
    expect(datas(events), 'a, b, c').toEqual(['a', 'b', 'c'])
  })

  it('keeps a data line split mid-JSON until its end arrives', () => {
    const decoder = createSseDecoder()
    expect(decoder.push('data: {"choices":[{"delta":{"con'), 'first half').toEqual([])
    expect(decoder.push('tent":"x"}}]}\n'), 'line done, no blank line yet').toEqual([])
    expect(datas(decoder.push('\n')), 'dispatched on the blank line').toEqual([
      '{"choices":[{"delta":{"content":"x"}}]}',
    ])
  })

  it('returns several events from one read', () => {
    const decoder = createSseDecoder()
    const events = decoder.push('data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4')
    expect(datas(events), 'three complete events').toEqual(['1', '2', '3'])
    expect(datas(decoder.flush()), 'the unterminated fourth on flush').toEqual(['4'])
  })

  it('splits a multi-byte character across reads', () => {
    const bytes = encoder.encode('data: 🙂é\n\n')
    // The emoji is bytes 6..9; split inside it and inside é.
    const events = decodeAll([
      bytes.subarray(0, 7),
      bytes.subarray(7, 9),
      bytes.subarray(9, 11),
      bytes.subarray(11),
    ])
    expect(datas(events), 'reassembled text').toEqual(['🙂é'])
  })

  it('joins multi-line data with \\n and applies the field rules', () => {
    const events = decodeAll([
      'data: line one\ndata:line two\ndata:  two spaces\ndata\n\n',
      'event: error\ndata: {"error":{"message":"boom"}}\nid: 7\n\n',
      'data: after\n\n',
      ':only a comment\n\n',
      'retry: 100\nunknown: x\ndata: fields ignored\n\n',
    ])
    expect(events[0], 'multi-line data').toEqual({
      type: 'message',
      data: 'line one\nline two\n two spaces\n',
      id: '',
    })
    expect(events[1], 'event: error with id').toEqual({
      type: 'error',
      data: '{"error":{"message":"boom"}}',
      id: '7',
    })
    expect(events[2], 'type resets, id persists').toEqual({ type: 'message', data: 'after', id: '7' })
    expect(events[3], 'after a comment-only block (no event): retry and unknown fields ignored').toEqual({
      type: 'message',
      data: 'fields ignored',
      id: '7',
    })
    expect(events.length, 'event count').toBe(4)
  })

  it('dispatches an empty data field but not a block without data', () => {
    const events = decodeAll(['event: ping\n\ndata:\n\n', 'data\n\n'])
    expect(events, 'two empty events, the ping without data is dropped').toEqual([
      { type: 'message', data: '', id: '' },
      { type: 'message', data: '', id: '' },
    ])
  })

  it('strips a leading byte-order mark, also when it arrives split', () => {
    const bytes = encoder.encode('\uFEFFdata: x\n\n')
    expect(datas(decodeAll([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)])), 'BOM').toEqual([
      'x',
    ])
  })

  it('recognises [DONE] as data', () => {
    expect(datas(decodeAll(['data: [DONE]\n\n'])), '[DONE]').toEqual(['[DONE]'])
  })

  it('ignores an id containing NUL', () => {
    const events = decodeAll(['id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n'])
    expect(
      events.map((e) => e.id),
      'ids',
    ).toEqual(['1', '1'])
  })
})

describe('SseParser (bytes in place)', () => {
  /** A sink recording each event's bytes as given: the buffer itself and the range. */
  function recorder() {
    const seen: { type: string; bytes: Buffer; start: number; end: number; data: string }[] = []
    const sink: SseSink = {
      event: (type, bytes, start, end) =>
        seen.push({ type, bytes, start, end, data: bytes.toString('utf8', start, end) }),
    }
    return { seen, sink }
  }

  it('hands a one-line event over as a range of the read itself, not a copy', () => {
    const { seen, sink } = recorder()
    const read = Buffer.from('data: {"a":1}\n\ndata: [DONE]\n\n')
    new SseParser().push(read, 0, read.length, sink)
    expect(
      seen.map((e) => e.data),
      'data',
    ).toEqual(['{"a":1}', '[DONE]'])
    expect(seen[0]?.bytes, 'the read itself').toBe(read)
    expect([seen[0]?.start, seen[0]?.end], 'its range').toEqual([6, 13])
  })

  it('parses only bytes[start, end) of a read (an HTTP chunk inside its framing)', () => {
    const { seen, sink } = recorder()
    const body = 'data: x\r\n\r\n'
    const read = Buffer.from(`${body.length.toString(16)}\r\n${body}\r\n`)
    const parser = new SseParser()
    parser.push(read, 3, 3 + body.length, sink)
    parser.flush(sink)
    expect(
      seen.map((e) => e.data),
      'one event, no framing',
    ).toEqual(['x'])
  })

  it('keeps data waiting for its blank line intact when the earlier read is reused', () => {
    const { seen, sink } = recorder()
    const parser = new SseParser()
    const first = Buffer.from('data: held\n')
    parser.push(first, 0, first.length, sink)
    first.fill(0x58) // the read's buffer is not the parser's to keep
    const second = Buffer.from('\n')
    parser.push(second, 0, second.length, sink)
    expect(
      seen.map((e) => e.data),
      'data as sent',
    ).toEqual(['held'])
  })
})
