/**
 * Scoring from the top-k log-probabilities of the ONE next token (what llama-server offers: it returns no
 * prompt logprobs, llama.cpp #27174, but `/v1/completions` with `logprobs: k, max_tokens: 1` lists the
 * k most likely next tokens with their ids, from the softmax of the raw logits over the whole vocabulary —
 * measured: the same figures at temperature 0 and 1, summing to 1 when k ≥ n_vocab; it caps k at n_vocab).
 *
 * Exact only where each choice is one token after the prompt (the caller checks with the server's
 * tokenizer). A choice among the top k gets its log-probability as returned. A choice absent from the top
 * k gets **-Infinity**: not a figure but a marker, "below the k-th entry", because its true value is only
 * known to be ≤ the k-th logprob. The argmax is still exact when at least one choice is present: every
 * absent choice is below every present one — unless the best present choice sits exactly at the cut-off
 * and an absent choice with a lower index could tie it (ties go to the lowest index). When no choice is
 * present, or in that tie, the argmax is unknown and the caller asks for more (or fails the item).
 * @module
 */

export interface TopEntry {
  id: number
  logprob: number
}

export type NextTokenScore =
  | { state: 'ok'; logprobs: number[]; present: number }
  /** The argmax cannot be told from these k entries. */
  | { state: 'uncertain'; reason: string }

/** `choiceIds[i]`: the single token of choice i. `top`: the returned entries, most likely first. */
export function nextTokenScore(choiceIds: readonly number[], top: readonly TopEntry[]): NextTokenScore {
  const byId = new Map<number, number>()
  let cutoff = Number.POSITIVE_INFINITY
  for (const entry of top) {
    if (!byId.has(entry.id)) byId.set(entry.id, entry.logprob)
    cutoff = Math.min(cutoff, entry.logprob)
  }
  const logprobs = choiceIds.map((id) => byId.get(id) ?? Number.NEGATIVE_INFINITY)
  let present = 0
  let best = -1
  for (let i = 0; i < logprobs.length; i++) {
    if (logprobs[i] === Number.NEGATIVE_INFINITY) continue
    present++
    if (best < 0 || logprobs[i]! > logprobs[best]!) best = i
  }
  if (present === 0)
    return {
      state: 'uncertain',
      reason: `none of the ${choiceIds.length} choices is among the top ${top.length} next tokens`,
    }
  if (present < choiceIds.length && logprobs[best] === cutoff) {
    for (let i = 0; i < best; i++)
      if (logprobs[i] === Number.NEGATIVE_INFINITY)
        return {
          state: 'uncertain',
          reason: `the best choice's logprob equals the top-${top.length} cut-off, and absent choice ${i} could tie it`,
        }
  }
  return { state: 'ok', logprobs, present }
}
