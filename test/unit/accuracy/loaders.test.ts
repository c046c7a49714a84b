import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DatasetError } from '../../../harness/accuracy/dataset-error.ts'
import { loadMcJsonl, parseMcJsonl } from '../../../harness/accuracy/load-jsonl.ts'
import { loadMmluCsv, parseMmluCsv } from '../../../harness/accuracy/load-mmlu-csv.ts'

const FIXTURES = join(import.meta.dirname, '../../fixtures/accuracy')

/** The DatasetError `run` throws (fails the test when it throws nothing or something else). */
function datasetError(run: () => unknown): DatasetError {
  try {
    run()
  } catch (error) {
    if (error instanceof DatasetError) return error
    throw error
  }
  throw new Error('expected a DatasetError, nothing was thrown')
}

describe('loadMmluCsv on the fixture layout', () => {
  it('reads every subject of dev/ and test/, subjects in name order, val/ absent → empty', async () => {
    const data = await loadMmluCsv(join(FIXTURES, 'mmlu-mini'))
    expect(
      data.test.map((i) => i.id),
      'ids',
    ).toEqual([
      'abstract_algebra/test/0',
      'abstract_algebra/test/1',
      'abstract_algebra/test/2',
      'anatomy/test/0',
      'anatomy/test/1',
    ])
    expect(data.dev.length, 'dev items').toBe(4)
    expect(data.val, 'no val/ directory').toEqual([])
  })

  it('parses BOM, quoted commas, doubled quotes, newlines in fields and CRLF', async () => {
    const data = await loadMmluCsv(join(FIXTURES, 'mmlu-mini'))
    const [first, second, third] = data.test
    expect(first?.question, 'BOM dropped, spaces kept in the item').toBe(
      '  How many elements does the cyclic group Z_6 have?  ',
    )
    expect(first?.choices, 'a quoted plain field').toEqual(['3', '6', '12', '36'])
    expect(second?.question, 'doubled quotes').toBe('Which statement is "always" true?')
    expect(second?.choices[2], 'comma in a quoted field').toBe('Every ring has a unit, by definition')
    expect(third?.question, 'newline in a field').toBe(
      'Find the order of 3 in Z_7^*.\nGive the smallest k with 3^k = 1.',
    )
    expect(third?.answer, 'C → 2').toBe(2)
    expect(third?.source.line, 'record 3 starts on line 3').toBe(3)
    expect(data.dev[1]?.choices[2], 'CRLF file, quoted comma').toBe('The odd integers, with 0')
    expect(data.dev[1]?.source.line, 'CRLF lines counted').toBe(2)
  })
})

describe('parseMmluCsv: every bad row is an error naming file, line and fix', () => {
  const parse = (text: string) => parseMmluCsv(text, 'dev/anatomy_dev.csv', 'anatomy', 'dev')

  it('a row without an answer', () => {
    const e = datasetError(() => parse('Q1,a,b,c,d,A\nQ2,a,b,c,d\n'))
    expect(e.file, 'file').toBe('dev/anatomy_dev.csv')
    expect(e.line, 'line').toBe(2)
    expect(e.message, 'message').toBe(
      'dev/anatomy_dev.csv:2: 6 fields expected (question,A,B,C,D,answer), got 5. ' +
        'Fix: write all four choices and the answer letter; quote a field that holds a comma',
    )
  })

  it('an empty answer field', () => {
    const e = datasetError(() => parse('Q1,a,b,c,d,\n'))
    expect(e.message, 'empty answer').toBe(
      'dev/anatomy_dev.csv:1: the answer is empty. Fix: write the answer letter (A, B, C or D) as the 6th field',
    )
  })

  it('an answer that is not A–D', () => {
    expect(datasetError(() => parse('Q1,a,b,c,d,E\n')).message, 'E').toMatch(
      /:1: the answer "E" is not a letter A–D\./,
    )
    expect(datasetError(() => parse('Q1,a,b,c,d,1\n')).message, 'a digit').toMatch(
      /:1: the answer "1" is not a letter A–D\./,
    )
    expect(datasetError(() => parse('Q1,a,b,c,d,AB\n')).message, 'two letters').toMatch(/the answer "AB"/)
  })

  it('a lower-case or padded letter is that letter', () => {
    expect(parse('Q1,a,b,c,d, c\n')[0]?.answer, ' c → C').toBe(2)
  })

  it('too many fields (an unquoted comma), with the record start line after a multi-line field', () => {
    const e = datasetError(() => parse('"Q1\nspans two lines",a,b,c,d,A\nQ2,Paris, France,b,c,d,A\n'))
    expect(e.line, 'record 2 starts on line 3').toBe(3)
    expect(e.message, 'names the count and the fix').toMatch(
      /got 7\. Fix: quote any field that holds a comma/,
    )
  })

  it('an empty question (whitespace only)', () => {
    expect(datasetError(() => parse('   ,a,b,c,d,A\n')).message, 'empty question').toBe(
      'dev/anatomy_dev.csv:1: the question is empty. Fix: write the question as the first field',
    )
  })

  it('an unterminated quote, at the line where the record starts', () => {
    const e = datasetError(() => parse('Q1,a,b,c,d,A\nQ2,"a,b,c,d,A\nQ3,a,b,c,d,A\n'))
    expect(e.line, 'record 2').toBe(2)
    expect(e.message, 'what').toMatch(/never closes/)
  })
})

describe('loadMmluCsv: layout errors', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-mmlu-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('a directory without test/', async () => {
    await expect(loadMmluCsv(dir), 'names test/').rejects.toThrow(
      /test: no test\/ directory\. Fix: point at the MMLU data directory/,
    )
  })

  it('an empty test/', async () => {
    await mkdir(join(dir, 'test'))
    await expect(loadMmluCsv(dir), 'no csv').rejects.toThrow(/no \.csv file/)
  })

  it('a file not named {subject}_{split}.csv', async () => {
    await writeFile(join(dir, 'test', 'anatomy.csv'), 'Q,a,b,c,d,A\n')
    await expect(loadMmluCsv(dir), 'names the file').rejects.toThrow(
      /anatomy\.csv: the file name does not have the form \{subject\}_test\.csv\. Fix: rename it/,
    )
  })

  it('a bad row names the file on disk', async () => {
    await rm(join(dir, 'test', 'anatomy.csv'))
    await writeFile(join(dir, 'test', 'anatomy_test.csv'), 'Q,a,b,c,d,A\nQ,a,b,c,d,X\n')
    await expect(loadMmluCsv(dir), 'file and line').rejects.toThrow(
      `${join(dir, 'test', 'anatomy_test.csv')}:2: the answer "X"`,
    )
  })
})

describe('JSONL layout', () => {
  it('reads the fixture: splits, letter or index answers, 2..N choices, subjects in name order', async () => {
    const data = await loadMcJsonl(join(FIXTURES, 'mini.jsonl'))
    expect(
      data.test.map((i) => [i.id, i.answer, i.choices.length, i.source.line]),
      'test items',
    ).toEqual([
      ['abstract_algebra/test/0', 0, 2, 4],
      ['anatomy/test/0', 2, 4, 2],
    ])
    expect(
      data.dev.map((i) => i.id),
      'dev items',
    ).toEqual(['anatomy/dev/0'])
  })

  const parse = (text: string) => parseMcJsonl(text, 'set.jsonl')
  const ok = '{"subject":"s","question":"q","choices":["a","b","c","d"],"answer":1}'

  it.each([
    ['not JSON', '{"subject": "s",', /set\.jsonl:2: not JSON/],
    ['not an object', '[1, 2]', /set\.jsonl:2: not a JSON object/],
    ['no subject', '{"question":"q","choices":["a","b"],"answer":0}', /:2: "subject" is missing/],
    [
      'empty question',
      '{"subject":"s","question":"  ","choices":["a","b"],"answer":0}',
      /:2: "question" is missing, empty/,
    ],
    [
      'one choice',
      '{"subject":"s","question":"q","choices":["a"],"answer":0}',
      /:2: "choices" must be an array of 2 to 26 strings, got an array of 1/,
    ],
    [
      'a non-string choice',
      '{"subject":"s","question":"q","choices":["a",2],"answer":0}',
      /:2: choices\[1\] is 2, not a string/,
    ],
    [
      'no answer',
      '{"subject":"s","question":"q","choices":["a","b"]}',
      /:2: the answer is missing\. Fix: set "answer"/,
    ],
    [
      'index out of range',
      '{"subject":"s","question":"q","choices":["a","b"],"answer":2}',
      /:2: the answer index 2 is not an integer in 0\.\.1/,
    ],
    [
      'letter out of range',
      '{"subject":"s","question":"q","choices":["a","b"],"answer":"C"}',
      /:2: the answer "C" is not a letter A–B/,
    ],
    [
      'numeric string',
      '{"subject":"s","question":"q","choices":["a","b"],"answer":"1"}',
      /:2: the answer "1" is not a letter/,
    ],
    [
      'bad split',
      '{"subject":"s","question":"q","choices":["a","b"],"answer":0,"split":"train"}',
      /:2: "split" "train" is not dev, val or test/,
    ],
  ])('%s → error naming file and line', (_label, line, pattern) => {
    expect(() => parse(`${ok}\n${line}\n`), String(pattern)).toThrow(pattern)
  })
})
