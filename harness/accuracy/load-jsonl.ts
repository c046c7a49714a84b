/**
 * Loader of the JSONL layout: one item per line,
 * `{"subject": "...", "question": "...", "choices": ["...", ...], "answer": 2 | "C", "split"?: "dev"}`.
 * `choices` holds 2 to 26 strings; `answer` is a 0-based index or a letter; `split` is `dev`, `val` or
 * `test` (default `test`), so one file can carry its own few-shot examples. Blank lines are skipped and
 * other fields ignored. Every bad line is a DatasetError naming file, line and fix.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { parseAnswer } from './answer.ts'
import { DatasetError } from './dataset-error.ts'
import { pythonStrip } from './prompt.ts'
import { MAX_CHOICES, MC_SPLITS, type McDataset, type McItem, type McSplit } from './types.ts'

const EXAMPLE = '{"subject": "anatomy", "question": "…", "choices": ["…", "…", "…", "…"], "answer": "B"}'

/** Reads `file` and parses it with parseMcJsonl. */
export async function loadMcJsonl(file: string): Promise<McDataset> {
  return parseMcJsonl(await readFile(file, 'utf8'), file)
}

/**
 * The items of a JSONL text, split by their `split` field; subjects in name order, items in file order.
 * @throws DatasetError on invalid JSON or a missing or invalid field
 */
export function parseMcJsonl(text: string, file: string): McDataset {
  const bySplit: Record<McSplit, McItem[]> = { dev: [], val: [], test: [] }
  const counts = new Map<string, number>()
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/)
  lines.forEach((raw, i) => {
    const line = i + 1
    if (raw.trim() === '') return
    const fail = (problem: string, fix: string): never => {
      throw new DatasetError(file, line, problem, fix)
    }
    let row: unknown
    try {
      row = JSON.parse(raw)
    } catch (error) {
      fail(`not JSON (${(error as Error).message})`, `write one JSON object per line, e.g. ${EXAMPLE}`)
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      fail('not a JSON object', `write one JSON object per line, e.g. ${EXAMPLE}`)
    const { subject, question, choices, answer, split = 'test' } = row as Record<string, unknown>
    if (typeof subject !== 'string' || subject.trim() === '')
      fail('"subject" is missing or not a non-empty string', 'add "subject": "<name>", e.g. "anatomy"')
    if (typeof question !== 'string' || pythonStrip(question) === '')
      fail('"question" is missing, empty or not a string', 'add the question text as "question"')
    if (!Array.isArray(choices) || choices.length < 2 || choices.length > MAX_CHOICES)
      fail(
        `"choices" must be an array of 2 to ${MAX_CHOICES} strings, got ${describe(choices)}`,
        'list the choice texts in order: "choices": ["…", "…", "…", "…"]',
      )
    const choiceTexts = choices as unknown[]
    const bad = choiceTexts.findIndex((c) => typeof c !== 'string')
    if (bad >= 0)
      fail(`choices[${bad}] is ${describe(choiceTexts[bad])}, not a string`, 'write every choice as a string')
    if (typeof split !== 'string' || !(MC_SPLITS as readonly string[]).includes(split))
      fail(
        `"split" ${JSON.stringify(split)} is not dev, val or test`,
        'use "dev" for few-shot examples or leave it out',
      )
    const index = parseAnswer(answer, choiceTexts.length, 'letter-or-index')
    if (typeof index !== 'number')
      fail(index.problem, `set "answer" to the 0-based index or the letter of the right choice`)
    const name = subject as string
    const s = split as McSplit
    const key = `${name}/${s}`
    const position = counts.get(key) ?? 0
    counts.set(key, position + 1)
    bySplit[s].push({
      id: `${key}/${position}`,
      subject: name,
      split: s,
      index: position,
      question: question as string,
      choices: choiceTexts as string[],
      answer: index as number,
      source: { file, line },
    })
  })
  // Stable sort: subjects in name order (as the CSV layout's files), items of a subject in file order.
  const bySubject = (a: McItem, b: McItem) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0)
  return {
    dev: bySplit.dev.sort(bySubject),
    val: bySplit.val.sort(bySubject),
    test: bySplit.test.sort(bySubject),
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing'
  if (Array.isArray(value)) return `an array of ${value.length}`
  return JSON.stringify(value)
}
