/**
 * Causal-LM ONNX decoders in-process through onnxruntime-node, in the Optimum / transformers.js layout
 * (onnx-decoder.ts). Raw completion of `request.prompt`, no chat template.
 *
 * - Tokenizer: 'byte' (the fixtures' byte vocabulary, BOS added) or a model's Hugging Face tokenizer.json
 *   (hf-tokenizer.ts: BOS and end-of-generation ids as its configs say).
 * - Decoding: the prompt in one pass, then one token per pass reusing `present.*` as `past_key_values.*`
 *   (useCache, default on when the graph has cache inputs), or the whole sequence every pass (no cache).
 * - Concurrency: onnxruntime-node 1.30 runs a session synchronously on the main thread (inside a
 *   setImmediate), so concurrent requests interleave pass by pass; there is no batching across requests.
 * - Streaming, lengths, stop strings and sampling behave as in the llama-cpp engine (native-text.ts,
 *   onnx-sampling.ts): temperature 0 (default) is greedy; sampling draws from a per-request RNG seeded by
 *   `sampling.seed` or the engine's seed, so sampled runs repeat.
 * - scoreChoices() and topLogprobs() are log-softmax of the raw logits.
 * @module
 */
import { statSync } from 'node:fs'
import { basename } from 'node:path'
import * as ort from 'onnxruntime-node'
import { EngineStartError, RequestError, toError } from '../../errors.ts'
import { type MicroOps, measureMicroTask } from '../../micro/measure.ts'
import { createRandom } from '../../random.ts'
import type { MicroBounds, MicroTask, MicroTaskResult } from '../../results.ts'
import type {
  Engine,
  EngineInfo,
  GenerationRequest,
  StreamEvent,
  TokenLogProbs,
  TokenLogProbsOptions,
  TokenLogprob,
} from '../engine.ts'
import { defaultThreads, generationBudget, generationFailure } from '../native/native-common.ts'
import { GeneratedOutput, TokenTextStream } from '../native/native-text.ts'
import { scoringWindow, TextTokensCache } from '../native/token-windows.ts'
import { createByteTokenizer, type NativeTokenizer } from './byte-tokenizer.ts'
import type { OnnxEngineOptions } from './definition.ts'
import { loadHfTokenizer } from './hf-tokenizer.ts'
import { type DecoderLayout, detectLayout, type ForwardResult, forward } from './onnx-decoder.ts'
import { applyPenalties, logSoftmax, sampleToken, topEntries } from './onnx-sampling.ts'

/** Index of the largest logit (greedy choice; the first of equal ones). */
function argmax(row: Float32Array): number {
  let best = 0
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i
  return best
}

export type { OnnxEngineOptions } from './definition.ts'

interface Loaded {
  session: ort.InferenceSession
  layout: DecoderLayout
  tokenizer: NativeTokenizer
  /** Cache inputs exist and useCache is on. */
  cached: boolean
}

/** Messages onnxruntime gives for bytes that are not a valid model. */
const CORRUPT = /protobuf|parse|invalid model|ModelProto|INVALID_GRAPH|corrupt|truncat/i

export function createOnnxEngine(options: OnnxEngineOptions): Engine {
  const modelName = basename(options.modelPath)
  const executionProviders = options.executionProviders ?? ['cpu']
  const threads = options.intraOpNumThreads ?? defaultThreads()
  const seed = options.seed ?? 0
  const info: EngineInfo = {
    kind: 'onnx',
    engineVersion: `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common}`,
    model: modelName,
    device: executionProviders[0] ?? 'cpu',
    capabilities: {
      logprobs: true,
      scoreChoices: true,
      tokenize: true,
      memory: false,
      draft: false,
      tokenLogProbs: true,
    },
  }
  let loaded: Loaded | undefined
  let disposed = false
  const textTokens = new TextTokensCache()
  const fail = (message: string, cause?: unknown) =>
    new EngineStartError('onnx', modelName, message, { cause })

  async function load(signal?: AbortSignal): Promise<void> {
    let tokenizer: NativeTokenizer
    try {
      tokenizer =
        options.tokenizer === undefined || options.tokenizer === 'byte'
          ? createByteTokenizer()
          : loadHfTokenizer(options.tokenizer)
    } catch (err) {
      throw fail(`tokenizer ${toError(err).message}`, err)
    }
    try {
      const stat = statSync(options.modelPath)
      if (!stat.isFile()) throw new Error('not a file')
      if (stat.size === 0) throw new Error('corrupt or truncated ONNX file: the file is empty')
    } catch (err) {
      throw fail(`${options.modelPath}: ${toError(err).message}`, err)
    }
    let session: ort.InferenceSession
    try {
      session = await ort.InferenceSession.create(options.modelPath, {
        executionProviders,
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      })
    } catch (err) {
      const problem = toError(err).message.replace(/^Load model from \S+ failed:\s*/, '')
      throw fail(
        `${options.modelPath}: ${CORRUPT.test(problem) ? 'corrupt or truncated ONNX file' : 'onnxruntime cannot load it'}: ${problem}`,
        err,
      )
    }
    if (signal?.aborted) {
      await session.release()
      throw signal.reason
    }
    try {
      const layout = detectLayout(session)
      if (layout.vocabSize !== undefined && layout.vocabSize < tokenizer.vocabSize)
        throw new Error(
          `logits have ${layout.vocabSize} entries but the tokenizer has ${tokenizer.vocabSize} ids`,
        )
      loaded = { session, layout, tokenizer, cached: (options.useCache ?? true) && layout.layers.length > 0 }
    } catch (err) {
      await session.release()
      throw fail(
        `${options.modelPath}: not a causal-LM decoder this engine can drive: ${toError(err).message}`,
        err,
      )
    }
  }

  function ready(): Loaded {
    if (disposed) throw new RequestError('engine', 'the onnx engine was disposed')
    if (!loaded) throw new RequestError('engine', 'the onnx engine is not started; call start() first')
    return loaded
  }

  /** Logits after `tokens`: an incremental pass over `fresh` (cache) or the whole sequence (no cache). */
  async function step(
    s: Loaded,
    tokens: readonly number[],
    fresh: number,
    past: Record<string, ort.Tensor> | undefined,
  ): Promise<ForwardResult> {
    if (!s.cached) return forward(s.session, s.layout, tokens, 0, undefined, false)
    return forward(
      s.session,
      s.layout,
      tokens.slice(tokens.length - fresh),
      tokens.length - fresh,
      past,
      true,
    )
  }

  function lastRow(r: ForwardResult): Float32Array {
    const rows = r.logits.length / r.vocabSize
    return r.logits.subarray((rows - 1) * r.vocabSize, rows * r.vocabSize)
  }

  function asLogprobs(tokenizer: NativeTokenizer, row: ArrayLike<number>, k: number) {
    return topEntries(logSoftmax(row), k).map((e) => ({
      token: tokenizer.tokenText(e.id),
      logprob: e.logprob,
    }))
  }

  async function* generate(request: GenerationRequest, signal: AbortSignal): AsyncGenerator<StreamEvent> {
    const s = ready()
    signal.throwIfAborted()
    const prompt = s.tokenizer.encodePrompt(request.prompt)
    const budget = generationBudget(request)
    const stream = new TokenTextStream({
      decode: (tokens) => s.tokenizer.decode(tokens),
      ...(request.sampling?.stop ? { stop: request.sampling.stop } : {}),
      stopAfterTokens: budget.stopAfterTokens,
    })
    const random = createRandom(request.sampling?.seed ?? seed)
    const tokens = [...prompt]
    let scores: Float64Array | undefined
    let past: Record<string, ort.Tensor> | undefined
    let fresh = prompt.length
    const topK = request.topLogprobs
    const out = new GeneratedOutput(stream, topK !== undefined)
    try {
      while (out.generated < budget.maxTokens) {
        const result = await step(s, tokens, fresh, past)
        signal.throwIfAborted()
        past = result.past
        const row = lastRow(result)
        scores ??= new Float64Array(row.length)
        applyPenalties(row, scores, {
          ...(out.generated < budget.banEosBelow ? { banned: s.tokenizer.eogTokens } : {}),
          history: tokens,
          ...(request.sampling ? { sampling: request.sampling } : {}),
        })
        const token = sampleToken(scores, request.sampling, random)
        if (s.tokenizer.eogTokens.includes(token)) {
          out.endOfSequence()
          break
        }
        tokens.push(token)
        fresh = 1
        out.accept(
          topK === undefined
            ? undefined
            : () => {
                const lp = logSoftmax(row)
                return {
                  token: s.tokenizer.tokenText(token),
                  logprob: lp[token]!,
                  top: topEntries(lp, topK).map((e) => ({
                    token: s.tokenizer.tokenText(e.id),
                    logprob: e.logprob,
                  })),
                }
              },
        )
        const event = out.text(token)
        if (event) yield event
        signal.throwIfAborted()
        if (out.stopped) break
      }
    } catch (err) {
      throw generationFailure(err, signal, 'onnxruntime')
    }
    yield* out.finish(prompt.length)
  }

  /**
   * One micro task with tinybench (harness/micro/measure.ts). forward is one session run over the prompt
   * from empty caches (no presents fetched); prefill-decode fetches them, picks the next token by argmax,
   * runs that token on the cache (or the whole sequence without one) and picks again. tokenize is the
   * tokenizer without BOS. The graph states no context length: only the task's own bound applies.
   */
  async function micro(
    task: MicroTask,
    bounds: MicroBounds,
    seed: number,
    signal?: AbortSignal,
  ): Promise<MicroTaskResult> {
    const s = ready()
    const ops: MicroOps = {
      engine: 'onnx',
      tokenize: (text) => s.tokenizer.encodeContinuation(text).length,
      contextSize: undefined,
      vocabSize: s.tokenizer.vocabSize,
      firstId: 0,
      bos: s.tokenizer.encodePrompt('')[0],
      reset: async () => {},
      forward: async (tokens) => {
        await forward(s.session, s.layout, tokens, 0, undefined, false)
      },
      async prefillDecode(tokens) {
        const first = await forward(s.session, s.layout, tokens, 0, undefined, s.cached)
        const next = argmax(lastRow(first))
        const second = s.cached
          ? await forward(s.session, s.layout, [next], tokens.length, first.past, false)
          : await forward(s.session, s.layout, [...tokens, next], 0, undefined, false)
        argmax(lastRow(second))
      },
    }
    return await measureMicroTask(ops, task, bounds, seed, signal)
  }

  return {
    info,
    micro,
    async start(signal?: AbortSignal): Promise<void> {
      if (disposed) throw fail('the engine was disposed')
      if (!loaded) await load(signal)
    },
    generate,
    async scoreChoices(prompt: string, choices: string[], signal?: AbortSignal): Promise<number[]> {
      const s = ready()
      signal?.throwIfAborted()
      const context = s.tokenizer.encodePrompt(prompt)
      // The prompt once; each choice then runs on its cache (or the whole sequence without one).
      const base = await forward(s.session, s.layout, context, 0, undefined, s.cached)
      const first = logSoftmax(lastRow(base))
      const scores: number[] = []
      for (const choice of choices) {
        // A timed-out item frees the session now rather than after every choice (engine.ts).
        signal?.throwIfAborted()
        const continuation = s.tokenizer.encodeContinuation(choice)
        if (continuation.length === 0) {
          scores.push(0)
          continue
        }
        let sum = first[continuation[0]!]!
        if (continuation.length > 1) {
          const rest = s.cached
            ? await forward(s.session, s.layout, continuation.slice(0, -1), context.length, base.past, false)
            : await forward(
                s.session,
                s.layout,
                [...context, ...continuation.slice(0, -1)],
                0,
                undefined,
                false,
              )
          const offset = s.cached ? 0 : context.length
          for (let i = 1; i < continuation.length; i++) {
            const row = rest.logits.subarray((offset + i - 1) * rest.vocabSize, (offset + i) * rest.vocabSize)
            sum += logSoftmax(row)[continuation[i]!]!
          }
        }
        scores.push(sum)
      }
      return scores
    },
    async topLogprobs(prompt: string, k: number): Promise<TokenLogprob[][]> {
      const s = ready()
      const tokens = s.tokenizer.encodePrompt(prompt)
      const result = await forward(s.session, s.layout, tokens, 0, undefined, false)
      const positions: TokenLogprob[][] = []
      for (let i = 0; i < tokens.length; i++)
        positions.push(
          asLogprobs(
            s.tokenizer,
            result.logits.subarray(i * result.vocabSize, (i + 1) * result.vocabSize),
            k,
          ),
        )
      return positions
    },
    /**
     * Full distributions of one window (engine.ts TokenLogProbsOptions): log-softmax of the logits. With a
     * cache the unscored half runs first and only the scored half's logits are copied out; without one the
     * whole window runs in one pass. BOS is the first id the tokenizer puts before an empty prompt.
     */
    async tokenLogProbs(text: string, o: TokenLogProbsOptions, signal?: AbortSignal): Promise<TokenLogProbs> {
      const s = ready()
      signal?.throwIfAborted()
      const all =
        o.tokens !== undefined ? [...o.tokens] : textTokens.get(text, () => s.tokenizer.encodePrompt(text))
      const bos = s.tokenizer.encodePrompt('')[0]
      const w = scoringWindow(all, o, Number.MAX_SAFE_INTEGER, bos)
      const scored = w.input.slice(0, -1)
      let logits: Float32Array
      let vocabSize: number
      let offset: number
      if (s.cached && w.firstScored > 0) {
        const head = await forward(s.session, s.layout, scored.slice(0, w.firstScored), 0, undefined, true)
        const tail = await forward(
          s.session,
          s.layout,
          scored.slice(w.firstScored),
          w.firstScored,
          head.past,
          false,
        )
        ;({ logits, vocabSize } = tail)
        offset = 0
      } else {
        ;({ logits, vocabSize } = await forward(s.session, s.layout, scored, 0, undefined, false))
        offset = w.firstScored
      }
      const rows = scored.length - w.firstScored
      const logProbs = new Float32Array(rows * vocabSize)
      for (let i = 0; i < rows; i++)
        logProbs.set(
          logSoftmax(logits.subarray((offset + i) * vocabSize, (offset + i + 1) * vocabSize)),
          i * vocabSize,
        )
      return { tokens: w.tokens, windows: w.windows, firstScored: w.firstScored, vocabSize, logProbs }
    },
    async [Symbol.asyncDispose](): Promise<void> {
      if (disposed) return
      disposed = true
      const s = loaded
      loaded = undefined
      await s?.session.release()
    },
  }
}
