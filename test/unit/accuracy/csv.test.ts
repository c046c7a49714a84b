import { describe, expect, it } from 'vitest'
import { parseCsv } from '../../../harness/accuracy/csv.ts'
import { DatasetError } from '../../../harness/accuracy/dataset-error.ts'
import { createRandom } from '../../../harness/random.ts'

const fields = (text: string) => parseCsv(text, 'x.csv').map((r) => r.fields)
const lines = (text: string) => parseCsv(text, 'x.csv').map((r) => r.line)

describe('parseCsv: RFC 4180', () => {
  it('splits plain fields and records', () => {
    expect(fields('a,b,c\nd,e,f\n'), 'two records of three').toEqual([
      ['a', 'b', 'c'],
      ['d', 'e', 'f'],
    ])
  })

  it('keeps commas inside quoted fields', () => {
    expect(fields('"Paris, France",b\n'), 'one field holding a comma').toEqual([['Paris, France', 'b']])
  })

  it('turns doubled quotes into one', () => {
    expect(fields('"He said ""no""",x\n'), '"" → "').toEqual([['He said "no"', 'x']])
    expect(fields('"""",x\n'), 'a field that is one quote').toEqual([['"', 'x']])
  })

  it('keeps line breaks inside quoted fields and counts them for the next record', () => {
    const text = 'q1,"line one\nline two\nline three",z\nq2,b,c\n'
    expect(fields(text), 'newlines kept').toEqual([
      ['q1', 'line one\nline two\nline three', 'z'],
      ['q2', 'b', 'c'],
    ])
    expect(lines(text), 'record 2 starts on line 4').toEqual([1, 4])
  })

  it('drops a UTF-8 BOM', () => {
    expect(fields('\uFEFFa,b\n'), 'no BOM in the first field').toEqual([['a', 'b']])
    expect(fields('\uFEFF"a",b\n'), 'BOM before a quoted first field').toEqual([['a', 'b']])
  })

  it('reads CRLF like LF, including CRLF inside quoted fields', () => {
    const lf = 'a,"x\ny",c\nd,e,f\n'
    const crlf = 'a,"x\r\ny",c\r\nd,e,f\r\n'
    expect(fields(crlf), 'same strings').toEqual(fields(lf))
    expect(lines(crlf), 'same lines').toEqual([1, 3])
  })

  it('reads a lone CR as a line break and a last record without one', () => {
    expect(fields('a,b\rc,d'), 'two records').toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ])
  })

  it('keeps empty fields, a trailing empty field and a quoted empty field', () => {
    expect(fields('a,,c\n'), 'middle').toEqual([['a', '', 'c']])
    expect(fields('a,b,\n'), 'trailing').toEqual([['a', 'b', '']])
    expect(fields('a,b,'), 'trailing at end of file').toEqual([['a', 'b', '']])
    expect(fields('""\n'), 'a record of one quoted empty field is a record').toEqual([['']])
  })

  it('skips empty lines, counting them', () => {
    const text = 'a,b\n\n\nc,d\n'
    expect(fields(text), 'blank lines hold no record').toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ])
    expect(lines(text), 'c,d is on line 4').toEqual([1, 4])
  })

  it('keeps a quote inside an unquoted field as a character (as Python csv does)', () => {
    expect(fields('5" tall,b\n'), 'inch mark').toEqual([['5" tall', 'b']])
  })

  it('refuses an unterminated quote, naming the line where the record starts', () => {
    const text = 'a,b\nc,"never closed\nmore\n'
    let error: unknown
    try {
      parseCsv(text, 'data/x.csv')
    } catch (e) {
      error = e
    }
    expect(error, 'a DatasetError').toBeInstanceOf(DatasetError)
    const e = error as DatasetError
    expect(e.file, 'file').toBe('data/x.csv')
    expect(e.line, 'the record starts on line 2').toBe(2)
    expect(e.message, 'says what and how to fix').toMatch(
      /^data\/x\.csv:2: field 2 opens a quote on line 2 that never closes\. Fix: /,
    )
  })

  it('refuses text right after a closing quote', () => {
    expect(() => parseCsv('a\n"abc"d,e\n', 'x.csv'), 'ambiguous field').toThrow(
      /x\.csv:2: field 1 has "d" right after its closing quote/,
    )
  })
})

describe('parseCsv: round trip (seeded property test; fast-check is not installed)', () => {
  it('any fields written the RFC 4180 way read back the same, with the right start lines', () => {
    const random = createRandom(2024)
    const alphabet = ['a', 'b', ' ', ',', '"', '\n', 'é', '𝑥', '5']
    const field = () =>
      Array.from({ length: random.int(0, 6) }, () => alphabet[random.int(0, alphabet.length - 1)]).join('')
    const quote = (f: string) => (/[",\n]/.test(f) || f === '' ? `"${f.replaceAll('"', '""')}"` : f)
    for (let trial = 0; trial < 200; trial++) {
      const records = Array.from({ length: random.int(1, 5) }, () =>
        Array.from({ length: random.int(1, 4) }, field),
      )
      const eol = random.next() < 0.5 ? '\n' : '\r\n'
      const rows = records.map((r) => r.map(quote).join(','))
      const text = (random.next() < 0.5 ? '\uFEFF' : '') + rows.join(eol) + (random.next() < 0.5 ? eol : '')
      const parsed = parseCsv(text, 'x.csv')
      expect(
        parsed.map((r) => r.fields),
        `trial ${trial}: ${JSON.stringify(text)}`,
      ).toEqual(records)
      // Each record starts one line after the previous one's last line.
      let line = 1
      for (const [i, row] of rows.entries()) {
        expect(parsed[i]?.line, `trial ${trial}, record ${i}`).toBe(line)
        line += row.split('\n').length
      }
    }
  })
})
