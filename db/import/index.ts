/**
 * `bench import`: results other tools already produced flow into our runs — `vllm bench serve
 * --save-result` JSON (db/import/vllm.ts) and llama-bench `-o json` / `-o jsonl` (db/import/llama-bench.ts),
 * mapped to METRICS.md names, each run keeping its original document.
 * @module
 */
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Db } from '../client.ts'
import type { ImportFormat } from '../schema.ts'
import { mapLlamaBench } from './llama-bench.ts'
import { detectFormat, itemsOf, parseDocuments } from './parse.ts'
import { storeImportedRuns } from './store.ts'
import { type ImportContext, ImportError, type ImportedRun } from './types.ts'
import { mapVllmResult } from './vllm.ts'

export { quantLabelOf } from './llama-bench.ts'
export { ImportError, type ImportedRun, importFingerprint } from './types.ts'
export { classifyError } from './vllm.ts'

/** `auto` recognises the format by its fields. */
export type ImportFormatOption = 'auto' | 'vllm' | 'llama-bench'

export interface ImportOptions {
  /** @default 'auto' */
  format?: ImportFormatOption
  /** Scenario name of the imported runs. @default 'vllm-bench-serve' or 'llama-bench' */
  scenario?: string
  /** Searched for secret values to redact from what is stored. @default process.env */
  env?: NodeJS.ProcessEnv
  /** Time recorded as the import time. @default now */
  now?: Date
}

export interface ImportedRunSummary {
  id: number
  scenarioName: string
  targetName: string
  fingerprint: string
  /** Summary figures and request rows written (absent when the file had been imported before). */
  metrics?: number
  requests?: number
  notes: string[]
}

export interface ImportResult {
  file: string
  format: ImportFormat
  /** `already-imported`: this exact file was imported before; nothing was written. */
  state: 'imported' | 'already-imported'
  runs: ImportedRunSummary[]
}

/** Reads, maps and stores one file. Throws ImportError (naming the file and the problem) for bad input. */
export async function importFile(db: Db, file: string, options: ImportOptions = {}): Promise<ImportResult> {
  let bytes: Buffer
  let modifiedAt: Date
  try {
    ;[bytes, modifiedAt] = await Promise.all([readFile(file), stat(file).then((s) => s.mtime)])
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new ImportError(file, code === 'ENOENT' ? 'no such file' : (err as Error).message)
  }
  const { format, runs } = mapDocument(file, bytes.toString('utf8'), {
    format: options.format ?? 'auto',
    context: {
      file,
      fileModifiedAt: modifiedAt,
      ...(options.scenario !== undefined ? { scenarioName: options.scenario } : {}),
    },
  })
  const stored = await storeImportedRuns(
    db,
    {
      format,
      file: path.basename(file),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      importedAt: options.now ?? new Date(),
    },
    runs,
    options.env,
  )
  return {
    file,
    format,
    state: stored.state,
    runs: stored.runs.map((row, i) => {
      const run = stored.state === 'imported' ? runs[i] : undefined
      return run
        ? { ...row, metrics: run.metrics.length, requests: run.requests.length, notes: run.notes }
        : { ...row, notes: [] }
    }),
  }
}

/** Pure part of an import: file text → runs in our terms (no database). */
export function mapDocument(
  file: string,
  text: string,
  options: { format: ImportFormatOption; context: ImportContext },
): { format: ImportFormat; runs: ImportedRun[] } {
  const items = itemsOf(parseDocuments(file, text))
  const format: ImportFormat =
    options.format === 'auto'
      ? detectFormat(file, items)
      : options.format === 'vllm'
        ? 'vllm-bench-serve'
        : 'llama-bench'
  if (items.length === 0) throw new ImportError(file, 'it holds no results (an empty array)')
  switch (format) {
    case 'vllm-bench-serve':
      return { format, runs: items.map((item, i) => mapVllmResult(item, options.context, i)) }
    case 'llama-bench':
      return { format, runs: mapLlamaBench(items, options.context) }
    default: {
      const never: never = format
      throw new Error(`unknown import format ${String(never)}`)
    }
  }
}
