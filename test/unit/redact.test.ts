/**
 * harness/redact.ts: what counts as a secret, partial and masked echoes, what innocent text keeps; and the
 * JSONL sink, which writes every line through it into a 0600 file.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createJsonlSink } from '../../harness/jsonl-sink.ts'
import { createRedactor, REDACTED } from '../../harness/redact.ts'
import { errorOutcome, okOutcome, runMeta } from '../db/fixtures/data.ts'

const KEY = 'sk-test-0123456789abcdefghijABCDEFGHIJ'
const HEADER = 'gw-9f8e7d6c5b4a39281706'
const env = { BENCH_UNIT_ENDPOINT_CRED: KEY, HOME: '/home/someone', PATH: '/usr/bin:/bin' }
const scenario = {
  targets: [
    {
      engine: {
        kind: 'openai',
        apiKeyEnv: 'BENCH_UNIT_ENDPOINT_CRED',
        headers: { 'X-Gateway-Token': HEADER, 'Content-Type': 'application/json', 'X-Debug': '1' },
      },
    },
  ],
}

describe('createRedactor', () => {
  const r = createRedactor(env, [scenario])

  it('replaces the apiKeyEnv value and the header value wherever they appear, naming where they came from', () => {
    expect(r.text(`Incorrect API key provided: ${KEY}.`)).toBe(
      'Incorrect API key provided: [redacted:BENCH_UNIT_ENDPOINT_CRED].',
    )
    expect(r.text(`gateway refused ${HEADER}`)).toBe('gateway refused [redacted:header X-Gateway-Token]')
  })

  it('hides non-allow-listed header values in structures, short ones too, and keeps allow-listed ones', () => {
    expect(r.value(scenario).targets[0]?.engine.headers).toEqual({
      'X-Gateway-Token': REDACTED,
      'Content-Type': 'application/json',
      'X-Debug': REDACTED,
    })
    // A one-character header value is hidden in the map but not hunted in text: it would eat every "1".
    expect(r.text('HTTP 401 after 1 retry')).toBe('HTTP 401 after 1 retry')
  })

  it('covers a run of 8 or more characters of a key (a truncated echo), not fewer', () => {
    expect(r.text(`key ${KEY.slice(0, 20)} is too long`)).toBe(
      'key [redacted:BENCH_UNIT_ENDPOINT_CRED] is too long',
    )
    expect(r.text(`mid ${KEY.slice(10, 18)}!`)).toBe('mid [redacted:BENCH_UNIT_ENDPOINT_CRED]!')
    expect(r.text(`seven ${KEY.slice(10, 17)}!`)).toBe(`seven ${KEY.slice(10, 17)}!`)
  })

  it('leaves no 8-character run of a key in text holding pieces of it at any offset', () => {
    let seed = 7
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    // Filler drawn from the key's own characters: near misses everywhere.
    const filler = (n: number) => Array.from({ length: n }, () => KEY[next(KEY.length)]).join('')
    for (let trial = 0; trial < 500; trial++) {
      const start = next(KEY.length - 8)
      const piece = KEY.slice(start, start + 8 + next(KEY.length - start - 7))
      const out = r.text(`${filler(next(12))}${piece}${filler(next(12))}${piece.slice(0, 9)}`)
      for (let i = 0; i + 8 <= KEY.length; i++)
        expect(out.includes(KEY.slice(i, i + 8)), `trial ${trial}: ${out}`).toBe(false)
    }
  })

  it('covers masked echoes: a prefix and/or suffix of the key around *, • , … or dots', () => {
    const tail = KEY.slice(-4)
    for (const masked of [
      `sk-tes...${tail}`,
      `sk-test-****************${tail}`,
      `sk-t…${tail}`,
      `${KEY.slice(0, 6)}***`,
      `****${tail}`,
    ])
      expect(r.text(`Incorrect API key provided: ${masked}.`), masked).toBe(
        'Incorrect API key provided: [redacted:BENCH_UNIT_ENDPOINT_CRED].',
      )
    // Too little of the key shown to be a key: innocent text keeps its dots.
    expect(r.text('loading... done')).toBe('loading... done')
    expect(r.text('sk...')).toBe('sk...')
  })

  it('treats secret-looking environment variables and URL passwords as secrets, whole values only', () => {
    const byName = createRedactor({
      SERVICE_TOKEN: 'tok-abcdefgh12345678',
      DATABASE_URL: 'postgres://bench:s3cret-pass-word@db:5432/bench',
      SSH_AUTH_SOCK: '/tmp/ssh-agent.sock',
    })
    expect(byName.text('token tok-abcdefgh12345678 pw s3cret-pass-word')).toBe(
      'token [redacted:SERVICE_TOKEN] pw [redacted:DATABASE_URL password]',
    )
    // Not a key the scenario uses: fragments of it stay (a path found by name must not eat other paths).
    expect(byName.text('socket /tmp/ssh-agent.sock.2 in /tmp/ssh-agent')).toBe(
      'socket [redacted:SSH_AUTH_SOCK].2 in /tmp/ssh-agent',
    )
  })

  it('takes the credential after an auth scheme and literal credentials under credential keys', () => {
    const literal = createRedactor({}, [
      { headers: { Authorization: 'Bearer lit-0123456789abcdef' }, apiKey: 'opt-0123456789abcdef' },
    ])
    expect(literal.text('echo lit-0123456789abcdef and opt-0123456789abcdef')).toBe(
      'echo [redacted:header Authorization] and [redacted:apiKey]',
    )
  })

  it('leaves innocent text, numbers and dates alone', () => {
    const at = new Date('2026-12-07T00:00:00Z')
    const v = r.value({ at, n: 1.5, text: 'HTTP 500: upstream failed', list: ['application/json'] })
    expect(v).toEqual({ at, n: 1.5, text: 'HTTP 500: upstream failed', list: ['application/json'] })
    expect(v.at, 'a Date stays a Date').toBeInstanceOf(Date)
  })

  it('extend() adds the secrets of context learnt later', () => {
    const base = createRedactor(env)
    expect(base.text(KEY), 'the variable is not secret by its name').toBe(KEY)
    expect(base.extend([scenario]).text(KEY)).toBe('[redacted:BENCH_UNIT_ENDPOINT_CRED]')
  })
})

describe('JSONL sink', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-jsonl-secrets-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('writes every line redacted, to a 0600 file in a 0700 directory it creates', async () => {
    const saved = process.env.BENCH_UNIT_ENDPOINT_CRED
    process.env.BENCH_UNIT_ENDPOINT_CRED = KEY
    const file = path.join(dir, 'new', 'run.jsonl')
    try {
      const sink = createJsonlSink(file)
      const recorder = await sink.startRun(
        runMeta({
          label: `nightly ${KEY}`,
          scenario: { name: 'unit', hash: 'h', source: scenario },
          engineOptions: scenario.targets[0]?.engine ?? {},
        }),
      )
      recorder.record(okOutcome(0))
      recorder.record(errorOutcome(1, `Incorrect API key provided: ${KEY}`))
      recorder.record(errorOutcome(2, `upstream refused ${HEADER}`))
      await recorder.finish('failed', undefined, `engine said ${KEY.slice(0, 12)}...${KEY.slice(-4)}`)
      await sink.close()
    } finally {
      if (saved === undefined) delete process.env.BENCH_UNIT_ENDPOINT_CRED
      else process.env.BENCH_UNIT_ENDPOINT_CRED = saved
    }
    const text = readFileSync(file, 'utf8')
    expect(text.split('\n').filter(Boolean).length, 'lines').toBe(5)
    for (const needle of [KEY, KEY.slice(8, 24), HEADER]) expect(text.includes(needle), needle).toBe(false)
    expect(text).toContain('Incorrect API key provided: [redacted:BENCH_UNIT_ENDPOINT_CRED]')
    expect(text).toContain('"X-Gateway-Token":"[redacted]"')
    expect(statSync(file).mode & 0o777, 'file mode').toBe(0o600)
    expect(statSync(path.dirname(file)).mode & 0o777, 'directory mode').toBe(0o700)
  })
})
