/**
 * Loader of the MMLU CSV layout (Hendrycks et al.'s `data.tar`): a directory holding `dev/`, `val/` and
 * `test/`, each with one `{subject}_{split}.csv` per subject, rows `question,A,B,C,D,answer` without a
 * header, the answer a letter A–D. Every bad row is a DatasetError naming file, line and fix.
 * @module
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseAnswer } from './answer.ts'
import { parseCsv } from './csv.ts'
import { DatasetError } from './dataset-error.ts'
import { pythonStrip } from './prompt.ts'
import { MC_SPLITS, type McDataset, type McItem, type McSplit } from './types.ts'

/** question + 4 choices + answer. */
const MMLU_FIELDS = 6
const MMLU_CHOICES = 4

export interface LoadMmluCsvOptions {
  /** Splits whose directory must exist; the others are read when present and empty otherwise. @default ['test'] */
  required?: readonly McSplit[]
}

/**
 * Reads every `{subject}_{split}.csv` under `dir`/dev, /val and /test (files in name order; other file
 * kinds and dot-files are ignored).
 * @throws DatasetError for a missing required split, an empty split, a misnamed CSV file or a bad row
 */
export async function loadMmluCsv(dir: string, options: LoadMmluCsvOptions = {}): Promise<McDataset> {
  const required = options.required ?? ['test']
  const dataset: Record<McSplit, McItem[]> = { dev: [], val: [], test: [] }
  for (const split of MC_SPLITS) {
    const splitDir = join(dir, split)
    if (!(await isDirectory(splitDir))) {
      if (required.includes(split))
        throw new DatasetError(
          splitDir,
          undefined,
          `no ${split}/ directory`,
          `point at the MMLU data directory, the one holding dev/, val/ and test/ with {subject}_{split}.csv files`,
        )
      continue
    }
    const names = (await readdir(splitDir)).filter((name) => !name.startsWith('.') && name.endsWith('.csv'))
    if (names.length === 0)
      throw new DatasetError(
        splitDir,
        undefined,
        'no .csv file',
        `put one {subject}_${split}.csv per subject here, or remove the empty directory`,
      )
    const suffix = `_${split}.csv`
    const files = names.map((name) => {
      const file = join(splitDir, name)
      const subject = name.endsWith(suffix) ? name.slice(0, -suffix.length) : ''
      if (subject === '')
        throw new DatasetError(
          file,
          undefined,
          `the file name does not have the form {subject}${suffix}`,
          `rename it to <subject>${suffix}, e.g. abstract_algebra${suffix}`,
        )
      return { file, subject }
    })
    // Subject order, not file-name order, so this layout and the JSONL one list subjects alike.
    files.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0))
    for (const { file, subject } of files)
      dataset[split].push(...parseMmluCsv(await readFile(file, 'utf8'), file, subject, split))
  }
  return dataset
}

/**
 * The items of one MMLU CSV file's text.
 * @throws DatasetError on a row with a field count other than 6, an empty question or a bad answer
 */
export function parseMmluCsv(text: string, file: string, subject: string, split: McSplit): McItem[] {
  const items: McItem[] = []
  for (const { fields, line } of parseCsv(text, file)) {
    if (fields.length !== MMLU_FIELDS) {
      const got = fields.length
      throw new DatasetError(
        file,
        line,
        `${MMLU_FIELDS} fields expected (question,A,B,C,D,answer), got ${got}`,
        got < MMLU_FIELDS
          ? 'write all four choices and the answer letter; quote a field that holds a comma'
          : 'quote any field that holds a comma ("a, b"), doubling quotes inside it',
      )
    }
    const [question, a, b, c, d, answerField] = fields as [string, string, string, string, string, string]
    if (pythonStrip(question) === '')
      throw new DatasetError(file, line, 'the question is empty', 'write the question as the first field')
    const answer = parseAnswer(answerField, MMLU_CHOICES, 'letter')
    if (typeof answer !== 'number')
      throw new DatasetError(
        file,
        line,
        answer.problem,
        'write the answer letter (A, B, C or D) as the 6th field',
      )
    const index = items.length
    items.push({
      id: `${subject}/${split}/${index}`,
      subject,
      split,
      index,
      question,
      choices: [a, b, c, d],
      answer,
      source: { file, line },
    })
  }
  return items
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return false
    throw error
  }
}
