/**
 * What the mock reports about speculative decoding when its `speculative` option is set, as llama-server
 * does (tools/server/server-common.cpp server_slot_stats::to_json: `timings.draft_n`, `draft_n_accepted`):
 * after the first token (from the prompt's logits), each verification step drafts min(K, tokens left − 1)
 * tokens, keeps each with probability `acceptance` until the first rejection, and emits the kept ones
 * plus one token of the target's. Seeded per response, so the same request gives the same counts; the
 * mock's delays do not change with it (a report, not a speed model).
 * @module
 */
import { createRandom } from '../random.ts'

export interface SpeculationCounts {
  draftTokens: number
  acceptedTokens: number
  /** Verification steps. */
  drafts: number
  /** acceptedAtPosition[i]: steps whose (i+1)-th drafted token was kept; length K. */
  acceptedAtPosition: number[]
}

/** The counts of one response of `outputTokens` tokens with draft length `draftMax` (K ≥ 1). */
export function simulateSpeculation(
  outputTokens: number,
  draftMax: number,
  acceptance: number,
  seed: number,
): SpeculationCounts {
  const random = createRandom(seed)
  const out: SpeculationCounts = {
    draftTokens: 0,
    acceptedTokens: 0,
    drafts: 0,
    acceptedAtPosition: new Array<number>(draftMax).fill(0),
  }
  // The first token comes from the prompt's logits; every step then emits its kept drafts + 1.
  let left = outputTokens - 1
  while (left > 0) {
    const k = Math.min(draftMax, left - 1)
    if (k <= 0) {
      left -= 1 // the last token: nothing left to draft for
      continue
    }
    let kept = 0
    while (kept < k && random.next() < acceptance) kept++
    out.drafts++
    out.draftTokens += k
    out.acceptedTokens += kept
    for (let i = 0; i < kept; i++) out.acceptedAtPosition[i] = (out.acceptedAtPosition[i] ?? 0) + 1
    left -= kept + 1
  }
  return out
}
