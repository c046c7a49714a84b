/**
 * α from the two models' distributions (Leviathan et al. 2023, §3.1): at one position, with p the target's
 * and q the draft's next-token distribution, the probability that speculative sampling keeps the drafted
 * token is β = Σ_x min(p(x), q(x)) (1 − total variation distance). Over positions its mean is α. Pure: the
 * distributions come from native engines (full vectors, native.ts) or from top-k logprobs (endpoints),
 * where only a bound is known and the truncated mass is reported with it.
 *
 * Greedy decoding's α is the same quantity for one-hot distributions: 1 when argmax p = argmax q, else 0.
 * @module
 */
import { argmax } from './sampling.ts'

/** β = Σ_x min(p(x), q(x)) over two full distributions (same vocabulary, index = token id). */
export function overlapAlpha(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length)
    throw new RangeError(`overlapAlpha: the distributions differ in size (${p.length} vs ${q.length})`)
  let sum = 0
  for (let i = 0; i < p.length; i++) sum += Math.min(p[i]!, q[i]!)
  return sum
}

/** Greedy acceptance at one position: do both distributions put their top token on the same id? */
export function top1Agrees(p: ArrayLike<number>, q: ArrayLike<number>): boolean {
  return argmax(p) === argmax(q)
}

/** One entry of a top-k logprob list (an endpoint's `top_logprobs`, the engine's TokenLogprob.top). */
export interface TopLogprob {
  /** Token text or id: entries of the two lists are matched by equality. */
  token: string | number
  /** Natural log of the probability. */
  logprob: number
}

export interface TopKOverlap {
  /** Σ over tokens listed by both of min(p, q): a lower bound of β. */
  alpha: number
  /**
   * An upper bound of β: a token missing from one list has at most that list's smallest listed probability
   * and at most its unlisted mass; tokens in neither list add at most min(unlisted target, unlisted draft).
   */
  alphaUpper: number
  /** 1 − Σ listed p (target): the mass the list leaves out. */
  truncatedMassTarget: number
  /** 1 − Σ listed q (draft). */
  truncatedMassDraft: number
  /** Both lists' first entry is the same token (greedy acceptance, when the lists are sorted). */
  top1Agrees: boolean
}

/** β bounded from two top-k lists (sorted by probability, highest first, as every API returns them). */
export function topKOverlap(target: readonly TopLogprob[], draft: readonly TopLogprob[]): TopKOverlap {
  if (target.length === 0 || draft.length === 0)
    throw new RangeError('topKOverlap needs at least one entry in each top-k list')
  const toMap = (list: readonly TopLogprob[]) => {
    const m = new Map<string | number, number>()
    for (const e of list) m.set(e.token, (m.get(e.token) ?? 0) + Math.exp(e.logprob))
    return m
  }
  const p = toMap(target)
  const q = toMap(draft)
  const listed = (m: Map<string | number, number>) => [...m.values()].reduce((a, b) => a + b, 0)
  const restP = Math.max(0, 1 - listed(p))
  const restQ = Math.max(0, 1 - listed(q))
  const boundP = Math.min(restP, Math.min(...p.values()))
  const boundQ = Math.min(restQ, Math.min(...q.values()))
  let alpha = 0
  let upper = 0
  for (const token of new Set([...p.keys(), ...q.keys()])) {
    const pt = p.get(token)
    const qt = q.get(token)
    if (pt !== undefined && qt !== undefined) {
      alpha += Math.min(pt, qt)
      upper += Math.min(pt, qt)
    } else upper += Math.min(pt ?? boundP, qt ?? boundQ)
  }
  upper += Math.min(restP, restQ)
  return {
    alpha,
    alphaUpper: Math.min(1, upper),
    truncatedMassTarget: restP,
    truncatedMassDraft: restQ,
    top1Agrees: target[0]!.token === draft[0]!.token,
  }
}

/** β at one position of one prompt's continuation. */
export interface PositionAlpha {
  /** Index of the prompt in the study. */
  prompt: number
  /** 0-based position in the target's continuation (0 = the first generated token). */
  position: number
  /** β = Σ min(p, q) (a lower bound when from top-k lists). */
  alpha: number
  /** argmax p = argmax q: greedy decoding's acceptance at this position. */
  top1Agrees: boolean
  /** From top-k lists only: the upper bound and the target's unlisted mass. */
  alphaUpper?: number
  truncatedMass?: number
}

export interface AlphaGroup {
  /** The position (byPosition) or prompt index (byPrompt). */
  key: number
  n: number
  /** Mean β. */
  alpha: number
  /** Fraction of positions whose top tokens agree. */
  top1: number
}

export interface AlphaSummary {
  n: number
  /** Mean β over every position of every prompt: α for sampled speculative decoding. */
  alpha: number
  /** Mean top-1 agreement: α for greedy speculative decoding. */
  top1: number
  /** Present when any row came from top-k lists: mean upper bound and mean truncated target mass. */
  alphaUpper?: number
  truncatedMass?: number
  byPosition: AlphaGroup[]
  byPrompt: AlphaGroup[]
  /** Counts of β in ten bins [0, 0.1), [0.1, 0.2) … [0.9, 1]. */
  histogram: number[]
}

function groupBy(rows: readonly PositionAlpha[], key: (r: PositionAlpha) => number): AlphaGroup[] {
  const groups = new Map<number, { n: number; alpha: number; top1: number }>()
  for (const r of rows) {
    const g = groups.get(key(r)) ?? { n: 0, alpha: 0, top1: 0 }
    g.n++
    g.alpha += r.alpha
    g.top1 += r.top1Agrees ? 1 : 0
    groups.set(key(r), g)
  }
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, g]) => ({ key: k, n: g.n, alpha: g.alpha / g.n, top1: g.top1 / g.n }))
}

/** Mean α, by position and by prompt, and the histogram of per-position β. undefined for no rows. */
export function summarizeAlphas(rows: readonly PositionAlpha[]): AlphaSummary | undefined {
  if (rows.length === 0) return undefined
  const n = rows.length
  const histogram = new Array<number>(10).fill(0)
  for (const r of rows) histogram[Math.min(9, Math.max(0, Math.floor(r.alpha * 10)))]!++
  const summary: AlphaSummary = {
    n,
    alpha: rows.reduce((a, r) => a + r.alpha, 0) / n,
    top1: rows.filter((r) => r.top1Agrees).length / n,
    byPosition: groupBy(rows, (r) => r.position),
    byPrompt: groupBy(rows, (r) => r.prompt),
    histogram,
  }
  const bounded = rows.filter((r) => r.alphaUpper !== undefined)
  if (bounded.length > 0) {
    summary.alphaUpper = rows.reduce((a, r) => a + (r.alphaUpper ?? r.alpha), 0) / n
    summary.truncatedMass = bounded.reduce((a, r) => a + (r.truncatedMass ?? 0), 0) / bounded.length
  }
  return summary
}
