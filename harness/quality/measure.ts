/**
 * A quality run's engine side: the reference target's distributions collected window by window
 * (collectReference), then any target's compared with them (compareWithReference) into per-position
 * comparisons for summarizeQuality. Windows are llama-perplexity --kl-divergence's (engine.ts
 * TokenLogProbsOptions); at most `maxTokens` positions are scored, the last window's rows cut to fit.
 *
 * Memory: the variant's distributions are held one window at a time. The reference's (scored tokens ×
 * vocabulary × 4 bytes: 2048 × 259 ≈ 2 MiB for the fixtures, 2048 × 152k ≈ 1.2 GiB for a Qwen vocabulary)
 * stay in memory up to `memoryBytes` (REFERENCE_MEMORY_BYTES, 256 MiB); above it they are written as they
 * come to a temporary file of float32 rows and read back one window at a time, so memory stays at one window
 * on both sides. Float32, not llama-perplexity's 16-bit quantized log-probs (its --kl-divergence-base
 * file): exact, at twice the disk. Above REFERENCE_MAX_BYTES (32 GiB) the run is refused with the figure and
 * the largest maxTokens that fits. dispose() removes the file.
 * @module
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Engine, TokenLogProbs } from '../engines/engine.ts'
import { HarnessError } from '../errors.ts'
import type { QualitySpec } from '../results.ts'
import { comparePosition, type PositionComparison } from './position.ts'

/** Largest reference kept in memory; a larger one goes to a temporary file. bytes */
export const REFERENCE_MEMORY_BYTES = 256 * 1024 ** 2
/** Largest reference at all (in memory or on disk). bytes */
export const REFERENCE_MAX_BYTES = 32 * 1024 ** 3

export interface ReferenceWindow {
  /** The window's token ids (what the variant must also have). */
  tokens: number[]
  firstScored: number
  /** Rows kept (scored positions of this window that count). */
  rows: number
  /** rows × vocabSize natural-log probabilities, in memory; absent when they are in the file. */
  logProbs?: Float32Array
  /** Byte offset of the rows in the reference file. */
  fileOffset?: number
}

export interface ReferenceDistributions {
  /** The reference target's name. */
  target: string
  vocabSize: number
  windows: ReferenceWindow[]
  /** Σ rows. */
  scored: number
  /** The temporary file holding the rows, when they did not fit in memory. */
  file?: string
  /** Removes the file (idempotent). */
  dispose(): void
}

/** Scored positions of one window (llama-perplexity's n_ctx − 1 − n_ctx/2). */
export function scoredPerWindow(contextTokens: number): number {
  return contextTokens - 1 - Math.floor(contextTokens / 2)
}

function logProbsOf(engine: Engine, target: string): NonNullable<Engine['tokenLogProbs']> {
  const method = engine.tokenLogProbs
  if (!method)
    throw new HarnessError(
      `target "${target}" (${engine.info.kind}) cannot give full next-token distributions (tokenLogProbs); quality needs a native engine`,
    )
  return method.bind(engine)
}

/**
 * The reference's distributions over the first windows of the text.
 * @throws HarnessError when the engine cannot, or the distributions would exceed REFERENCE_MAX_BYTES
 */
export async function collectReference(
  engine: Engine,
  target: string,
  text: string,
  spec: Pick<QualitySpec, 'contextTokens' | 'maxTokens'>,
  signal?: AbortSignal,
  options: { memoryBytes?: number } = {},
): Promise<ReferenceDistributions> {
  const tokenLogProbs = logProbsOf(engine, target)
  const per = scoredPerWindow(spec.contextTokens)
  const memoryBytes = options.memoryBytes ?? REFERENCE_MEMORY_BYTES
  const windows: ReferenceWindow[] = []
  let scored = 0
  let vocabSize = 0
  let total = 1
  let dir: string | undefined
  let fd: number | undefined
  let offset = 0
  const reference: ReferenceDistributions = {
    target,
    vocabSize,
    windows,
    scored,
    dispose() {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
      dir = undefined
    },
  }
  try {
    for (let w = 0; w < total && scored < spec.maxTokens; w++) {
      signal?.throwIfAborted()
      const r = await tokenLogProbs(text, { contextTokens: spec.contextTokens, window: w }, signal)
      if (w === 0) {
        vocabSize = r.vocabSize
        total = r.windows
        const tokens = Math.min(spec.maxTokens, total * per)
        const bytes = tokens * vocabSize * 4
        if (bytes > REFERENCE_MAX_BYTES) {
          const fits = Math.floor(REFERENCE_MAX_BYTES / (vocabSize * 4))
          throw new HarnessError(
            `quality: the reference's distributions would take ${mib(bytes)} MiB (${tokens} tokens × ${vocabSize}-token vocabulary × 4 bytes), more than ${mib(REFERENCE_MAX_BYTES)} MiB: set quality.maxTokens to at most ${fits}`,
          )
        }
        if (bytes > memoryBytes) {
          dir = mkdtempSync(join(tmpdir(), 'bench-quality-'))
          reference.file = join(dir, 'reference.f32')
          fd = openSync(reference.file, 'w+')
        }
      }
      const rows = Math.min(per, spec.maxTokens - scored)
      const logProbs = r.logProbs.subarray(0, rows * r.vocabSize)
      const window: ReferenceWindow = { tokens: r.tokens, firstScored: r.firstScored, rows }
      if (fd === undefined) window.logProbs = logProbs.slice()
      else {
        writeSync(
          fd,
          new Uint8Array(logProbs.buffer, logProbs.byteOffset, logProbs.byteLength),
          0,
          logProbs.byteLength,
          offset,
        )
        window.fileOffset = offset
        offset += logProbs.byteLength
      }
      windows.push(window)
      scored += rows
    }
  } catch (err) {
    reference.dispose()
    throw err
  }
  reference.vocabSize = vocabSize
  reference.scored = scored
  return reference
}

/** A reference window's rows, from memory or read back from the file. */
export function readReferenceRows(reference: ReferenceDistributions, window: ReferenceWindow): Float32Array {
  if (window.logProbs) return window.logProbs
  if (reference.file === undefined || window.fileOffset === undefined)
    throw new HarnessError('quality: the reference window has no rows (its file was removed)')
  const rows = new Float32Array(window.rows * reference.vocabSize)
  const fd = openSync(reference.file, 'r')
  try {
    readSync(fd, new Uint8Array(rows.buffer), 0, rows.byteLength, window.fileOffset)
  } finally {
    closeSync(fd)
  }
  return rows
}

/**
 * Every scored position of `engine` against the reference, window by window.
 * @throws HarnessError when the token ids or the vocabulary differ from the reference's (another tokenizer)
 */
export async function compareWithReference(
  engine: Engine,
  target: string,
  text: string,
  contextTokens: number,
  reference: ReferenceDistributions,
  signal?: AbortSignal,
): Promise<PositionComparison[]> {
  const tokenLogProbs = logProbsOf(engine, target)
  const positions: PositionComparison[] = []
  for (const [w, ref] of reference.windows.entries()) {
    signal?.throwIfAborted()
    const r: TokenLogProbs = await tokenLogProbs(text, { contextTokens, window: w }, signal)
    if (r.vocabSize !== reference.vocabSize)
      throw new HarnessError(
        `quality: target "${target}" has a ${r.vocabSize}-token vocabulary, reference "${reference.target}" ${reference.vocabSize}: KLD compares distributions over the same vocabulary (same tokenizer)`,
      )
    const at = ref.tokens.findIndex((t, i) => r.tokens[i] !== t)
    if (at >= 0 || r.tokens.length !== ref.tokens.length)
      throw new HarnessError(
        `quality: target "${target}" tokenizes the corpus differently from reference "${reference.target}" (window ${w}, position ${at}: token ${r.tokens[at]} vs ${ref.tokens[at]}): KLD needs the same token ids on both sides, i.e. the same tokenizer. A GGUF target through llama.cpp (spaces as "▁") and an ONNX target with the byte tokenizer (spaces as 0x20) are not comparable this way: compare GGUF variants with a GGUF reference and ONNX variants with an ONNX reference`,
      )
    const v = reference.vocabSize
    const refRows = readReferenceRows(reference, ref)
    for (let i = 0; i < ref.rows; i++) {
      const next = ref.tokens[ref.firstScored + i + 1] as number
      positions.push(
        comparePosition(
          refRows.subarray(i * v, (i + 1) * v),
          r.logProbs.subarray(i * v, (i + 1) * v),
          next,
          {},
          positions.length,
        ),
      )
    }
  }
  return positions
}

function mib(bytes: number): string {
  return (bytes / 1024 ** 2).toFixed(bytes < 10 * 1024 ** 2 ? 1 : 0)
}
