/**
 * A speculative-decoding acceptance study: one target GGUF, one draft GGUF, prompts, the K list, greedy or
 * sampled. `runStudy` measures, for the native loop (native.ts), per K and prompt the exact counts and tok/s
 * with and without speculation; the logprob α from both models' full distributions over the target's own
 * greedy continuation (logprob.ts); c, the draft/target per-token cost on this machine; and predicts the
 * speedup from α and c (model.ts). The result is one JSON record (study, per-K rows, per-prompt rows) that
 * the CLI prints and a later queue job can persist as it is.
 * @module
 */
import os from 'node:os'
import path from 'node:path'
import type { LlamaContextSequence, Token } from 'node-llama-cpp'
import { type AcceptanceMetrics, acceptanceMetrics, mergeCounts, type SpecCounts } from './counts.ts'
import { type AlphaSummary, type PositionAlpha, summarizeAlphas } from './logprob.ts'
import {
  DEFAULT_TABLE_ALPHAS,
  type MeasuredPoint,
  optimalK,
  predictedSpeedup,
  type SpeedupTable,
  speedupTable,
} from './model.ts'
import {
  createPredictorSequence,
  createSequence,
  distributionAlphas,
  loadSpecModels,
  type NodeLlamaCppPredictions,
  type PredictorRunResult,
  runEvaluate,
  runSpeculative,
  type SpecModels,
  type SpecRunResult,
  tokenizePrompt,
} from './native.ts'
import type { Study } from './study-file.ts'

export { defineStudy, loadStudy, parseStudy, type Study, StudyError, type StudyInput } from './study-file.ts'

/** Decode throughput of one model alone through the native loop's calls (K = 0). */
export interface BaselineFigures {
  tokens: number
  decodeMs: number
  tokensPerS: number
  /** decodeMs / tokens. */
  msPerToken: number
}

export interface SpecPromptRow {
  prompt: number
  k: number
  counts: SpecCounts
  metrics: AcceptanceMetrics
  tokensPerS: number
  baselineTokensPerS: number
  /** Greedy mode: the output equals the target's plain greedy output token for token. */
  matchesTarget?: boolean
}

export interface NodeLlamaCppFigures {
  /** node-llama-cpp's counters summed over prompts, as it reports them. */
  predictions: NodeLlamaCppPredictions
  /** validated / (validated + refuted): node-llama-cpp's own figure; refuted includes stale drafts. */
  acceptanceRate: number
  tokensPerS: number
  /** Its plain sequence.evaluate() without a predictor, same prompts, alternating with the predicted runs. */
  baselineTokensPerS: number
  speedup: number
  matchesTarget?: boolean
}

export interface SpecKRow {
  k: number
  counts: SpecCounts
  metrics: AcceptanceMetrics
  /** Σ emitted / Σ decode s over prompts, with speculation. */
  tokensPerS: number
  /** The target alone through the same calls (K = 0), same prompts, measured beside this K's runs. */
  baselineTokensPerS: number
  /** c measured beside this K's runs (draft alone ÷ target alone, ms per token); predictions use the pooled c. */
  costRatio: number
  measuredSpeedup: number
  /** S from the logprob α of the study's mode and the study's pooled c (costRatio). */
  predictedSpeedup: number
  /** measured − predicted. */
  error: number
  /** S = τ / (K·c + 1), pooled c: the cost model alone, with the measured τ in place of E. */
  predictedFromTau: number
  /** Draft time in the loop per drafted token, ms. */
  draftMsPerToken: number
  /** Target time per verify step (K + 1 positions in one batch), ms. */
  verifyMsPerStep: number
  /**
   * verifyMsPerStep / the target's ms per token alone: the Leviathan model takes it as 1; on a CPU a batch
   * of K + 1 positions costs more than one, which is most of the gap between predicted and measured.
   */
  verifyCostRatio: number
  /** S = τ·t_target / (K·t_draft + t_verify) from the loop's own measured times: what the formula gives with the verify cost measured instead of assumed. */
  predictedFromMeasuredCosts: number
  /** Greedy mode: every prompt's output equals the target's plain greedy output. */
  matchesTarget?: boolean
  nodeLlamaCpp?: NodeLlamaCppFigures
}

export interface SpecStudyResult {
  study: Study
  startedAt: string
  durationMs: number
  environment: {
    engineVersion: string
    cpus: number
    cpuModel: string
    node: string
    /** os.loadavg() (what `uptime` prints) before and after the measurements: 1, 5, 15 min. */
    loadAverageBefore: number[]
    loadAverageAfter: number[]
  }
  promptTokens: number[]
  baseline: { target: BaselineFigures; draft: BaselineFigures; nodeLlamaCppTarget?: BaselineFigures }
  /**
   * c = draft ms per token / target ms per token, both through the K = 0 loop on this machine, pooled over
   * every baseline run of the study (each K row also has the c measured beside it).
   */
  costRatio: number
  /** β over the target's greedy continuation, at the study's temperature (sampled) or 1 (greedy). */
  logprob: AlphaSummary
  /** The α the prediction uses: logprob top-1 agreement (greedy) or mean β (sampled). */
  alphaForPrediction: number
  optimal: { k: number; speedup: number; worthwhile: boolean }
  perK: SpecKRow[]
  perPrompt: SpecPromptRow[]
  /** The α × K table from the formula, with each K's (α̂, measured speedup) as a point. */
  table: SpeedupTable
}

export interface RunStudyOptions {
  /** One line per phase, for stderr. */
  onProgress?: (message: string) => void
}

function baselineOf(runs: readonly { emitted: number; decodeMs: number }[]): BaselineFigures {
  const tokens = runs.reduce((a, r) => a + r.emitted, 0)
  const decodeMs = runs.reduce((a, r) => a + r.decodeMs, 0)
  return { tokens, decodeMs, tokensPerS: tokens / (decodeMs / 1000), msPerToken: decodeMs / tokens }
}

/** Seed of one (prompt, K) run: distinct per run, reproducible from the study's seed. */
function runSeed(seed: number, prompt: number, k: number): number {
  return (seed ^ Math.imul(prompt + 1, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0
}

export async function runStudy(study: Study, o: RunStudyOptions = {}): Promise<SpecStudyResult> {
  const progress = o.onProgress ?? (() => {})
  const started = Date.now()
  const loadAverageBefore = os.loadavg()
  await using models = await loadSpecModels({
    targetPath: path.resolve(study.target),
    draftPath: path.resolve(study.draft),
  })
  const prompts = study.prompts.map((p) => tokenizePrompt(models.target, p))
  const maxK = Math.max(...study.ks)
  const contextSize = Math.max(...prompts.map((p) => p.length)) + study.maxTokens + maxK + 2
  const target = await createSequence(models.target, { contextSize, threads: study.threads })
  const draft = await createSequence(models.draft, { contextSize, threads: study.threads })
  try {
    return await measure(study, models, prompts, target.sequence, draft.sequence, contextSize, progress, {
      started,
      loadAverageBefore,
    })
  } finally {
    await target.context.dispose()
    await draft.context.dispose()
  }
}

async function measure(
  study: Study,
  models: SpecModels,
  prompts: Token[][],
  targetSequence: LlamaContextSequence,
  draftSequence: LlamaContextSequence,
  contextSize: number,
  progress: (message: string) => void,
  start: { started: number; loadAverageBefore: number[] },
): Promise<SpecStudyResult> {
  const { started, loadAverageBefore } = start
  const maxK = Math.max(...study.ks)
  const target = { sequence: targetSequence }
  const draft = { sequence: draftSequence }
  const common = {
    mode: study.mode,
    temperature: study.temperature,
    maxTokens: study.maxTokens,
    vocabSize: models.vocabSize,
  }
  const warm = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < study.warmup; i++) await fn()
  }

  progress('baseline: target and draft alone (K = 0)')
  const first = prompts[0]!
  await warm(() => runSpeculative(target.sequence, undefined, first, { ...common, k: 0 }))
  await warm(() => runSpeculative(draft.sequence, undefined, first, { ...common, k: 0 }))
  const targetRuns: SpecRunResult[] = []
  const draftRuns: SpecRunResult[] = []
  for (const [i, p] of prompts.entries()) {
    targetRuns.push(
      await runSpeculative(target.sequence, undefined, p, {
        ...common,
        k: 0,
        seed: runSeed(study.seed, i, 0),
      }),
    )
    draftRuns.push(
      await runSpeculative(draft.sequence, undefined, p, {
        ...common,
        k: 0,
        seed: runSeed(study.seed, i, 0),
      }),
    )
  }
  const allTargetRuns: SpecRunResult[] = [...targetRuns]
  const allDraftRuns: SpecRunResult[] = [...draftRuns]

  progress('logprob α over the target greedy continuation')
  const greedyOutputs =
    study.mode === 'greedy'
      ? targetRuns.map((r) => r.tokens)
      : await (async () => {
          const outs: number[][] = []
          for (const p of prompts)
            outs.push(
              (await runSpeculative(target.sequence, undefined, p, { ...common, mode: 'greedy', k: 0 }))
                .tokens,
            )
          return outs
        })()
  const alphaRows: PositionAlpha[] = []
  for (const [i, p] of prompts.entries())
    alphaRows.push(
      ...(await distributionAlphas(target.sequence, draft.sequence, p, greedyOutputs[i] as Token[], {
        prompt: i,
        temperature: study.mode === 'sampled' ? study.temperature : 1,
        vocabSize: models.vocabSize,
      })),
    )
  const logprob = summarizeAlphas(alphaRows)!
  const alphaForPrediction = study.mode === 'greedy' ? logprob.top1 : logprob.alpha

  const perK: SpecKRow[] = []
  const perPrompt: SpecPromptRow[] = []
  for (const k of study.ks) {
    progress(`native loop, K = ${k}`)
    await warm(() => runSpeculative(target.sequence, draft.sequence, first, { ...common, k }))
    const runs: SpecRunResult[] = []
    // The baselines are measured again next to each K's runs, prompt by prompt: on a shared machine the
    // load drifts within minutes, and a speedup is only as good as the two rates it divides.
    const bases: SpecRunResult[] = []
    const draftBases: SpecRunResult[] = []
    for (const [i, p] of prompts.entries()) {
      const seed = runSeed(study.seed, i, k)
      bases.push(await runSpeculative(target.sequence, undefined, p, { ...common, k: 0, seed }))
      draftBases.push(await runSpeculative(draft.sequence, undefined, p, { ...common, k: 0, seed }))
      const r = await runSpeculative(target.sequence, draft.sequence, p, { ...common, k, seed })
      runs.push(r)
      const row: SpecPromptRow = {
        prompt: i,
        k,
        counts: r.counts!,
        metrics: acceptanceMetrics(r.counts!)!,
        tokensPerS: r.tokensPerS,
        baselineTokensPerS: bases[i]!.tokensPerS,
      }
      if (study.mode === 'greedy') row.matchesTarget = sameTokens(r.tokens, targetRuns[i]!.tokens)
      perPrompt.push(row)
    }
    allTargetRuns.push(...bases)
    allDraftRuns.push(...draftBases)
    const counts = mergeCounts(runs.map((r) => r.counts!))
    const metrics = acceptanceMetrics(counts)!
    const tokensPerS = baselineOf(runs).tokensPerS
    const base = baselineOf(bases)
    const c = baselineOf(draftBases).msPerToken / base.msPerToken
    const measuredSpeedup = tokensPerS / base.tokensPerS
    const draftMsPerToken = runs.reduce((a, r) => a + r.draftMs, 0) / counts.drafted
    const verifyMsPerStep = runs.reduce((a, r) => a + r.verifyMs, 0) / counts.verifySteps
    const row: SpecKRow = {
      k,
      counts,
      metrics,
      tokensPerS,
      baselineTokensPerS: base.tokensPerS,
      costRatio: c,
      measuredSpeedup,
      // Filled in below with the pooled c, once every K's baselines are in.
      predictedSpeedup: Number.NaN,
      error: Number.NaN,
      predictedFromTau: Number.NaN,
      draftMsPerToken,
      verifyMsPerStep,
      verifyCostRatio: verifyMsPerStep / base.msPerToken,
      predictedFromMeasuredCosts:
        (metrics.meanAcceptanceLength * base.msPerToken) / (k * draftMsPerToken + verifyMsPerStep),
    }
    if (study.mode === 'greedy')
      row.matchesTarget = perPrompt.filter((p) => p.k === k).every((p) => p.matchesTarget)
    perK.push(row)
  }

  const baseline = { target: baselineOf(allTargetRuns), draft: baselineOf(allDraftRuns) }
  const costRatio = baseline.draft.msPerToken / baseline.target.msPerToken
  // The pooled c, not each K's own: one K's c rests on a few sub-second runs, and on the shared box it
  // ranged 0.1–2.6 for the same pair (load 13–15); the pooled one averages the drift out.
  for (const row of perK) {
    row.predictedSpeedup = predictedSpeedup(alphaForPrediction, row.k, costRatio)
    row.error = row.measuredSpeedup - row.predictedSpeedup
    row.predictedFromTau = row.metrics.meanAcceptanceLength / (row.k * costRatio + 1)
  }

  let nodeLlamaCppTarget: BaselineFigures | undefined
  if (study.predictor) {
    progress("node-llama-cpp's own loop, without and with DraftSequenceTokenPredictor")
    const plain = await createSequence(models.target, { contextSize, threads: study.threads })
    const evalOptions = { mode: study.mode, temperature: study.temperature, maxTokens: study.maxTokens }
    const decodeOf = (runs: readonly PredictorRunResult[]) =>
      baselineOf(runs.map((r) => ({ emitted: r.tokens.length - 1, decodeMs: r.decodeMs })))
    const allPlainRuns: PredictorRunResult[] = []
    try {
      await warm(() => runEvaluate(plain.sequence, first, evalOptions))
      for (const row of perK) {
        progress(`node-llama-cpp DraftSequenceTokenPredictor, K = ${row.k}`)
        const predictor = await createPredictorSequence(models, {
          k: row.k,
          contextSize: contextSize + maxK,
          threads: study.threads,
        })
        try {
          await warm(() => runEvaluate(predictor.sequence, first, evalOptions))
          const runs: PredictorRunResult[] = []
          const plainRuns: PredictorRunResult[] = []
          // Plain and predicted runs alternate prompt by prompt, as the native loop's baselines do.
          for (const [i, p] of prompts.entries()) {
            const o = { ...evalOptions, seed: runSeed(study.seed, i, row.k) }
            plainRuns.push(await runEvaluate(plain.sequence, p, o))
            runs.push(await runEvaluate(predictor.sequence, p, o))
          }
          allPlainRuns.push(...plainRuns)
          const predictions = { used: 0, unused: 0, validated: 0, refuted: 0 }
          for (const r of runs)
            for (const key of Object.keys(predictions) as (keyof NodeLlamaCppPredictions)[])
              predictions[key] += r.predictions?.[key] ?? 0
          const figures = decodeOf(runs)
          const plainFigures = decodeOf(plainRuns)
          const checked = predictions.validated + predictions.refuted
          row.nodeLlamaCpp = {
            predictions,
            acceptanceRate: checked > 0 ? predictions.validated / checked : Number.NaN,
            tokensPerS: figures.tokensPerS,
            baselineTokensPerS: plainFigures.tokensPerS,
            speedup: figures.tokensPerS / plainFigures.tokensPerS,
          }
          if (study.mode === 'greedy')
            row.nodeLlamaCpp.matchesTarget = runs.every((r, i) =>
              sameTokens(r.tokens, targetRuns[i]!.tokens.slice(0, r.tokens.length)),
            )
        } finally {
          await predictor.dispose()
        }
      }
    } finally {
      await plain.context.dispose()
    }
    nodeLlamaCppTarget = decodeOf(allPlainRuns)
  }

  const measuredPoints: MeasuredPoint[] = perK.map((r) => ({
    k: r.k,
    alpha: r.metrics.alphaHat,
    speedup: r.measuredSpeedup,
    label: 'native',
  }))
  const result: SpecStudyResult = {
    study,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    environment: {
      engineVersion: models.engineVersion,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverageBefore,
      loadAverageAfter: os.loadavg(),
    },
    promptTokens: prompts.map((p) => p.length),
    baseline: { ...baseline, ...(nodeLlamaCppTarget ? { nodeLlamaCppTarget } : {}) },
    costRatio,
    logprob,
    alphaForPrediction,
    optimal: optimalK(alphaForPrediction, costRatio, Math.max(16, maxK)),
    perK,
    perPrompt,
    table: speedupTable(DEFAULT_TABLE_ALPHAS, study.ks, costRatio, measuredPoints),
  }
  return result
}

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i])
}
