/**
 * TokenTextStream: what a native engine streams for each generated token, with a byte vocabulary
 * (token = byte + 3), so multi-byte characters span several tokens.
 */
import { describe, expect, it } from 'vitest'
import { TokenTextStream } from '../../../harness/engines/native/native-text.ts'
import { decodeByteTokens } from '../../../harness/fixtures/byte-vocab.ts'

const bytes = (s: string | number[]) =>
  (typeof s === 'string' ? [...Buffer.from(s, 'utf8')] : s).map((b) => b + 3)
const byteStream = (options: { stop?: string[]; stopAfterTokens?: number } = {}) =>
  new TokenTextStream({ decode: (tokens) => decodeByteTokens(tokens), ...options })

describe('TokenTextStream', () => {
  it('sends one chunk per token for ASCII', () => {
    const s = byteStream()
    expect(
      bytes('ab').map((t) => s.push(t).chunk),
      'chunks',
    ).toEqual([
      { text: 'a', tokens: 1 },
      { text: 'b', tokens: 1 },
    ])
  })

  it('holds the bytes of a UTF-8 character until it is complete, then sends them as one chunk', () => {
    const s = byteStream()
    const [e2, x82, xac] = bytes('€')
    expect(s.push(e2!).chunk, 'first byte').toBeUndefined()
    expect(s.push(x82!).chunk, 'second byte').toBeUndefined()
    expect(s.push(xac!).chunk, 'third byte completes €').toEqual({ text: '€', tokens: 3 })
  })

  it('sends invalid bytes once four are held, and an unfinished character at the end', () => {
    const s = byteStream()
    const ff = bytes([0xff])[0]!
    const results = [s.push(ff), s.push(ff), s.push(ff), s.push(ff)].map((r) => r.chunk)
    expect(results.slice(0, 3), 'held').toEqual([undefined, undefined, undefined])
    expect(results[3], 'released').toEqual({ text: '\uFFFD'.repeat(4), tokens: 4 })
    const t = byteStream()
    t.push(bytes('€')[0]!)
    expect(t.finish(), 'finish').toEqual({ text: '\uFFFD', tokens: 1 })
  })

  it('ends before a stop string, holding text that may begin one', () => {
    const s = byteStream({ stop: ['gh'] })
    const out = bytes('defgh').map((t) => s.push(t))
    expect(
      out.map((r) => r.chunk?.text),
      'texts',
    ).toEqual(['d', 'e', 'f', undefined, undefined])
    expect(
      out.map((r) => r.stopped),
      'stopped at h',
    ).toEqual([false, false, false, false, true])
  })

  it('releases held text when it turns out not to be a stop string, with its tokens', () => {
    const s = byteStream({ stop: ['ghi'] })
    expect(s.push(bytes('g')[0]!).chunk, 'g held').toBeUndefined()
    expect(s.push(bytes('h')[0]!).chunk, 'gh held').toBeUndefined()
    expect(s.push(bytes('x')[0]!).chunk, 'released').toEqual({ text: 'ghx', tokens: 3 })
  })

  it('looks for stop strings only from stopAfterTokens on', () => {
    const s = byteStream({ stop: ['b'], stopAfterTokens: 3 })
    const out = bytes('abcb').map((t) => s.push(t))
    expect(
      out.map((r) => r.chunk?.text),
      'texts',
    ).toEqual(['a', 'b', 'c', undefined])
    expect(out.at(-1)?.stopped, 'second b stops').toBe(true)
  })

  it('counts a token split between sent and held text with the sent part', () => {
    const pieces = ['xg', 'z']
    const s = new TokenTextStream({ decode: (tokens) => tokens.map((t) => pieces[t]).join(''), stop: ['gh'] })
    expect(s.push(0).chunk, '"x" sent, "g" held').toEqual({ text: 'x', tokens: 1 })
    expect(s.push(1).chunk, '"gz" sent').toEqual({ text: 'gz', tokens: 1 })
  })
})
