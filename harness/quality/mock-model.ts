/**
 * A LogprobsModel (harness/mock-server/model-logprobs.ts) made of a native engine on a model file, so the
 * mock's vllm personality serves /tokenize and echo + logprobs from a real model: quality measured through
 * the endpoint (top-k, approximate) can then be checked against the native path on the same file.
 *
 * - Distributions: the engine's own tokenLogProbs() on the sent ids (TokenLogProbsOptions.tokens), in two
 *   calls: the whole prompt with its default split (prefix floor(n/2) evaluated, the rest scored), whose rows
 *   are bit-identical to what the native path computes for the same llama-perplexity window (same engine,
 *   same evaluation order), and the first half again scored from position 0. Position 0 is read as BOS
 *   (the windows the harness sends start with it).
 * - Tokenizer: the model's own — llama-cpp: node-llama-cpp's tokenizer of the GGUF (vocabulary-only load;
 *   BOS first when the model asks for it, as the engine tokenizes a prompt); onnx: the fixtures' byte
 *   tokenizer (the onnx engine's `tokenizer: 'byte'`).
 * In the process that starts the mock (startMockServer with `internals.logprobsModel`; `bench mock-server
 * --personality vllm --logprobs-model <file>`); a scenario's `mock:` target (a worker thread, options only)
 * has no model.
 * @module
 */
import type { Engine } from '../engines/engine.ts'
import type { LogprobsModel } from '../mock-server/model-logprobs.ts'

export interface EngineLogprobsModelOptions {
  kind: 'llama-cpp' | 'onnx'
  /** A GGUF file (llama-cpp) or an ONNX decoder with the fixtures' byte vocabulary (onnx). */
  modelPath: string
  /** Engine threads. @default 1 (the native targets it is compared with should use the same) */
  threads?: number
  /** vLLM's max_model_len the mock reports and enforces. @default 2048 (the fixtures' training context) */
  maxModelLen?: number
}

interface Tokenizer {
  encode(text: string, addSpecial: boolean): number[]
  decode(ids: readonly number[]): string
  dispose(): Promise<void>
}

/** Starts the engine and the tokenizer; dispose both with `await using` or [Symbol.asyncDispose](). */
export async function createEngineLogprobsModel(
  options: EngineLogprobsModelOptions,
): Promise<LogprobsModel & AsyncDisposable> {
  const threads = options.threads ?? 1
  let engine: Engine
  let tokenizer: Tokenizer
  if (options.kind === 'llama-cpp') {
    const { createLlamaCppEngine } = await import('../engines/llama-cpp/llama-cpp.ts')
    engine = createLlamaCppEngine({ modelPath: options.modelPath, threads })
    tokenizer = await llamaCppTokenizer(options.modelPath)
  } else {
    const { createOnnxEngine } = await import('../engines/onnx/onnx.ts')
    const { createByteTokenizer } = await import('../engines/onnx/byte-tokenizer.ts')
    engine = createOnnxEngine({ modelPath: options.modelPath, intraOpNumThreads: threads })
    const bytes = createByteTokenizer()
    tokenizer = {
      encode: (text, special) => (special ? bytes.encodePrompt(text) : bytes.encodeContinuation(text)),
      decode: (ids) => bytes.decode(ids),
      dispose: async () => {},
    }
  }
  try {
    await engine.start()
  } catch (err) {
    await tokenizer.dispose()
    throw err
  }
  const tokenLogProbs = engine.tokenLogProbs?.bind(engine)
  if (!tokenLogProbs) throw new Error(`${options.kind} has no tokenLogProbs`)
  // The vocabulary size, from one short evaluation (the contract reports it with every window).
  const probe = tokenizer.encode('abcd', true)
  const vocabSize = (await tokenLogProbs('', { contextTokens: probe.length, window: 0, tokens: probe }))
    .vocabSize

  return {
    vocabSize,
    maxModelLen: options.maxModelLen ?? 2048,
    tokenize: async (text, addSpecial) => tokenizer.encode(text, addSpecial),
    decode: (ids) => tokenizer.decode(ids),
    async promptLogProbs(ids) {
      const n = ids.length
      const rows = new Float32Array((n - 1) * vocabSize)
      const tail = await tokenLogProbs('', { contextTokens: n, window: 0, tokens: ids })
      const h = tail.firstScored
      rows.set(tail.logProbs, h * vocabSize)
      // Rows 0 … h − 1 (after ids[0 … h − 1]) from the prefix of h + 1 ids scored from 0; the engines' smallest
      // window is 4 tokens, below which the whole prompt is scored from 0 instead.
      const head =
        h + 1 >= 4
          ? await tokenLogProbs('', {
              contextTokens: h + 1,
              window: 0,
              tokens: ids.slice(0, h + 1),
              firstScored: 0,
            })
          : await tokenLogProbs('', { contextTokens: n, window: 0, tokens: ids, firstScored: 0 })
      rows.set(head.logProbs.subarray(0, h * vocabSize), 0)
      return rows
    },
    async [Symbol.asyncDispose]() {
      try {
        await engine[Symbol.asyncDispose]()
      } finally {
        await tokenizer.dispose()
      }
    },
  }
}

/** node-llama-cpp's tokenizer of a GGUF, loaded vocabulary-only (no weights), BOS as the engine adds it. */
async function llamaCppTokenizer(modelPath: string): Promise<Tokenizer> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp')
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
  const model = await llama.loadModel({ modelPath, vocabOnly: true })
  return {
    encode(text, special) {
      const tokens = model.tokenize(text) as number[]
      const bos = model.tokens.bos
      return special && model.tokens.shouldPrependBosToken && bos != null ? [bos, ...tokens] : tokens
    },
    decode: (ids) => model.detokenize(ids as Parameters<typeof model.detokenize>[0], true),
    async dispose() {
      await model.dispose()
      await llama.dispose()
    },
  }
}
