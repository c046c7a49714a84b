/**
 * GGUF models in-process through node-llama-cpp 3.21 (llama.cpp). Raw completion of `request.prompt`: the
 * prompt is tokenized with the model's own tokenizer (BOS added when the model asks for it) and no chat
 * template is applied — the fixtures have none, and a template would hide what the benchmark sends.
 *
 * - Loading: start() first validates the file's GGUF header (harness/fixtures gguf-reader), so a corrupt
 *   or truncated file fails with a sentence naming the file and the problem instead of a native crash,
 *   then loads the model and one context. Prebuilt binaries only (`build: 'never'`): nothing is compiled
 *   or downloaded at run time; without `gpuLayers` the CPU backend is used (`gpu: false`).
 * - Concurrency: the context holds `parallel` sequences (default 1). Each request takes a free sequence
 *   (cleared first, so every request pays its whole prompt) or waits for one in FIFO order; node-llama-cpp
 *   batches the busy sequences' tokens into shared decode calls.
 * - Streaming: one token event per generated token; a token ending inside a UTF-8 character is held and
 *   sent with the token that completes it (see ../native/native-text.ts), so events never carry partial text and
 *   Σ event.tokens = done.outputTokens unless a stop string cut the output.
 * - Pipelining: as soon as a token arrives the next decode is requested, before the token is detokenized
 *   and streamed, so that JS work (and the isolated child's IPC send) overlaps llama.cpp's decode instead
 *   of adding to every inter-token gap. The price: a stop string found in token n leaves decode n+1
 *   running; it finishes (and is discarded) before the sequence serves the next request.
 * - Lengths: at most maxTokens, and never past the context (finishReason `length`); end-of-generation
 *   tokens are banned while fewer than minTokens were generated, or always with ignoreEos, as
 *   llama-server's `ignore_eos` does. An EOG token ends the output with `stop` and is not counted.
 * - Sampling: request temperature, topK, topP, seed (else the engine's seed), repetition / frequency /
 *   presence penalty over the last 64 tokens, stop strings (checked from minTokens on). node-llama-cpp's
 *   defaults apply to what is unset: temperature 0 (greedy); with temperature > 0, topK 40, topP 0.95.
 * - Probabilities: node-llama-cpp exposes probabilities, not logits. With temperature 0 they are the plain
 *   softmax of the logits (measured), which scoreChoices() and topLogprobs() use; per-token `logprobs` in
 *   token events are those of the sampling distribution (after temperature / top-k / top-p).
 * @module
 */
import { statSync } from 'node:fs'
import { basename } from 'node:path'
import {
  getLlama,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  LlamaLogLevel,
  type LlamaModel,
  type SequenceEvaluateOptions,
  type Token,
  TokenBias,
} from 'node-llama-cpp'
import { EngineStartError, RequestError, toError } from '../../errors.ts'
import { readGgufHeader } from '../../fixtures/gguf-reader.ts'
import { distribution } from '../../metrics/percentile.ts'
import { type MicroOps, measureMicroTask } from '../../micro/measure.ts'
import { createRandom } from '../../random.ts'
import type { MicroBounds, MicroTask, MicroTaskResult } from '../../results.ts'
import type {
  Engine,
  EngineInfo,
  GenerationRequest,
  MemorySample,
  NativeSpeedOptions,
  NativeSpeedResult,
  NativeSpeedTest,
  Sampling,
  StreamEvent,
  TokenLogProbs,
  TokenLogProbsOptions,
  TokenLogprob,
} from '../engine.ts'
import {
  defaultThreads,
  generationBudget,
  generationFailure,
  installedVersion,
  SlotPool,
} from '../native/native-common.ts'
import { GeneratedOutput, TokenTextStream } from '../native/native-text.ts'
import { scoringWindow, TextTokensCache } from '../native/token-windows.ts'
import type { LlamaCppEngineOptions } from './definition.ts'

export type { LlamaCppEngineOptions } from './definition.ts'

/** What node-llama-cpp reports about the loaded model and context (the options as they took effect). */
export interface LlamaCppSettings {
  /** Threads per evaluation (context.currentThreads). llama.cpp's n_threads_batch is always the same. */
  threads: number
  /** Tokens per decode call (context.batchSize); llama.cpp's n_ubatch is always the same in node-llama-cpp 3.21. */
  batchSize: number
  /** As requested (context.flashAttention): true, false or 'auto'. */
  flashAttention: boolean | 'auto'
  /** What llama.cpp resolved 'auto' to, from its load log; undefined when it did not say. */
  flashAttentionEnabled?: boolean
  /** model.useMmap */
  useMmap: boolean
  /** As requested (node-llama-cpp has no getter; the process's VmLck shows it). */
  useMlock: boolean
  /** Context per sequence, tokens (context.contextSize). */
  contextSize: number
  sequences: number
  gpuLayers: number
}

/** The llama-cpp engine: an Engine plus what node-llama-cpp reports about its settings. */
export interface LlamaCppEngine extends Engine {
  /** The settings in effect (after start()). */
  settings(): LlamaCppSettings
  nativeSpeed(options: NativeSpeedOptions): Promise<NativeSpeedResult>
  micro(task: MicroTask, bounds: MicroBounds, seed: number, signal?: AbortSignal): Promise<MicroTaskResult>
}

/** Default context per sequence: enough for chat benchmarks without allocating a 128k KV cache. */
const DEFAULT_LLAMA_CONTEXT_SIZE = 4096
/** Tokens that repetition penalties look back over (llama.cpp's `penalty_last_n` default). */
const PENALTY_WINDOW = 64
/** Prompt positions per controlledEvaluate() call in topLogprobs(): bounds the probability maps in memory. */
const LOGPROB_CHUNK = 64
/**
 * tokenLogProbs' second pass for probabilities that underflowed at temperature 1: softmax(logits / 16) keeps
 * tokens up to ~1650 nats below the top (measured on tiny-f32: its smallest is ~108 nats below).
 */
const UNDERFLOW_TEMPERATURE = 16

interface Loaded {
  llama: Llama
  model: LlamaModel
  context: LlamaContext
  pool: SlotPool<LlamaContextSequence>
  contextSize: number
  /** Bans every end-of-generation token (ignoreEos / minTokens). */
  banEog: TokenBias
  noBias: TokenBias
  vocabSize: number
  flashAttentionEnabled?: boolean
}

export function createLlamaCppEngine(options: LlamaCppEngineOptions): LlamaCppEngine {
  const modelName = basename(options.modelPath)
  const threads = options.threads ?? defaultThreads()
  const parallel = options.parallel ?? 1
  const seed = options.seed ?? 0
  const info: EngineInfo = {
    kind: 'llama-cpp',
    model: modelName,
    capabilities: {
      logprobs: true,
      scoreChoices: true,
      tokenize: true,
      memory: true,
      draft: false,
      tokenLogProbs: true,
    },
  }
  const libraryVersion = installedVersion('node-llama-cpp')
  if (libraryVersion !== undefined) info.engineVersion = `node-llama-cpp ${libraryVersion}`
  let loaded: Loaded | undefined
  let starting: Promise<void> | undefined
  let disposed = false
  const textTokens = new TextTokensCache()

  const fail = (message: string, cause?: unknown) =>
    new EngineStartError('llama-cpp', modelName, message, { cause })

  async function load(signal?: AbortSignal): Promise<void> {
    let vocabSize: number
    try {
      if (!statSync(options.modelPath).isFile()) throw new Error('not a file')
      const header = readGgufHeader(options.modelPath)
      const tokens = header.metadata.get('tokenizer.ggml.tokens')
      vocabSize = tokens?.type === 'array' ? tokens.values.length : 0
    } catch (err) {
      const e = toError(err)
      throw fail(
        e.message.startsWith(options.modelPath) ? e.message : `${options.modelPath}: ${e.message}`,
        err,
      )
    }
    const nativeErrors: string[] = []
    let flashAttentionEnabled: boolean | undefined
    const useGpu = options.gpuLayers !== undefined && options.gpuLayers !== 0
    let llama: Llama | undefined
    let model: LlamaModel | undefined
    try {
      llama = await getLlama({
        gpu: useGpu ? 'auto' : false,
        build: 'never',
        // 0 = no global cap, so each context gets exactly the threads asked for.
        maxThreads: 0,
        logLevel: LlamaLogLevel.error,
        logger: (level, message) => {
          if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)
            nativeErrors.push(message.trim())
          // llama.cpp resolving `flash_attn auto` while the context is created (logged at info / warn).
          const fa = /Flash Attention (enabled|not supported)/.exec(message)
          if (fa) flashAttentionEnabled = fa[1] === 'enabled'
        },
      })
      signal?.throwIfAborted()
      model = await llama.loadModel({
        modelPath: options.modelPath,
        ...(options.gpuLayers !== undefined ? { gpuLayers: options.gpuLayers } : {}),
        ...(options.useMmap !== undefined ? { useMmap: options.useMmap } : {}),
        ...(options.useMlock !== undefined ? { useMlock: options.useMlock } : {}),
        ...(signal ? { loadSignal: signal } : {}),
      })
      // Info level while the context is created, to read how llama.cpp resolved flash attention.
      llama.logLevel = LlamaLogLevel.info
      const context = await model.createContext({
        sequences: parallel,
        contextSize: options.contextSize ?? Math.min(DEFAULT_LLAMA_CONTEXT_SIZE, model.trainContextSize),
        threads,
        ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
        ...(options.flashAttention !== undefined ? { flashAttention: options.flashAttention } : {}),
        ...(signal ? { createSignal: signal } : {}),
      })
      // Log lines cross from native threads asynchronously: let the ones from the context creation arrive.
      await new Promise((resolve) => setTimeout(resolve, 0))
      llama.logLevel = LlamaLogLevel.error
      const sequences = Array.from({ length: parallel }, () => context.getSequence())
      const banEog = new TokenBias(model.tokenizer)
      const biases = (banEog as unknown as { _biases?: unknown })._biases
      // TokenBias.set() skips EOG tokens on purpose, so the ban goes into its map directly (pinned 3.21.1).
      if (!(biases instanceof Map))
        throw new Error('this node-llama-cpp version has no TokenBias map (ignoreEos)')
      for (let t = 0; t < vocabSize; t++)
        if (model.isEogToken(t as Token)) biases.set(t, Number.NEGATIVE_INFINITY)
      for (const t of [model.tokens.eos, model.tokens.eot])
        if (t != null) biases.set(t, Number.NEGATIVE_INFINITY)
      loaded = {
        llama,
        model,
        context,
        pool: new SlotPool(sequences),
        contextSize: context.contextSize,
        banEog,
        noBias: new TokenBias(model.tokenizer),
        vocabSize,
        ...(flashAttentionEnabled !== undefined ? { flashAttentionEnabled } : {}),
      }
      const release = llama.llamaCppRelease.release
      info.engineVersion = `node-llama-cpp ${libraryVersion ?? '?'} (llama.cpp ${release})`
      if (llama.gpu === false) info.device = 'cpu'
      else {
        const names = await llama.getGpuDeviceNames().catch(() => [])
        info.device = names.length > 0 ? `${llama.gpu}:${names.join(',')}` : llama.gpu
      }
    } catch (err) {
      await model?.dispose().catch(() => {})
      await llama?.dispose().catch(() => {})
      if (signal?.aborted) throw signal.reason
      const native = nativeErrors.length > 0 ? ` (llama.cpp: ${nativeErrors.slice(-3).join('; ')})` : ''
      throw fail(`${options.modelPath}: ${toError(err).message}${native}`, err)
    }
  }

  function ready(): Loaded {
    if (disposed) throw new RequestError('engine', 'the llama-cpp engine was disposed')
    if (!loaded) throw new RequestError('engine', 'the llama-cpp engine is not started; call start() first')
    return loaded
  }

  function tokenizePrompt(model: LlamaModel, text: string): Token[] {
    const tokens = model.tokenize(text)
    const bos = model.tokens.bos
    return model.tokens.shouldPrependBosToken && bos != null ? [bos, ...tokens] : tokens
  }

  function tokenText(model: LlamaModel, token: Token): string {
    return model.detokenize([token], true)
  }

  function topEntries(model: LlamaModel, probabilities: Map<Token, number> | undefined, k: number) {
    const out: { token: string; logprob: number }[] = []
    if (!probabilities) return out
    for (const [token, p] of probabilities) {
      if (out.length >= k) break
      out.push({ token: tokenText(model, token), logprob: Math.log(p) })
    }
    return out
  }

  async function* generate(request: GenerationRequest, signal: AbortSignal): AsyncGenerator<StreamEvent> {
    const s = ready()
    signal.throwIfAborted()
    const prompt = tokenizePrompt(s.model, request.prompt)
    if (prompt.length === 0)
      throw new RequestError('engine', 'the prompt is empty and the model adds no BOS token')
    if (prompt.length >= s.contextSize)
      throw new RequestError(
        'engine',
        `the prompt is ${prompt.length} tokens but a sequence holds ${s.contextSize} (raise contextSize)`,
      )
    const budget = generationBudget(request, s.contextSize - prompt.length)
    const sequence = await s.pool.acquire(signal)
    let iterator: AsyncGenerator<{ token: Token; probabilities?: Map<Token, number> }, void, void> | undefined
    let released = false
    // Before the last events, so a consumer that stops reading at `done` does not keep the sequence. An
    // evaluation still running (abort mid-token) ends first, then the next request gets the sequence.
    const release = () => {
      if (released) return
      released = true
      const pending = iterator
      void (async () => {
        await pending?.return().catch(() => {})
        s.pool.release(sequence)
      })()
    }
    // One abort listener per request, raced with each token's decode (adding and removing an AbortSignal
    // listener per token cost ~16 µs of the event loop's time per token, 40 % of this loop's own JavaScript).
    let onAbort: (() => void) | undefined
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason)
    })
    aborted.catch(() => {})
    signal.addEventListener('abort', onAbort!, { once: true })
    try {
      await sequence.clearHistory()
      const stream = new TokenTextStream({
        decode: (tokens, previous) => s.model.detokenize(tokens as Token[], false, previous as Token[]),
        ...(request.sampling?.stop ? { stop: request.sampling.stop } : {}),
        stopAfterTokens: budget.stopAfterTokens,
      })
      // Read by the sampler of the decode requested next, so both are updated before that request.
      const output: Token[] = []
      const out = new GeneratedOutput(stream, request.topLogprobs !== undefined)
      const evaluateOptions: SequenceEvaluateOptions = {
        ...samplingOptions(request.sampling, seed, () => [...prompt, ...output]),
        tokenBias: () => (out.generated < budget.banEosBelow ? s.banEog : s.noBias),
      }
      const topK = request.topLogprobs
      iterator = sequence.evaluateWithMetadata(prompt, { probabilities: topK !== undefined }, evaluateOptions)
      const decodeNext = () => {
        const pending = iterator!.next()
        // Left pending when a stop string, an abort or the consumer ends the loop; release() awaits it.
        pending.catch(() => {})
        return pending
      }
      let next = budget.maxTokens > 0 ? decodeNext() : undefined
      while (next !== undefined) {
        signal.throwIfAborted()
        const step = await Promise.race([next, aborted])
        if (step.done) {
          out.endOfSequence()
          break
        }
        const token = step.value.token
        output.push(token)
        const probabilities = step.value.probabilities
        out.accept(
          topK === undefined
            ? undefined
            : () => {
                const p = probabilities?.get(token)
                return {
                  token: tokenText(s.model, token),
                  logprob: p === undefined ? Number.NEGATIVE_INFINITY : Math.log(p),
                  top: topEntries(s.model, probabilities, topK),
                }
              },
        )
        next = out.generated < budget.maxTokens ? decodeNext() : undefined
        const event = out.text(token)
        if (event) yield event
        signal.throwIfAborted()
        if (out.stopped) break
      }
      release()
      yield* out.finish(prompt.length)
    } catch (err) {
      throw generationFailure(err, signal, 'llama.cpp generation')
    } finally {
      signal.removeEventListener('abort', onAbort!)
      release()
    }
  }

  function settings(): LlamaCppSettings {
    const s = ready()
    return {
      threads: s.context.currentThreads,
      batchSize: s.context.batchSize,
      flashAttention: s.context.flashAttention,
      ...(s.flashAttentionEnabled !== undefined ? { flashAttentionEnabled: s.flashAttentionEnabled } : {}),
      useMmap: s.model.useMmap,
      useMlock: options.useMlock ?? false,
      contextSize: s.contextSize,
      sequences: parallel,
      gpuLayers: s.model.gpuLayers,
    }
  }

  /**
   * llama-bench's pp and tg (tools/llama-bench/llama-bench.cpp, same llama.cpp commit): per test an untimed
   * warmup (pp: the whole test once; tg: one token), then per repetition the sequence is cleared (llama-bench
   * clears the memory), `depth` tokens are evaluated untimed, and the timer runs around
   * - pp: `pp` tokens (BOS first when the model adds one, then random ids) in one evaluation, split into
   *   batchSize chunks as llama-bench splits into n_batch; logits of the last token only;
   * - tg: `tg` single-token evaluations, each waiting for the previous (BOS, then random ids), logits on.
   * No sampling, tokenization or detokenization: each evaluation is the call node-llama-cpp's generation
   * loop makes per token (decoderOf), so the figure is llama.cpp's decode through node-llama-cpp's batching,
   * not a bare llama_decode loop. tokens/s of a repetition = tokens / time.
   */
  async function nativeSpeed(o: NativeSpeedOptions): Promise<NativeSpeedResult> {
    const s = ready()
    const pp = o.pp ?? 512
    const tg = o.tg ?? 128
    const repetitions = o.repetitions ?? 5
    const depth = o.depth ?? 0
    for (const [name, value, min] of [
      ['pp', pp, 0],
      ['tg', tg, 0],
      ['repetitions', repetitions, 1],
      ['depth', depth, 0],
    ] as const)
      if (!Number.isInteger(value) || value < min)
        throw new RequestError('engine', `nativeSpeed: ${name} must be an integer ≥ ${min}, got ${value}`)
    // node-llama-cpp shifts the context when it fills up (contextSize − 1 tokens); a benchmark must not.
    const needed = depth + Math.max(pp, tg) + 1
    if (needed > s.contextSize)
      throw new RequestError(
        'engine',
        `nativeSpeed needs ${needed} tokens of context (depth ${depth} + ${Math.max(pp, tg)} + 1) but a sequence holds ${s.contextSize} (raise contextSize)`,
      )
    const sequence = await s.pool.acquire()
    try {
      const random = createRandom(0x11a3a)
      const bos = s.model.tokens.bos
      const addBos = s.model.tokens.shouldPrependBosToken && bos != null
      const randomToken = () => random.int(0, s.vocabSize - 1) as Token
      // llama-bench's test_prompt: BOS first (when the vocabulary adds one), then random ids.
      const promptTokens = (n: number): Token[] =>
        Array.from({ length: n }, (_, i) => (i === 0 && addBos ? (bos as Token) : randomToken()))
      const decode = decoderOf(sequence)
      const prepare = async () => {
        await sequence.clearHistory()
        if (depth > 0) await decode(promptTokens(depth))
      }
      const timed = async (test: () => Promise<void>, tokens: number): Promise<NativeSpeedTest> => {
        const samplesNs: number[] = []
        for (let r = 0; r < repetitions; r++) {
          await prepare()
          const t0 = performance.now()
          await test()
          samplesNs.push((performance.now() - t0) * 1e6)
        }
        const samplesTs = samplesNs.map((ns) => (tokens * 1e9) / ns)
        // Mean and sample sd (n − 1, 0 for one sample): llama-bench's avg_ts / stddev_ts.
        const { mean, sd } = distribution(samplesTs)!
        return { tokens, depth, avgTs: mean, sdTs: sd, samplesTs, samplesNs }
      }
      const result: NativeSpeedResult = { settings: { ...settings() } }
      if (pp > 0) {
        if (!o.noWarmup) {
          await sequence.clearHistory()
          await decode(promptTokens(pp))
        }
        result.pp = await timed(() => decode(promptTokens(pp)), pp)
      }
      if (tg > 0) {
        const first = () => (addBos ? (bos as Token) : randomToken())
        if (!o.noWarmup) {
          await sequence.clearHistory()
          await decode([first()])
        }
        result.tg = await timed(async () => {
          let token = first()
          for (let i = 0; i < tg; i++) {
            await decode([token])
            token = randomToken()
          }
        }, tg)
      }
      return result
    } finally {
      await sequence.clearHistory().catch(() => {})
      s.pool.release(sequence)
    }
  }

  /**
   * One micro task with tinybench (harness/micro/measure.ts) on a sequence held for the whole task. forward
   * is nativeSpeed's pp evaluation (decoderOf: node-llama-cpp's per-batch decode call, logits of the last
   * token, no sampling), so its tokens/s compares with llama-bench `-p P -n 0`; prefill-decode goes through
   * the public evaluate() a generation uses (greedy sampler included): the prompt, the first token picked,
   * that token evaluated, the second picked. tokenize is the model's tokenizer without BOS.
   */
  async function micro(
    task: MicroTask,
    bounds: MicroBounds,
    seed: number,
    signal?: AbortSignal,
  ): Promise<MicroTaskResult> {
    const s = ready()
    const sequence = await s.pool.acquire(signal)
    try {
      const decode = decoderOf(sequence)
      const bos = s.model.tokens.bos
      const ops: MicroOps = {
        engine: 'llama-cpp',
        tokenize: (text) => s.model.tokenize(text).length,
        contextSize: s.contextSize,
        vocabSize: s.vocabSize,
        firstId: 0,
        bos: s.model.tokens.shouldPrependBosToken && bos != null ? bos : undefined,
        reset: () => sequence.clearHistory(),
        forward: (tokens) => decode(tokens as Token[]),
        async prefillDecode(tokens) {
          const generated = sequence.evaluate(tokens as Token[], { temperature: 0 })
          try {
            await generated.next() // the prompt evaluated, the first token picked
            await generated.next() // that token evaluated (one decode step), the second picked
          } finally {
            await generated.return()
          }
        },
      }
      return await measureMicroTask(ops, task, bounds, seed, signal)
    } finally {
      await sequence.clearHistory().catch(() => {})
      s.pool.release(sequence)
    }
  }

  return {
    info,
    settings,
    nativeSpeed,
    micro,
    async start(signal?: AbortSignal): Promise<void> {
      if (disposed) throw fail('the engine was disposed')
      starting ??= load(signal)
      try {
        await starting
      } catch (err) {
        starting = undefined
        throw err
      }
    },
    generate,
    async scoreChoices(prompt: string, choices: string[], signal?: AbortSignal): Promise<number[]> {
      const s = ready()
      const context = tokenizePrompt(s.model, prompt)
      if (context.length === 0) throw new RequestError('engine', 'scoreChoices needs a non-empty prompt')
      signal?.throwIfAborted()
      const sequence = await s.pool.acquire()
      try {
        await sequence.clearHistory()
        if (context.length > 1) await sequence.evaluateWithoutGeneratingNewTokens(context.slice(0, -1))
        const base = sequence.nextTokenIndex
        const scores: number[] = []
        for (const choice of choices) {
          // A timed-out item gives its sequence back now rather than after every choice (engine.ts).
          signal?.throwIfAborted()
          // As lm-evaluation-harness: the continuation is what tokenizing prompt + choice adds to the prompt.
          const whole = tokenizePrompt(s.model, prompt + choice)
          const continuation = context.every((t, i) => whole[i] === t)
            ? whole.slice(context.length)
            : s.model.tokenize(choice)
          if (continuation.length === 0) {
            scores.push(0)
            continue
          }
          const inputs = [context.at(-1)!, ...continuation.slice(0, -1)]
          const results = await sequence.controlledEvaluate(
            inputs.map((t) => [t, { generateNext: { probabilities: true } }] as const),
          )
          let logLikelihood = 0
          for (const [i, t] of continuation.entries())
            logLikelihood += Math.log(results[i]?.next.probabilities?.get(t) ?? 0)
          scores.push(logLikelihood)
          await sequence.eraseContextTokenRanges([{ start: base, end: sequence.nextTokenIndex }])
        }
        return scores
      } finally {
        await sequence.clearHistory().catch(() => {})
        s.pool.release(sequence)
      }
    },
    async topLogprobs(prompt: string, k: number): Promise<TokenLogprob[][]> {
      const s = ready()
      const tokens = tokenizePrompt(s.model, prompt)
      const sequence = await s.pool.acquire()
      try {
        await sequence.clearHistory()
        const positions: TokenLogprob[][] = []
        for (let start = 0; start < tokens.length; start += LOGPROB_CHUNK) {
          const results = await sequence.controlledEvaluate(
            tokens
              .slice(start, start + LOGPROB_CHUNK)
              .map((t) => [t, { generateNext: { probabilities: true } }] as const),
          )
          for (const r of results) positions.push(topEntries(s.model, r?.next.probabilities, k))
        }
        return positions
      } finally {
        await sequence.clearHistory().catch(() => {})
        s.pool.release(sequence)
      }
    },
    /**
     * Full distributions of one window (engine.ts TokenLogProbsOptions): the first half evaluated without
     * output, then each scored position's probabilities (LOGPROB_CHUNK positions per call) as natural logs.
     * node-llama-cpp gives float probabilities, not logits, and a token more than ~103 nats below the top
     * underflows to 0 (the fixtures' next-byte models put almost all mass on one token). When a window has
     * such zeros it is evaluated once more at temperature UNDERFLOW_TEMPERATURE (no top-k / top-p / min-p), whose
     * softmax of logits / T does not underflow, and each zero is filled from it relative to the top token:
     * ln p(v) = T·(ln p_T(v) − ln p_T(top)) + ln p(top). The other entries stay the exact T = 1 values.
     */
    async tokenLogProbs(text: string, o: TokenLogProbsOptions, signal?: AbortSignal): Promise<TokenLogProbs> {
      const s = ready()
      signal?.throwIfAborted()
      const all =
        o.tokens !== undefined ? [...o.tokens] : textTokens.get(text, () => tokenizePrompt(s.model, text))
      const bos = s.model.tokens.bos
      const w = scoringWindow(all, o, s.contextSize, s.model.tokens.shouldPrependBosToken ? bos : null)
      const vocabSize = s.vocabSize
      const input = w.input as Token[]
      const rows = input.length - 1 - w.firstScored
      const sequence = await s.pool.acquire()
      /** Natural-log probabilities of every scored position, rows × vocabSize, at a temperature. */
      const pass = async (temperature: number | undefined): Promise<Float32Array> => {
        const out = new Float32Array(rows * vocabSize).fill(Number.NEGATIVE_INFINITY)
        const generateNext = {
          probabilities: true,
          ...(temperature !== undefined ? { options: { temperature, topK: 0, topP: 1, minP: 0 } } : {}),
        }
        await sequence.clearHistory()
        if (w.firstScored > 0)
          await sequence.evaluateWithoutGeneratingNewTokens(input.slice(0, w.firstScored))
        for (let start = w.firstScored; start < input.length - 1; start += LOGPROB_CHUNK) {
          signal?.throwIfAborted()
          const end = Math.min(start + LOGPROB_CHUNK, input.length - 1)
          const results = await sequence.controlledEvaluate(
            input.slice(start, end).map((t) => [t, { generateNext }] as const),
          )
          for (let i = 0; i < end - start; i++) {
            const probabilities = results[i]?.next.probabilities
            if (!probabilities)
              throw new RequestError(
                'engine',
                `node-llama-cpp returned no probabilities at position ${start + i}`,
              )
            const offset = (start - w.firstScored + i) * vocabSize
            for (const [token, p] of probabilities) if (token < vocabSize) out[offset + token] = Math.log(p)
          }
        }
        return out
      }
      try {
        const logProbs = await pass(undefined)
        if (logProbs.includes(Number.NEGATIVE_INFINITY)) {
          const hot = await pass(UNDERFLOW_TEMPERATURE)
          for (let r = 0; r < rows; r++) {
            const row = logProbs.subarray(r * vocabSize, (r + 1) * vocabSize)
            if (!row.includes(Number.NEGATIVE_INFINITY)) continue
            let top = 0
            for (let v = 1; v < vocabSize; v++) if (row[v]! > row[top]!) top = v
            const base = r * vocabSize
            for (let v = 0; v < vocabSize; v++)
              if (row[v] === Number.NEGATIVE_INFINITY)
                row[v] = UNDERFLOW_TEMPERATURE * (hot[base + v]! - hot[base + top]!) + row[top]!
          }
        }
        return { tokens: w.tokens, windows: w.windows, firstScored: w.firstScored, vocabSize, logProbs }
      } finally {
        await sequence.clearHistory().catch(() => {})
        s.pool.release(sequence)
      }
    },
    /**
     * The model file's size and, on a GPU backend, the device memory in use as llama.cpp reports it
     * (`getVramState().used`: the whole device, so other processes on that GPU count too). On the CPU
     * backend there is no device memory to report; the process's RSS is the isolate's to measure.
     */
    async memory(): Promise<MemorySample> {
      const sample: MemorySample = {}
      const size = statSync(options.modelPath, { throwIfNoEntry: false })?.size
      if (size !== undefined) sample.modelBytes = size
      const s = loaded
      if (s !== undefined && s.llama.gpu !== false) sample.vramBytes = (await s.llama.getVramState()).used
      return sample
    },
    async [Symbol.asyncDispose](): Promise<void> {
      if (disposed) return
      disposed = true
      await starting?.catch(() => {})
      const s = loaded
      loaded = undefined
      if (!s) return
      s.pool.close(new RequestError('engine', 'the llama-cpp engine was disposed'))
      await s.context.dispose()
      await s.model.dispose()
      await s.llama.dispose()
    },
  }
}

/** node-llama-cpp 3.21.1 internals that nativeSpeed() uses (pinned version; checked before use). */
interface SequenceInternals {
  _decodeTokens?: (
    tokens: Token[],
    logits: boolean[],
    evaluationPriority: number,
    tokenMeter: unknown,
    contextShiftOptions: unknown,
    logitDataMapper: () => null,
  ) => Promise<unknown>
  _tokenMeter?: unknown
  _contextShift?: unknown
}

/**
 * Evaluates tokens with logits for the last one only and no sampling (llama-bench's llama_batch_get_one).
 * Through `sequence._decodeTokens`, the call node-llama-cpp's generation loop (`_evaluate`) makes for every
 * token, so pp / tg pay node-llama-cpp's batching and thread-pool hand-off as generation does, but not
 * the per-call set-up of the public evaluate() (a native sampler created and disposed, a generator, locks:
 * measured +0.3 ms per token on bench-q4_0 when called once per token). Without that internal, the public
 * evaluate() with its `_noSampling` flag.
 */
function decoderOf(sequence: LlamaContextSequence): (tokens: Token[]) => Promise<void> {
  const internal = sequence as unknown as SequenceInternals
  const decodeTokens = internal._decodeTokens
  if (typeof decodeTokens === 'function' && internal._contextShift !== undefined)
    return async (tokens) => {
      const logits: boolean[] = []
      logits[tokens.length - 1] = true
      await decodeTokens.call(
        sequence,
        tokens,
        logits,
        5,
        internal._tokenMeter,
        internal._contextShift,
        () => null,
      )
    }
  const noSampling = { _noSampling: true } as SequenceEvaluateOptions
  return async (tokens) => {
    for await (const _ of sequence.evaluate(tokens, noSampling)) {
      // Nothing is yielded without sampling.
    }
  }
}

function samplingOptions(
  sampling: Sampling | undefined,
  defaultSeed: number,
  history: () => Token[],
): SequenceEvaluateOptions {
  const o: SequenceEvaluateOptions = { seed: sampling?.seed ?? defaultSeed }
  if (sampling?.temperature !== undefined) o.temperature = sampling.temperature
  if (sampling?.topK !== undefined) o.topK = sampling.topK
  if (sampling?.topP !== undefined) o.topP = sampling.topP
  const { repetitionPenalty, frequencyPenalty, presencePenalty } = sampling ?? {}
  if (repetitionPenalty !== undefined || frequencyPenalty !== undefined || presencePenalty !== undefined) {
    o.repeatPenalty = {
      punishTokens: () => history().slice(-PENALTY_WINDOW),
      maxPunishTokens: PENALTY_WINDOW,
      penalty: repetitionPenalty ?? 1,
      ...(frequencyPenalty !== undefined ? { frequencyPenalty } : {}),
      ...(presencePenalty !== undefined ? { presencePenalty } : {}),
    }
  }
  return o
}
