/**
 * RFC 4180 CSV records with the 1-based line each record starts on.
 *
 * Hand-written rather than a dependency: no CSV package is installed (package.json), the grammar fits in
 * one function, and the loaders need the start line of every record for their errors, which this gives
 * for free. What it accepts (each case in test/unit/accuracy/csv.test.ts):
 * - a UTF-8 byte-order mark at the start (dropped);
 * - records ended by CRLF, LF or a lone CR; a last record without a line break;
 * - quoted fields holding commas, line breaks and doubled quotes (`""` → `"`); a CRLF inside a quoted field
 *   becomes LF, so a file and its CRLF-converted copy give the same strings (and the same prompts);
 * - a quote inside an unquoted field is kept as a character (Python's csv module and pandas, which wrote
 *   and read the MMLU files, do the same);
 * - empty lines are skipped (they hold no record).
 * What it refuses, naming the record's start line: a quoted field that never closes, and a character other
 * than a comma or line break right after a closing quote (`"abc"d`), where the intent is ambiguous.
 * @module
 */
import { DatasetError } from './dataset-error.ts'

export interface CsvRecord {
  readonly fields: string[]
  /** 1-based line of the file where the record starts. */
  readonly line: number
}

const COMMA = 44
const LF = 10
const CR = 13
const QUOTE = 34
const BOM = 0xfeff

/**
 * Splits `text` into records of fields.
 * @param file named in errors
 * @throws DatasetError on an unterminated quoted field or text after a closing quote
 */
export function parseCsv(text: string, file: string): CsvRecord[] {
  const n = text.length
  let i = text.charCodeAt(0) === BOM ? 1 : 0
  let line = 1
  const records: CsvRecord[] = []
  while (i < n) {
    const startLine = line
    const fields: string[] = []
    let quotedAny = false
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        quotedAny = true
        const fieldLine = line
        let value = ''
        i++
        for (;;) {
          const close = text.indexOf('"', i)
          if (close === -1)
            throw new DatasetError(
              file,
              startLine,
              `field ${fields.length + 1} opens a quote on line ${fieldLine} that never closes`,
              'end the field with a double quote; write a quote inside a quoted field twice ("")',
            )
          value += text.slice(i, close)
          i = close + 1
          if (text.charCodeAt(i) !== QUOTE) break
          value += '"'
          i++
        }
        line += countLineBreaks(value)
        fields.push(value.replaceAll('\r\n', '\n'))
        const next = text.charCodeAt(i)
        if (i < n && next !== COMMA && next !== LF && next !== CR)
          throw new DatasetError(
            file,
            startLine,
            `field ${fields.length} has ${JSON.stringify(text[i])} right after its closing quote`,
            'quote the whole field and write every quote inside it twice ("")',
          )
      } else {
        let j = i
        while (j < n) {
          const c = text.charCodeAt(j)
          if (c === COMMA || c === LF || c === CR) break
          j++
        }
        fields.push(text.slice(i, j))
        i = j
      }
      if (i >= n) break
      const c = text.charCodeAt(i)
      if (c === COMMA) {
        i++
        continue
      }
      i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1
      line++
      break
    }
    if (fields.length === 1 && fields[0] === '' && !quotedAny) continue
    records.push({ fields, line: startLine })
  }
  return records
}

/** CRLF, LF and a lone CR each end one line. */
function countLineBreaks(s: string): number {
  let count = 0
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k)
    if (c === LF) count++
    else if (c === CR && s.charCodeAt(k + 1) !== LF) count++
  }
  return count
}
