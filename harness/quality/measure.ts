/**
 * A quality run's engine side: the reference target's distributions collected window by window
 * (collectReference), then any target's compared with them (compareWithReference) into per-position
 * comparisons for summarizeQuality. Windows are llama-perplexity --kl-divergence's (engine.ts
 * TokenLogProbsOptions); at most `maxTokens` positions are scored, the last window's rows cut to fit.
 *
 * Memory: the variant's distributions are held one window at a time; the reference's are kept whole, in
 * memory, as float32 (scored tokens × vocabulary × 4 bytes: 2048 × 259 ≈ 2 MiB for the fixtures, 2048 ×
 * 152k ≈ 1.2 GiB for a Qwen vocabulary). Above REFERENCE_MAX_BYTES the run is refused with the figure and
 * the largest maxTokens that fits. llama-perplexity's answer for large vocabularies — a temporary file of
 * 16-bit quantized log-probs per token (its --kl-divergence-base) — is not implemented.
 * @module
 */
import type { Engine, TokenLogProbs } from '../engines/engine.ts'
import { HarnessError } from '../errors.ts'
import type { QualitySpec } from '../results.ts'
import { comparePosition, type PositionComparison } from './position.ts'

/** Largest reference kept in memory. bytes */
export const REFERENCE_MAX_BYTES = 512 * 1024 ** 2

export interface ReferenceWindow {
  /** The window's token ids (what the variant must also have). */
  tokens: number[]
  firstScored: number
  /** Rows kept (scored positions of this window that count). */
  rows: number
  /** rows × vocabSize natural-log probabilities. */
  logProbs: Float32Array
}

export interface ReferenceDistributions {
  /** The reference target's name. */
  target: string
  vocabSize: number
  windows: ReferenceWindow[]
  /** Σ rows. */
  scored: number
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
): Promise<ReferenceDistributions> {
  const tokenLogProbs = logProbsOf(engine, target)
  const per = scoredPerWindow(spec.contextTokens)
  const windows: ReferenceWindow[] = []
  let scored = 0
  let vocabSize = 0
  let total = 1
  for (let w = 0; w < total && scored < spec.maxTokens; w++) {
    signal?.throwIfAborted()
    const r = await tokenLogProbs(text, { contextTokens: spec.contextTokens, window: w })
    if (w === 0) {
      vocabSize = r.vocabSize
      total = r.windows
      const tokens = Math.min(spec.maxTokens, total * per)
      const bytes = tokens * vocabSize * 4
      if (bytes > REFERENCE_MAX_BYTES) {
        const fits = Math.floor(REFERENCE_MAX_BYTES / (vocabSize * 4))
        throw new HarnessError(
          `quality: the reference's distributions would take ${mib(bytes)} MiB in memory (${tokens} tokens × ${vocabSize}-token vocabulary × 4 bytes), more than ${mib(REFERENCE_MAX_BYTES)} MiB: set quality.maxTokens to at most ${fits} (a 16-bit reference file as llama-perplexity --kl-divergence-base writes is not implemented)`,
        )
      }
    }
    const rows = Math.min(per, spec.maxTokens - scored)
    windows.push({
      tokens: r.tokens,
      firstScored: r.firstScored,
      rows,
      logProbs: r.logProbs.slice(0, rows * r.vocabSize),
    })
    scored += rows
  }
  return { target, vocabSize, windows, scored }
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
    const r: TokenLogProbs = await tokenLogProbs(text, { contextTokens, window: w })
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
    for (let i = 0; i < ref.rows; i++) {
      const next = ref.tokens[ref.firstScored + i + 1] as number
      positions.push(
        comparePosition(
          ref.logProbs.subarray(i * v, (i + 1) * v),
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
