/**
 * The onnx engine's definition (causal-LM ONNX decoders through onnxruntime-node): its scenario config and
 * how a target becomes an engine. Light on purpose: onnxruntime and tokenizers load when an engine is
 * created (onnx.ts).
 * @module
 */
import { resolve } from 'node:path'
import { z } from 'zod'
import { defineEngine, type IsolateSupport } from '../definition.ts'
import { createNative, isolateField, modelFile } from '../native/native-target.ts'

const onnxConfigSchema = z
  .object({
    kind: z.literal('onnx'),
    /** Path of the .onnx decoder (Optimum layout); a relative path resolves against the working directory. */
    model: z.string().min(1),
    /**
     * 'byte': the fixtures' byte vocabulary (ids 0 unk, 1 BOS, 2 EOS, 3 + b for byte b); or the path of the
     * model's Hugging Face tokenizer.json (its tokenizer_config.json and generation_config.json beside it are
     * read too); a relative path resolves against the working directory. @default 'byte'
     */
    tokenizer: z
      .union([
        z.literal('byte'),
        z.string().regex(/\.json$/i, "must be 'byte' or the path of a tokenizer.json"),
      ])
      .optional(),
    /** onnxruntime execution providers, in order of preference, passed through. @default ['cpu'] */
    executionProviders: z.array(z.string().min(1)).min(1).optional(),
    /** Threads inside one operator. @default max(1, physical cores − 1), physical cores ≈ availableParallelism / 2 */
    intraOpNumThreads: z.number().int().positive().optional(),
    /** Reuse present.* as past_key_values.* between steps (KV cache) when the graph has cache inputs. @default true */
    useCache: z.boolean().optional(),
    /** Sampling seed for requests without sampling.seed (only matters with temperature > 0). @default 0 */
    seed: z.number().int().optional(),
    isolate: isolateField,
  })
  .strict()

type OnnxConfig = z.output<typeof onnxConfigSchema>

/** What the engine gets: the config's engine fields with the model and tokenizer paths made absolute. */
export type OnnxEngineOptions = Omit<OnnxConfig, 'kind' | 'model' | 'isolate' | 'tokenizer'> & {
  /** Path of the .onnx file (absolute, or relative to process.cwd()). */
  modelPath: string
  /** 'byte' or the path of a tokenizer.json (absolute, or relative to process.cwd()). @default 'byte' */
  tokenizer?: string
}

/** How the isolate hosts it (isolate/). */
const isolate: IsolateSupport<OnnxEngineOptions> = {
  module: import.meta.url,
  load: async (options) => (await import('./onnx.ts')).createOnnxEngine(options),
  modelPath: (options) => options.modelPath,
}

export const onnxEngine = defineEngine({
  kind: 'onnx',
  schema: onnxConfigSchema,
  variantFormat: 'onnx',
  capabilities: {
    logprobs: true,
    scoreChoices: true,
    tokenize: true,
    memory: false,
    draft: false,
    tokenLogProbs: true,
    nativeSpeed: false,
    micro: true,
  },
  async create(config) {
    const { kind: _kind, model, isolate: _isolate, tokenizer, ...rest } = config
    const options: OnnxEngineOptions = {
      ...rest,
      modelPath: modelFile(model),
      ...(tokenizer !== undefined ? { tokenizer: tokenizer === 'byte' ? 'byte' : resolve(tokenizer) } : {}),
    }
    return await createNative('onnx', isolate, config, options)
  },
  isolate,
})
