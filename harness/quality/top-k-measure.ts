/**
 * A quality run's endpoint side: a target that gives only top-k lists (Engine.topKLogProbs, the openai
 * engine) compared with the full distributions of a native reference (collectReference, measure.ts), each
 * position by compareTopK (top-k.ts, `approximate: true`).
 *
 * Both sides are cut to the same shape before comparing, so that a variant identical to the reference
 * reads KLD 0 exactly: the reference's full row becomes its k most likely ids (ties to the lower id, as
 * the endpoint's lists are sorted here) plus the actual next token's ln p; the endpoint's row is its k
 * entries plus the actual next token's ln p that it returns beside them (vLLM's `token_logprobs`).
 *
 * Refused rather than approximated from missing data: token ids that differ from the reference's anywhere
 * in a window (another tokenizer: the endpoint's /tokenize of the corpus must give the reference's ids), an
 * id outside the reference's vocabulary, a row count other than the window's scored positions.
 * @module
 */
import type { Engine, TopKLogProbs } from '../engines/engine.ts'
import { HarnessError } from '../errors.ts'
import { type ReferenceDistributions, readReferenceRows } from './measure.ts'
import type { PositionComparison } from './position.ts'
import { compareTopK, type TokenLogprob } from './top-k.ts'

/**
 * k of an endpoint quality run: vLLM's default cap (`--max-logprobs` 20, vllm/config/model.py), so a stock
 * server answers; the figures stay approximate (k = 20 of a 259-token vocabulary in the tests).
 */
export const QUALITY_TOP_K = 20

/** The k most likely ids of a natural-log row with their ln p, most likely first, ties to the lower id. */
export function topKOfRow(row: ArrayLike<number>, k: number): TokenLogprob[] {
  const out: { token: number; logprob: number }[] = []
  // Insertion into a sorted list of k: O(V·k), no sort of the whole vocabulary per row.
  for (let id = 0; id < row.length; id++) {
    const logprob = row[id]!
    if (out.length === k && !(logprob > out[k - 1]!.logprob)) continue
    let at = out.length
    while (at > 0 && logprob > out[at - 1]!.logprob) at--
    out.splice(at, 0, { token: id, logprob })
    if (out.length > k) out.pop()
  }
  return out
}

/**
 * Every scored position of an endpoint target against the reference, window by window.
 * @throws HarnessError when the engine has no topKLogProbs, the token ids or the vocabulary differ from the
 *   reference's, or a window's rows are not its scored positions; the engine's CapabilityError as thrown
 */
export async function compareTopKWithReference(
  engine: Engine,
  target: string,
  text: string,
  contextTokens: number,
  reference: ReferenceDistributions,
  k: number = QUALITY_TOP_K,
  signal?: AbortSignal,
): Promise<PositionComparison[]> {
  const method = engine.topKLogProbs
  if (!method)
    throw new HarnessError(
      `target "${target}" (${engine.info.kind}) gives neither full next-token distributions (tokenLogProbs) nor top-k lists (topKLogProbs): it cannot be measured for quality`,
    )
  const topKLogProbs = method.bind(engine)
  const v = reference.vocabSize
  const positions: PositionComparison[] = []
  for (const [w, ref] of reference.windows.entries()) {
    signal?.throwIfAborted()
    const r: TopKLogProbs = await topKLogProbs(text, { contextTokens, window: w, k }, signal)
    const at = ref.tokens.findIndex((t, i) => r.tokens[i] !== t)
    if (at >= 0 || r.tokens.length !== ref.tokens.length)
      throw new HarnessError(
        `quality: target "${target}" tokenizes the corpus differently from reference "${reference.target}" (window ${w}, position ${at}: token ${r.tokens[at]} from the endpoint's /tokenize vs ${ref.tokens[at]}): KLD needs the same token ids on both sides, i.e. the endpoint must serve the reference's vocabulary and tokenizer`,
      )
    if (r.firstScored !== ref.firstScored || r.rows.length < ref.rows)
      throw new HarnessError(
        `quality: target "${target}" answered ${r.rows.length} rows from position ${r.firstScored} for window ${w}; the reference scores ${ref.rows} from ${ref.firstScored}`,
      )
    const refRows = readReferenceRows(reference, ref)
    for (let i = 0; i < ref.rows; i++) {
      const next = ref.tokens[ref.firstScored + i + 1] as number
      const row = r.rows[i]!
      for (const e of row.top)
        if (!(Number.isInteger(e.id) && e.id >= 0 && e.id < v))
          throw new HarnessError(
            `quality: target "${target}" lists token ${e.id} at window ${w}, position ${ref.firstScored + i}, outside reference "${reference.target}"'s ${v}-token vocabulary: not the same vocabulary`,
          )
      const refRow = refRows.subarray(i * v, (i + 1) * v)
      positions.push(
        compareTopK(
          topKOfRow(refRow, k),
          row.top.map((e) => ({ token: e.id, logprob: e.logprob })),
          next,
          positions.length,
          { ref: refRow[next]!, variant: row.nextLogprob },
        ),
      )
    }
  }
  return positions
}
