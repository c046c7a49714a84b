/**
 * `bench import`: results other tools already produced flow into our runs — `vllm bench serve
 * --save-result` JSON (db/import/vllm.ts) and llama-bench `-o json` / `-o jsonl` (db/import/llama-bench.ts),
 * mapped to METRICS.md names, each run keeping its original document — and our own `bench export --format
 * json` document of a run measured elsewhere, stored as it was (db/import/bench-run.ts); past 8 MiB such a
 * document is stored as it is read (db/import/bench-run-stream.ts), as `POST /api/runs` does.
 * @module
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Db } from '../client.ts'
import type { ImportFormat } from '../schema.ts'
import {
  BenchRunError,
  parseBenchRun,
  type StoreBenchRunOptions,
  type StoredBenchRun,
  storeBenchRun,
} from './bench-run.ts'
import { BenchRunSyntaxError, streamBenchRun } from './bench-run-stream.ts'
import { mapLlamaBench } from './llama-bench.ts'
import { detectFormat, itemsOf, parseDocuments } from './parse.ts'
import { storeImportedRuns } from './store.ts'
import { type ImportContext, ImportError, type ImportedRun } from './types.ts'
import { mapVllmResult } from './vllm.ts'

export { quantLabelOf } from './llama-bench.ts'
export { ImportError, type ImportedRun, importFingerprint } from './types.ts'
export { classifyError } from './vllm.ts'

/** `auto` recognises the format by its fields. */
export type ImportFormatOption = 'auto' | 'vllm' | 'llama-bench' | 'bench-run'

export interface ImportOptions {
  /** @default 'auto' */
  format?: ImportFormatOption
  /** Scenario name of the imported runs (not of a bench-run, which keeps its own). @default 'vllm-bench-serve' or 'llama-bench' */
  scenario?: string
  /** Searched for secret values to redact from what is stored. @default process.env */
  env?: NodeJS.ProcessEnv
  /** Time recorded as the import time. @default now */
  now?: Date
  /**
   * A bench-run file larger than this is stored as it is read (db/import/bench-run-stream.ts), never
   * held whole; smaller ones, and every other format, are read whole. Bytes. @default 8 MiB
   */
  streamAboveBytes?: number
}

const DEFAULT_STREAM_ABOVE_BYTES = 8 * 1024 * 1024

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
  const streamed = await streamIfLarge(db, file, options)
  if (streamed) return streamed
  let bytes: Buffer
  let modifiedAt: Date
  try {
    ;[bytes, modifiedAt] = await Promise.all([readFile(file), stat(file).then((s) => s.mtime)])
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new ImportError(file, code === 'ENOENT' ? 'no such file' : (err as Error).message)
  }
  const items = itemsOf(parseDocuments(file, bytes.toString('utf8')))
  const format = resolveFormat(file, items, options.format ?? 'auto')
  if (format === 'bench-run') return importBenchRun(db, file, items, options)
  const runs = mapItems(file, items, format, {
    file,
    fileModifiedAt: modifiedAt,
    ...(options.scenario !== undefined ? { scenarioName: options.scenario } : {}),
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

/**
 * A large bench-run file (format auto or bench-run; `bench export` writes `"format": "bench-run"` first)
 * stored as it is read; undefined when the file is small or another format, for the whole-file path.
 */
async function streamIfLarge(
  db: Db,
  file: string,
  options: ImportOptions,
): Promise<ImportResult | undefined> {
  const format = options.format ?? 'auto'
  if (format !== 'auto' && format !== 'bench-run') return undefined
  let size: number
  let start: Buffer
  try {
    size = (await stat(file)).size
    if (size <= (options.streamAboveBytes ?? DEFAULT_STREAM_ABOVE_BYTES)) return undefined
    const handle = await open(file, 'r')
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0)
      start = buffer.subarray(0, bytesRead)
    } finally {
      await handle.close()
    }
  } catch {
    return undefined // the whole-file path reports it
  }
  if (!/^\uFEFF?\s*\{\s*"format"\s*:\s*"bench-run"/.test(start.toString('utf8'))) return undefined
  let stored: Awaited<ReturnType<typeof streamBenchRun>>
  try {
    stored = await streamBenchRun(
      db,
      createReadStream(file, { highWaterMark: 64 * 1024 }),
      storeOptions(file, options),
    )
  } catch (err) {
    if (err instanceof BenchRunError) throw new ImportError(file, err.message)
    if (err instanceof BenchRunSyntaxError) throw new ImportError(file, `not valid JSON (${err.message})`)
    throw err
  }
  return benchRunResult(file, stored)
}

/** Pure part of an import: file text → runs in our terms (no database). */
export function mapDocument(
  file: string,
  text: string,
  options: { format: ImportFormatOption; context: ImportContext },
): { format: ImportFormat; runs: ImportedRun[] } {
  const items = itemsOf(parseDocuments(file, text))
  const format = resolveFormat(file, items, options.format)
  return { format, runs: mapItems(file, items, format, options.context) }
}

function resolveFormat(file: string, items: unknown[], option: ImportFormatOption): ImportFormat {
  switch (option) {
    case 'auto':
      return detectFormat(file, items)
    case 'vllm':
      return 'vllm-bench-serve'
    case 'llama-bench':
    case 'bench-run':
      return option
    default: {
      const never: never = option
      throw new Error(`unknown import format option ${String(never)}`)
    }
  }
}

function mapItems(
  file: string,
  items: unknown[],
  format: ImportFormat,
  context: ImportContext,
): ImportedRun[] {
  if (items.length === 0) throw new ImportError(file, 'it holds no results (an empty array)')
  switch (format) {
    case 'vllm-bench-serve':
      return items.map((item, i) => mapVllmResult(item, context, i))
    case 'llama-bench':
      return mapLlamaBench(items, context)
    case 'bench-run':
      // Not a mapping: the run is stored as it was, identity and all (importFile → importBenchRun).
      throw new ImportError(file, 'a bench-run document is stored whole by importFile, not mapped')
    default: {
      const never: never = format
      throw new Error(`unknown import format ${String(never)}`)
    }
  }
}

/** One `bench export --format json` document → a new run here (or the one already here). */
async function importBenchRun(
  db: Db,
  file: string,
  items: unknown[],
  options: ImportOptions,
): Promise<ImportResult> {
  if (items.length !== 1)
    throw new ImportError(
      file,
      `it holds ${items.length} documents; a bench-run file holds one run, as \`bench export <id> --format json\` writes it`,
    )
  let stored: Awaited<ReturnType<typeof storeBenchRun>>
  try {
    stored = await storeBenchRun(db, parseBenchRun(items[0]), storeOptions(file, options))
  } catch (err) {
    if (err instanceof BenchRunError) throw new ImportError(file, err.message)
    throw err
  }
  return benchRunResult(file, stored)
}

/** How a bench-run file is stored: its name as the source, the caller's environment and clock. */
function storeOptions(file: string, options: ImportOptions): StoreBenchRunOptions {
  return {
    source: path.basename(file),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  }
}

/** A stored bench-run document as an import result (no figures or notes when it was there already). */
function benchRunResult(file: string, stored: StoredBenchRun): ImportResult {
  const { state, metrics, requests, notes, ...run } = stored
  return {
    file,
    format: 'bench-run',
    state,
    runs: [state === 'imported' ? { ...run, metrics, requests, notes } : { ...run, notes: [] }],
  }
}
