/**
 * A study result as text for the terminal: the setup and the load average, the baselines and c, the logprob
 * α, the per-K table (measured α and τ, tok/s, measured vs predicted speedup with the error, node-llama-cpp's
 * own figures beside), per-position rates, and the α × K table from the formula with the measured points.
 * @module
 */
import { align, formatSpeedupTable } from './model.ts'
import type { SpecStudyResult } from './study.ts'

const f = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '-')
const load = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(', ')

export function formatStudy(r: SpecStudyResult): string {
  const s = r.study
  const lines: string[] = []
  lines.push(
    `study ${s.name}: target ${s.target}, draft ${s.draft}`,
    `  ${s.mode}${s.mode === 'sampled' ? ` (temperature ${s.temperature}, seed ${s.seed})` : ''}, ${s.prompts.length} prompt(s) of ${r.promptTokens.join('/')} tokens, ${s.maxTokens} tokens each, threads ${s.threads}`,
    `  ${r.environment.engineVersion}, ${r.environment.cpus} × ${r.environment.cpuModel}, Node ${r.environment.node}`,
    `  load average (uptime) before ${load(r.environment.loadAverageBefore)}, after ${load(r.environment.loadAverageAfter)}: timings on a loaded machine are not final`,
    '',
    `baseline (K = 0, same calls, all runs pooled): target ${f(r.baseline.target.tokensPerS, 0)} tok/s (${f(r.baseline.target.msPerToken, 3)} ms/token), draft ${f(r.baseline.draft.tokensPerS, 0)} tok/s (${f(r.baseline.draft.msPerToken, 3)} ms/token) → c = ${f(r.costRatio, 3)}`,
  )
  if (r.baseline.nodeLlamaCppTarget)
    lines.push(
      `node-llama-cpp's own loop, target alone: ${f(r.baseline.nodeLlamaCppTarget.tokensPerS, 0)} tok/s`,
    )
  const lp = r.logprob
  lines.push(
    `logprob α over the target's greedy continuation (${lp.n} positions): Σ min(p, q) = ${f(lp.alpha, 3)}, top-1 agreement = ${f(lp.top1, 3)}; prediction uses ${f(r.alphaForPrediction, 3)} (${s.mode === 'greedy' ? 'top-1' : 'Σ min'}) → best K = ${r.optimal.k} (S = ${f(r.optimal.speedup)}${r.optimal.worthwhile ? '' : ', not worth it'})`,
    '',
  )
  const head = [
    'K',
    'drafted',
    'accepted',
    'steps',
    'accept rate',
    'τ',
    'α̂',
    'tok/s',
    'base tok/s',
    'c',
    'speedup',
    'predicted',
    'error',
    'pred(τ)',
    'verify/tok',
    'pred(costs)',
  ]
  if (s.mode === 'greedy') head.push('= target')
  const hasNlc = r.perK.some((row) => row.nodeLlamaCpp)
  if (hasNlc) head.push('nlc valid/refuted', 'nlc speedup')
  const rows = r.perK.map((row) => {
    const cells = [
      String(row.k),
      String(row.counts.drafted),
      String(row.counts.accepted),
      String(row.counts.verifySteps),
      f(row.metrics.draftAcceptanceRate, 3),
      f(row.metrics.meanAcceptanceLength),
      f(row.metrics.alphaHat, 3),
      f(row.tokensPerS, 0),
      f(row.baselineTokensPerS, 0),
      f(row.costRatio, 3),
      f(row.measuredSpeedup),
      f(row.predictedSpeedup),
      f(row.error),
      f(row.predictedFromTau),
      f(row.verifyCostRatio),
      f(row.predictedFromMeasuredCosts),
    ]
    if (s.mode === 'greedy') cells.push(row.matchesTarget ? 'yes' : 'NO')
    if (hasNlc) {
      const n = row.nodeLlamaCpp
      cells.push(n ? `${n.predictions.validated}/${n.predictions.refuted}` : '-', n ? f(n.speedup) : '-')
    }
    return cells
  })
  lines.push('native draft/verify loop (exact counts)', ...align([head, ...rows]))
  lines.push(
    '  accept rate = accepted / drafted; τ = 1 + accepted / steps; α̂ solves E(α, K) = τ; base and c measured',
    '  beside each K (target and draft alone, same calls, alternating prompt by prompt); speedup = tok/s ÷ base;',
    '  predicted = E(α logprob, K) / (K·c + 1) with the pooled c above; error = measured − predicted; pred(τ) = τ / (K·c + 1);',
    '  verify/tok = one verify step (K + 1 positions) ÷ one target token alone (the model assumes 1);',
    "  pred(costs) = τ·t_target / (K·t_draft + t_verify) with the loop's measured times.",
  )
  if (hasNlc)
    lines.push(
      "  nlc = node-llama-cpp's DraftSequenceTokenPredictor, its own counters: refuted also counts stale drafts.",
    )
  lines.push('', 'per-position acceptance rate_k = accepted at k / steps')
  const maxK = Math.max(...r.perK.map((row) => row.k))
  lines.push(
    ...align([
      ['K', ...Array.from({ length: maxK }, (_, i) => `k=${i + 1}`)],
      ...r.perK.map((row) => [
        String(row.k),
        ...Array.from({ length: maxK }, (_, i) => {
          const rate = row.metrics.perPositionRate[i]
          return rate === undefined ? '' : f(rate, 3)
        }),
      ]),
    ]),
  )
  lines.push('', formatSpeedupTable(r.table))
  // The two tables print a "predicted" and an "error" per K that differ: say why, under the second one.
  if (r.table.measured.length > 0)
    lines.push(
      "  measured points sit at each K's α̂ (from τ), so their predicted S is pred(τ) = τ / (K·c + 1); the per-K table's predicted and error use the logprob α (known before decoding)",
    )
  return lines.join('\n')
}

/**
 * A set of studies (one target, several drafts) side by side, one row per study: the draft, its logprob α
 * (top-1 and Σ min), α̂ and τ at the largest K, c, the best measured speedup with its K, and the predicted
 * best K with its S.
 */
export function formatStudySet(results: readonly SpecStudyResult[]): string {
  const rows: string[][] = [
    ['study', 'draft', 'top-1 α', 'Σ min α', 'α̂ @K', 'τ @K', 'c', 'best measured (K)', 'predicted best (K)'],
  ]
  for (const r of results) {
    const last = r.perK.at(-1)
    const best = r.perK.reduce<(typeof r.perK)[number] | undefined>(
      (b, row) => (b === undefined || row.measuredSpeedup > b.measuredSpeedup ? row : b),
      undefined,
    )
    rows.push([
      r.study.name,
      r.study.draft,
      f(r.logprob.top1, 3),
      f(r.logprob.alpha, 3),
      last ? `${f(last.metrics.alphaHat, 3)} @${last.k}` : '-',
      last ? `${f(last.metrics.meanAcceptanceLength)} @${last.k}` : '-',
      f(r.costRatio, 3),
      best ? `${f(best.measuredSpeedup)}× (${best.k})` : '-',
      `${f(r.optimal.speedup)}× (${r.optimal.k})`,
    ])
  }
  return ['one target, several drafts:', ...align(rows)].join('\n')
}
