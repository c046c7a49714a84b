/**
 * What the mock reports about speculative decoding when its `speculative` option is set, as llama-server
 * does (tools/server/server-common.cpp server_slot_stats::to_json: `timings.draft_n`, `draft_n_accepted`):
 * after the first token (from the prompt's logits), each verification step drafts min(K, tokens left − 1)
 * tokens, keeps each with probability `acceptance` until the first rejection, and emits the kept ones
 * plus one token of the target's. Seeded per response like its delays (the server's seed and the request's
 * arrival index), so a server's n-th request drafts the same whatever else runs; the mock's delays do not
 * change with it (a report, not a speed model). The llama-server and vllm personalities report the same
 * draws, each in its server's terms (llama-server-metrics.ts, vllm-metrics.ts).
 * @module
 */
import { createRandom } from '../random.ts'
import type { SpeculativeOptions } from './options.ts'

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

/**
 * One response's counts under the speculative option: `delaySeed` is the request's (mix32(server seed,
 * arrival index), app.ts), salted so the draws do not repeat its delays'.
 */
export function responseSpeculation(
  outputTokens: number,
  spec: SpeculativeOptions,
  delaySeed: number,
): SpeculationCounts {
  return simulateSpeculation(outputTokens, spec.draftMax, spec.acceptance, delaySeed ^ 0x5bec)
}

/** Counts summed over responses, as a server's counters hold them since start. */
export class SpeculationTotals implements SpeculationCounts {
  draftTokens = 0
  acceptedTokens = 0
  drafts = 0
  /** Starts with `positions` zeros (vLLM registers every position at start), grows to the longest draft. */
  readonly acceptedAtPosition: number[]

  constructor(positions = 0) {
    this.acceptedAtPosition = new Array<number>(positions).fill(0)
  }

  add(c: SpeculationCounts): void {
    this.draftTokens += c.draftTokens
    this.acceptedTokens += c.acceptedTokens
    this.drafts += c.drafts
    c.acceptedAtPosition.forEach((n, i) => {
      this.acceptedAtPosition[i] = (this.acceptedAtPosition[i] ?? 0) + n
    })
  }
}
