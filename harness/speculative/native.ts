/**
 * Speculative decoding of our own on two node-llama-cpp 3.21 contexts (a target and a draft GGUF with the
 * same vocabulary), with exact counts per position, and node-llama-cpp's own DraftSequenceTokenPredictor for
 * the speedup it gives (its figures are its own: see README.md).
 *
 * One step of `runSpeculative` (K ≥ 1):
 * 1. draft: K single-token evaluations on the draft sequence, each asking for the next token (greedy: the
 *    draft's argmax; sampled: its full distribution q at the study's temperature, sampled here with the
 *    seeded generator);
 * 2. verify: one controlledEvaluate of [last committed token, d_1 … d_K] on the target, K + 1 positions,
 *    each asking for the target's next token (greedy) or full distribution p (sampled);
 * 3. keep the accepted prefix plus the correction or bonus token (sampling.ts);
 * 4. roll back the rejected positions of both KV caches with eraseContextTokenRanges.
 * The last committed token is never in the target's cache before its verify step (it is the first of the
 * K + 1 evaluated tokens); on the draft side, committed tokens not yet evaluated wait in `pending`.
 * K = 0 is plain decoding through the same calls (the baseline: same API, same per-call overheads).
 * @module
 */
import {
  DraftSequenceTokenPredictor,
  getLlama,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  LlamaLogLevel,
  type LlamaModel,
  type SequenceEvaluateOptions,
  type Token,
} from 'node-llama-cpp'
import { installedVersion } from '../engines/native/native-common.ts'
import { HarnessError } from '../errors.ts'
import { readGgufHeader } from '../fixtures/gguf-reader.ts'
import { createRandom } from '../random.ts'
import { emptyCounts, recordStep, type SpecCounts } from './counts.ts'
import { overlapAlpha, type PositionAlpha, top1Agrees } from './logprob.ts'
import { sampleIndex, verifyGreedy, verifySampled } from './sampling.ts'

export type SpecMode = 'greedy' | 'sampled'

export interface SpecModels extends AsyncDisposable {
  llama: Llama
  target: LlamaModel
  draft: LlamaModel
  /** Tokens in the shared vocabulary (the GGUF's tokenizer.ggml.tokens). */
  vocabSize: number
  /** node-llama-cpp and llama.cpp versions, e.g. `node-llama-cpp (llama.cpp b6xxx)`. */
  engineVersion: string
}

export interface LoadSpecModelsOptions {
  targetPath: string
  draftPath: string
  /**
   * A Llama instance to load into, kept open on dispose (its creation tests the binary in a child process:
   * seconds on a loaded 2-core box, so several pairs in one process should share one). Unset: a new one,
   * disposed with the models. A shared one: dispose the pair's contexts before the pair.
   */
  llama?: Llama
}

function vocabularyOf(path: string): string[] {
  const tokens = readGgufHeader(path).metadata.get('tokenizer.ggml.tokens')
  if (tokens?.type !== 'array') throw new HarnessError(`${path}: the GGUF has no tokenizer.ggml.tokens`)
  return tokens.values.map(String)
}

/** The CPU backend from node-llama-cpp's prebuilt binaries (nothing compiled or downloaded). */
export function createLlama(): Promise<Llama> {
  return getLlama({ gpu: false, build: 'never', maxThreads: 0, logLevel: LlamaLogLevel.error })
}

/**
 * Loads both models. Refuses a pair whose vocabularies differ: a drafted token id must mean the same token
 * to the target.
 */
export async function loadSpecModels(o: LoadSpecModelsOptions): Promise<SpecModels> {
  const targetVocab = vocabularyOf(o.targetPath)
  const draftVocab = vocabularyOf(o.draftPath)
  const differs =
    targetVocab.length !== draftVocab.length ? -1 : targetVocab.findIndex((t, i) => t !== draftVocab[i])
  if (targetVocab.length !== draftVocab.length || differs >= 0)
    throw new HarnessError(
      `draft ${o.draftPath} and target ${o.targetPath} have different vocabularies (${draftVocab.length} vs ${targetVocab.length} tokens${differs >= 0 ? `, first difference at id ${differs}` : ''}); speculative decoding needs a draft with the target's tokenizer`,
    )
  const llama = o.llama ?? (await createLlama())
  const owned = o.llama === undefined
  let target: LlamaModel | undefined
  try {
    target = await llama.loadModel({ modelPath: o.targetPath })
    const draft = await llama.loadModel({ modelPath: o.draftPath })
    return {
      llama,
      target,
      draft,
      vocabSize: targetVocab.length,
      engineVersion: `node-llama-cpp ${installedVersion('node-llama-cpp') ?? '?'} (llama.cpp ${llama.llamaCppRelease.release})`,
      // An owned Llama disposes its models and their contexts in order. On a shared one the models go
      // alone, and their contexts must be disposed first: a model disposed under live contexts was seen to
      // wait forever (node-llama-cpp 3.21.1, in a vitest fork).
      async [Symbol.asyncDispose]() {
        if (owned) await llama.dispose()
        else {
          await draft.dispose()
          await target?.dispose()
        }
      },
    }
  } catch (err) {
    await target?.dispose().catch(() => {})
    if (owned) await llama.dispose().catch(() => {})
    throw err
  }
}

/** A context with one sequence, 1 thread by default (ENVIRONMENT.md: more threads on 2 cores is slower). */
export async function createSequence(
  model: LlamaModel,
  o: { contextSize: number; threads?: number },
): Promise<{ context: LlamaContext; sequence: LlamaContextSequence }> {
  const context = await model.createContext({ contextSize: o.contextSize, threads: o.threads ?? 1 })
  return { context, sequence: context.getSequence() }
}

/** The prompt as the target tokenizes it, BOS first when the model adds one (the engine's tokenizePrompt). */
export function tokenizePrompt(model: LlamaModel, text: string): Token[] {
  const tokens = model.tokenize(text)
  const bos = model.tokens.bos
  return model.tokens.shouldPrependBosToken && bos != null ? [bos, ...tokens] : tokens
}

export interface SpecRunOptions {
  /** Drafted tokens per verify step; 0 = the target alone (plain decoding through the same calls). */
  k: number
  mode: SpecMode
  /** Sampled mode's temperature (both models). @default 1 */
  temperature?: number
  /** Seed of the acceptance uniforms and of every sampled token. @default 0 */
  seed?: number
  /** Tokens to generate; the last step may emit more (they are generated and timed, then cut). */
  maxTokens: number
  vocabSize: number
}

export interface SpecRunResult {
  /** The first maxTokens emitted tokens. */
  tokens: number[]
  /** Tokens emitted by the decode loop, the last step's overshoot included. */
  emitted: number
  /** Wall time of the decode loop (after both prompts were evaluated), ms. */
  decodeMs: number
  /** Prompt evaluation of both models, ms. */
  prefillMs: number
  /** Of decodeMs: the draft's evaluations, ms (0 for K = 0). */
  draftMs: number
  /** Of decodeMs: the target's evaluations (the verify batches; single tokens for K = 0), ms. */
  verifyMs: number
  /** emitted / decode seconds. */
  tokensPerS: number
  /** Exact counts (K ≥ 1). */
  counts?: SpecCounts
}

/** Full-vocabulary sampling at temperature T: softmax(logits / T), no top-k / top-p / min-p. */
function fullDistribution(temperature: number) {
  return { temperature, topK: 0, topP: 1, minP: 0 }
}

function toVector(probabilities: Map<Token, number> | undefined, vocabSize: number, what: string) {
  if (!probabilities) throw new HarnessError(`node-llama-cpp returned no probabilities (${what})`)
  const v = new Float64Array(vocabSize)
  for (const [token, p] of probabilities) if (token < vocabSize) v[token] = p
  return v
}

/**
 * Generates maxTokens tokens of `target` after `prompt`, speculatively with `draft` when k ≥ 1. Both
 * sequences are cleared first and left holding the prompt and the output.
 */
export async function runSpeculative(
  target: LlamaContextSequence,
  draft: LlamaContextSequence | undefined,
  prompt: readonly Token[],
  o: SpecRunOptions,
): Promise<SpecRunResult> {
  const { k, mode, maxTokens, vocabSize } = o
  const temperature = o.temperature ?? 1
  if (!Number.isInteger(k) || k < 0) throw new HarnessError(`k must be an integer ≥ 0, got ${k}`)
  if (k > 0 && draft === undefined) throw new HarnessError('k ≥ 1 needs a draft sequence')
  if (prompt.length === 0) throw new HarnessError('the prompt has no tokens')
  const needed = prompt.length + maxTokens + k + 1
  for (const [name, s] of [
    ['target', target],
    ['draft', draft],
  ] as const)
    if (s && s.contextSize < needed)
      throw new HarnessError(
        `the ${name} context holds ${s.contextSize} tokens but this run needs ${needed} (prompt ${prompt.length} + maxTokens ${maxTokens} + K ${k} + 1): raise contextSize`,
      )
  const random = createRandom(o.seed ?? 0)
  const uniform = () => random.next()
  const greedyNext = { token: true, options: { temperature: 0 } } as const
  const sampledNext = { probabilities: true, options: fullDistribution(temperature) } as const
  const generateNext = mode === 'greedy' ? greedyNext : sampledNext

  const t0 = performance.now()
  await target.clearHistory()
  const head = prompt.slice(0, -1) as Token[]
  if (head.length > 0) await target.evaluateWithoutGeneratingNewTokens(head)
  if (k > 0) {
    await draft!.clearHistory()
    if (head.length > 0) await draft!.evaluateWithoutGeneratingNewTokens(head)
  }
  let last = prompt.at(-1)!
  /** Committed tokens not yet in the draft's cache (the last one is evaluated with a next-token request). */
  let pending: Token[] = [last]
  const out: number[] = []
  const counts = k > 0 ? emptyCounts(k) : undefined
  const t1 = performance.now()
  let draftMs = 0
  let verifyMs = 0

  while (out.length < maxTokens) {
    const d0 = performance.now()
    const drafts: Token[] = []
    const q: Float64Array[] = []
    for (let i = 0; i < k; i++) {
      const input = i === 0 ? pending : [drafts[i - 1]!]
      const results = await draft!.controlledEvaluate(
        input.map((t, j) => (j === input.length - 1 ? ([t, { generateNext }] as const) : t)),
      )
      const next = results[input.length - 1]?.next
      if (mode === 'greedy') {
        if (next?.token == null) throw new HarnessError('node-llama-cpp returned no draft token')
        drafts.push(next.token)
      } else {
        const dist = toVector(next?.probabilities, vocabSize, 'draft')
        q.push(dist)
        drafts.push(sampleIndex(dist, uniform()) as Token)
      }
    }
    const v0 = performance.now()
    draftMs += v0 - d0
    const verifyInput = [last, ...drafts]
    const results = await target.controlledEvaluate(verifyInput.map((t) => [t, { generateNext }] as const))
    verifyMs += performance.now() - v0
    let outcome: { accepted: number; next: number }
    if (mode === 'greedy') {
      const choices = verifyInput.map((_, i) => {
        const token = results[i]?.next.token
        if (token == null) throw new HarnessError('node-llama-cpp returned no target token')
        return token as number
      })
      outcome = verifyGreedy(choices, drafts)
    } else {
      const p = verifyInput.map((_, i) => toVector(results[i]?.next.probabilities, vocabSize, 'target'))
      outcome = verifySampled(p, q, drafts, uniform)
    }
    const n = outcome.accepted
    // Target cache: … last d_1 … d_K. Keep last and d_1 … d_n.
    const end = target.nextTokenIndex
    if (n < k) await target.eraseContextTokenRanges([{ start: end - k + n, end }])
    if (k > 0) {
      // Draft cache: … pending d_1 … d_(K−1) (d_K was never evaluated). Keep pending and d_1 … d_n.
      const draftEnd = draft!.nextTokenIndex
      const keep = draftEnd - (k - 1) + n
      if (keep < draftEnd) await draft!.eraseContextTokenRanges([{ start: keep, end: draftEnd }])
      pending = n === k ? [drafts[k - 1]!, outcome.next as Token] : [outcome.next as Token]
      recordStep(counts!, n)
    }
    out.push(...drafts.slice(0, n), outcome.next)
    last = outcome.next as Token
  }
  const t2 = performance.now()
  const decodeMs = t2 - t1
  const result: SpecRunResult = {
    tokens: out.slice(0, maxTokens),
    emitted: out.length,
    decodeMs,
    prefillMs: t1 - t0,
    draftMs,
    verifyMs,
    tokensPerS: out.length / (decodeMs / 1000),
  }
  if (counts) result.counts = counts
  return result
}

export interface AlphaRowsOptions {
  /** Index of the prompt (PositionAlpha.prompt). */
  prompt: number
  /** Temperature of the compared distributions: the study's in sampled mode, 1 in greedy mode. */
  temperature: number
  vocabSize: number
}

/**
 * β at every position of `continuation` (the target's own output after `prompt`): both models are
 * teacher-forced over prompt + continuation in one controlledEvaluate each, asking for the full
 * next-token distribution at the last prompt token and at each continuation token but the last.
 */
export async function distributionAlphas(
  target: LlamaContextSequence,
  draft: LlamaContextSequence,
  prompt: readonly Token[],
  continuation: readonly Token[],
  o: AlphaRowsOptions,
): Promise<PositionAlpha[]> {
  if (continuation.length === 0) return []
  const generateNext = { probabilities: true, options: fullDistribution(o.temperature) }
  const input = [...prompt, ...continuation.slice(0, -1)]
  const first = prompt.length - 1
  const distributions = async (s: LlamaContextSequence, what: string) => {
    await s.clearHistory()
    const results = await s.controlledEvaluate(
      input.map((t, i) => (i >= first ? ([t, { generateNext }] as const) : t)),
    )
    const rows = continuation.map((_, j) =>
      toVector(results[first + j]?.next.probabilities, o.vocabSize, what),
    )
    await s.clearHistory()
    return rows
  }
  const p = await distributions(target, 'target')
  const q = await distributions(draft, 'draft')
  return p.map((pj, j) => ({
    prompt: o.prompt,
    position: j,
    alpha: overlapAlpha(pj, q[j]!),
    top1Agrees: top1Agrees(pj, q[j]!),
  }))
}

export interface PredictorRunOptions {
  /** DraftSequenceTokenPredictor's minTokens = maxTokens = k (always draft K), minConfidence 0. */
  k: number
  mode: SpecMode
  temperature?: number
  seed?: number
  maxTokens: number
}

/** node-llama-cpp's own counters (LlamaContextSequence.tokenPredictions), as it reports them. */
export interface NodeLlamaCppPredictions {
  used: number
  unused: number
  validated: number
  /** Also counts drafts discarded as stale while the draft model ran concurrently (README.md). */
  refuted: number
}

export interface PredictorRunResult {
  tokens: number[]
  /** Decode tok/s: tokens after the first / time from the first token to the last. */
  tokensPerS: number
  decodeMs: number
  predictions?: NodeLlamaCppPredictions
}

/**
 * Generates maxTokens tokens with node-llama-cpp's own loop (`sequence.evaluate`), with the sequence's token
 * predictor if it has one. The clock starts at the first token, so the prompt's evaluation is left out.
 */
export async function runEvaluate(
  sequence: LlamaContextSequence,
  prompt: readonly Token[],
  o: Omit<PredictorRunOptions, 'k'>,
): Promise<PredictorRunResult> {
  const before = { ...sequence.tokenPredictions }
  await sequence.clearHistory()
  const options: SequenceEvaluateOptions =
    o.mode === 'greedy' ? { temperature: 0 } : { ...fullDistribution(o.temperature ?? 1), seed: o.seed ?? 0 }
  const tokens: number[] = []
  let first = 0
  for await (const token of sequence.evaluate([...prompt], options)) {
    if (tokens.length === 0) first = performance.now()
    tokens.push(token)
    if (tokens.length >= o.maxTokens) break
  }
  const decodeMs = performance.now() - first
  const after = sequence.tokenPredictions
  const result: PredictorRunResult = {
    tokens,
    decodeMs,
    tokensPerS: (tokens.length - 1) / (decodeMs / 1000),
  }
  if (sequence.tokenPredictor)
    result.predictions = {
      used: after.used - before.used,
      unused: after.unused - before.unused,
      validated: after.validated - before.validated,
      refuted: after.refuted - before.refuted,
    }
  return result
}

/** A target sequence with node-llama-cpp's DraftSequenceTokenPredictor on a fresh draft context. */
export async function createPredictorSequence(
  models: SpecModels,
  o: { k: number; contextSize: number; threads?: number },
): Promise<{ sequence: LlamaContextSequence; dispose(): Promise<void> }> {
  const draft = await createSequence(models.draft, o)
  const targetContext = await models.target.createContext({
    contextSize: o.contextSize,
    threads: o.threads ?? 1,
  })
  const predictor = new DraftSequenceTokenPredictor(draft.sequence, {
    minTokens: o.k,
    maxTokens: o.k,
    minConfidence: 0,
  })
  const sequence = targetContext.getSequence({ tokenPredictor: predictor })
  return {
    sequence,
    async dispose() {
      await targetContext.dispose()
      await draft.context.dispose()
    },
  }
}
