/**
 * Reading other tools' result files: one JSON document, or JSON Lines (llama-bench `-o jsonl`, vLLM
 * `--append-result`). Python's json module writes NaN and ±Infinity for undefined statistics, which JSON
 * does not allow; they are read as null. The format is recognised by the fields each tool always writes.
 * @module
 */
import type { ImportFormat } from '../schema.ts'
import { looksLikeBenchRun } from './bench-run.ts'
import { ImportError } from './types.ts'

/** The JSON values in a file: one for a JSON document, one per non-empty line for JSON Lines. */
export function parseDocuments(file: string, text: string): unknown[] {
  const body = text.replace(/^\uFEFF/, '')
  if (body.trim() === '') throw new ImportError(file, 'the file is empty')
  const whole = tryParse(body)
  if (whole.ok) return [whole.value]
  const lines = body.split(/\r?\n/)
  const values: unknown[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? ''
    if (line === '') continue
    const parsed = tryParse(line)
    if (!parsed.ok) {
      // A single document that is broken is reported as such, not as a bad first line.
      const problem = values.length === 0 && i === 0 ? whole.error : `line ${i + 1}: ${parsed.error}`
      throw new ImportError(file, `not valid JSON or JSON Lines (${problem})`)
    }
    values.push(parsed.value)
  }
  return values
}

type Parsed = { ok: true; value: unknown } | { ok: false; error: string }

function tryParse(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (err) {
    if (!/NaN|Infinity/.test(text)) return { ok: false, error: (err as Error).message }
    try {
      return { ok: true, value: JSON.parse(withoutNonFiniteLiterals(text)) }
    } catch {
      return { ok: false, error: (err as Error).message }
    }
  }
}

/** Replaces the bare tokens NaN, Infinity and -Infinity outside strings with null. */
function withoutNonFiniteLiterals(text: string): string {
  let out = ''
  let from = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92)
        i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
      continue
    }
    if (c === 34) {
      inString = true
      continue
    }
    const token = text.startsWith('NaN', i)
      ? 'NaN'
      : text.startsWith('Infinity', i)
        ? 'Infinity'
        : text.startsWith('-Infinity', i)
          ? '-Infinity'
          : undefined
    if (token === undefined) continue
    out += `${text.slice(from, i)}null`
    i += token.length - 1
    from = i + 1
  }
  return out + text.slice(from)
}

/** The items a file holds: a top-level array's elements, else the documents themselves. */
export function itemsOf(documents: unknown[]): unknown[] {
  return documents.length === 1 && Array.isArray(documents[0]) ? documents[0] : documents
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/** llama-bench always writes these per test record. */
function looksLikeLlamaBench(item: unknown): boolean {
  return isObject(item) && 'avg_ts' in item && 'n_prompt' in item && 'n_gen' in item
}

/** `vllm bench serve --save-result` always writes these. */
function looksLikeVllm(item: unknown): boolean {
  return isObject(item) && 'duration' in item && 'completed' in item && 'request_throughput' in item
}

export function detectFormat(file: string, items: unknown[]): ImportFormat {
  if (items.length === 0) throw new ImportError(file, 'it holds no results (an empty array)')
  if (items.every(looksLikeLlamaBench)) return 'llama-bench'
  if (items.every(looksLikeVllm)) return 'vllm-bench-serve'
  if (items.some(looksLikeBenchRun)) return 'bench-run'
  throw new ImportError(
    file,
    'unknown format: neither `vllm bench serve --save-result` JSON (duration, completed, request_throughput …), ' +
      'llama-bench `-o json`/`-o jsonl` records (n_prompt, n_gen, avg_ts …) ' +
      'nor a `bench export --format json` run ("format": "bench-run"); pass --format to see what is missing',
  )
}
