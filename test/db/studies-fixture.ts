/**
 * A study record of known figures, built with the speculative-decoding code's own pure parts (recordStep,
 * acceptanceMetrics, predictedSpeedup, optimalK, speedupTable, summarizeAlphas) from hand-chosen verify
 * steps and decode rates, for the storage and page tests (the queue test runs a real study instead).
 *
 * Per K (1..maxK), two prompts; prompt p at K keeps `kept(k, p, step)` drafted tokens at each of 4 steps.
 * Decode rates: the target alone 100 tokens/s, with speculation 100 × (1 + 0.1·K) tokens/s, the draft
 * alone 200 tokens/s (c = 0.5). The logprob α: top-1 agreement 0.75 (3 of 4 positions), β 0.6 … 0.9.
 * @module
 */
import {
  acceptanceMetrics,
  emptyCounts,
  mergeCounts,
  recordStep,
  type SpecCounts,
} from '../../harness/speculative/counts.ts'
import { summarizeAlphas } from '../../harness/speculative/logprob.ts'
import {
  DEFAULT_TABLE_ALPHAS,
  optimalK,
  predictedSpeedup,
  speedupTable,
} from '../../harness/speculative/model.ts'
import type { SpecKRow, SpecPromptRow, SpecStudyResult } from '../../harness/speculative/study.ts'
import { parseStudy } from '../../harness/speculative/study-file.ts'

/** Drafted tokens kept at one verify step: all of them at even steps of prompt 0, fewer elsewhere. */
export function kept(k: number, prompt: number, step: number): number {
  return prompt === 0 && step % 2 === 0 ? k : Math.max(0, k - 1 - ((step + prompt) % 2))
}

export const C = 0.5
export const ALPHA = 0.75

export function knownStudy(maxK = 4, name = 'known-study'): SpecStudyResult {
  const ks = Array.from({ length: maxK }, (_, i) => i + 1)
  const study = parseStudy({
    name,
    target: '.bench/models/teacher-f32.gguf',
    draft: '.bench/models/teacher-q4_0.gguf',
    prompts: ['The capital of', '<b>Q</b>: & "what"'],
    ks,
    maxTokens: 16,
    predictor: false,
  })
  const perK: SpecKRow[] = []
  const perPrompt: SpecPromptRow[] = []
  for (const k of ks) {
    const byPrompt: SpecCounts[] = [0, 1].map((p) => {
      const c = emptyCounts(k)
      for (let step = 0; step < 4; step++) recordStep(c, kept(k, p, step))
      return c
    })
    const speculative = 100 * (1 + 0.1 * k)
    for (const [p, counts] of byPrompt.entries())
      perPrompt.push({
        prompt: p,
        k,
        counts,
        metrics: acceptanceMetrics(counts)!,
        tokensPerS: speculative,
        baselineTokensPerS: 100,
        matchesTarget: true,
      })
    const counts = mergeCounts(byPrompt)
    const metrics = acceptanceMetrics(counts)!
    const measuredSpeedup = speculative / 100
    const predicted = predictedSpeedup(ALPHA, k, C)
    perK.push({
      k,
      counts,
      metrics,
      tokensPerS: speculative,
      baselineTokensPerS: 100,
      costRatio: C,
      measuredSpeedup,
      predictedSpeedup: predicted,
      error: measuredSpeedup - predicted,
      predictedFromTau: metrics.meanAcceptanceLength / (k * C + 1),
      draftMsPerToken: 5,
      verifyMsPerStep: 12,
      verifyCostRatio: 1.2,
      predictedFromMeasuredCosts: (metrics.meanAcceptanceLength * 10) / (k * 5 + 12),
      matchesTarget: true,
    })
  }
  const logprob = summarizeAlphas(
    [0, 1, 2, 3].map((position) => ({
      prompt: 0,
      position,
      alpha: 0.6 + 0.1 * position,
      top1Agrees: position > 0,
    })),
  )!
  const base = { tokens: 64, decodeMs: 640, tokensPerS: 100, msPerToken: 10 }
  return {
    study,
    startedAt: '2026-12-07T20:00:00.000Z',
    durationMs: 1234,
    environment: {
      engineVersion: 'test',
      cpus: 2,
      cpuModel: 'test cpu',
      node: process.version,
      loadAverageBefore: [1, 1, 1],
      loadAverageAfter: [1, 1, 1],
    },
    promptTokens: [15, 20],
    baseline: { target: base, draft: { ...base, decodeMs: 320, tokensPerS: 200, msPerToken: 5 } },
    costRatio: C,
    logprob,
    alphaForPrediction: logprob.top1,
    optimal: optimalK(logprob.top1, C, Math.max(16, maxK)),
    perK,
    perPrompt,
    table: speedupTable(
      DEFAULT_TABLE_ALPHAS,
      ks,
      C,
      perK.map((r) => ({ k: r.k, alpha: r.metrics.alphaHat, speedup: r.measuredSpeedup, label: 'native' })),
    ),
  }
}
