/**
 * The llama-cpp engine's definition (GGUF models through node-llama-cpp): its scenario config and how a
 * target becomes an engine. Light on purpose: node-llama-cpp loads when an engine is created (llama-cpp.ts).
 * @module
 */
import { z } from 'zod'
import { defineEngine, type IsolateSupport } from '../definition.ts'
import { createNative, isolateField, modelFile } from '../native/native-target.ts'

const positiveInt = z.number().int().positive()

const llamaCppConfigSchema = z
  .object({
    kind: z.literal('llama-cpp'),
    /** Path of the .gguf model file; a relative path resolves against the working directory (process.cwd()). */
    model: z.string().min(1),
    /** CPU threads per evaluation. @default max(1, physical cores − 1), physical cores ≈ availableParallelism / 2 */
    threads: positiveInt.optional(),
    /**
     * Layers offloaded to a GPU: a count, 'auto' (what fits) or 'max'. Unset or 0 loads the CPU backend only;
     * anything else lets node-llama-cpp pick a prebuilt GPU backend if the machine has one. @default CPU only
     */
    gpuLayers: z.union([z.number().int().min(0), z.enum(['auto', 'max'])]).optional(),
    /** Context per sequence, tokens (llama.cpp may round it up). @default min(4096, the model's training context) */
    contextSize: positiveInt.optional(),
    /**
     * Tokens per decode call while processing the prompt; node-llama-cpp 3.21 uses it as llama.cpp's n_ubatch
     * too (llama-bench `-b N -ub N`). @default node-llama-cpp's: min(512, contextSize)
     */
    batchSize: positiveInt.optional(),
    /**
     * Flash attention: true, false or 'auto' (llama.cpp enables it when the model and device support it, as
     * llama-bench's and llama-server's default `-fa auto` does). @default 'auto' (node-llama-cpp's default)
     */
    flashAttention: z.union([z.boolean(), z.literal('auto')]).optional(),
    /** Memory-map the model file (false: read it into allocated memory). @default true where supported */
    useMmap: z.boolean().optional(),
    /** Lock the model's pages in RAM (mlock) so they are never swapped out. @default false */
    useMlock: z.boolean().optional(),
    /**
     * CPUs the engine's process may run on (Linux, `taskset -a`; applied by the isolate to every thread of the
     * child before the model loads; ignored in-process), e.g. [1]. With 1 thread and 1 sequence, one CPU keeps
     * node-llama-cpp's per-token hand-offs between its event loop and its pool thread on one core.
     * @default unset: the OS places the threads
     */
    cpus: z.array(z.number().int().min(0)).min(1).optional(),
    /** Sequences decoded together in one context; further requests wait in FIFO order. @default 1 */
    parallel: positiveInt.optional(),
    /** Sampling seed for requests without sampling.seed (only matters with temperature > 0). @default 0 */
    seed: z.number().int().optional(),
    isolate: isolateField,
  })
  .strict()

type LlamaCppConfig = z.output<typeof llamaCppConfigSchema>

/** What the engine gets: the config's engine fields, the model as an absolute path (`modelPath`). */
export type LlamaCppEngineOptions = Omit<LlamaCppConfig, 'kind' | 'model' | 'isolate'> & {
  /** Path of the .gguf file (absolute, or relative to process.cwd()). */
  modelPath: string
}

/** How the isolate hosts it (isolate/). */
const isolate: IsolateSupport<LlamaCppEngineOptions> = {
  module: import.meta.url,
  load: async (options: LlamaCppEngineOptions) =>
    (await import('./llama-cpp.ts')).createLlamaCppEngine(options),
  modelPath: (options) => options.modelPath,
  cpus: (options) => options.cpus,
  /**
   * A libuv thread pool sized to the engine's concurrency. node-llama-cpp runs each decode as an async
   * task on that pool, and with Node's default of 4 threads consecutive decodes land on different threads,
   * so the compute starts on cold caches (and often another core) at every token: measured on the 2-vCPU
   * dev box, decode ran 3–5 % slower that way than with one pool thread (npm run bench:native, f32 and
   * q4_0). With `parallel` sequences there is a thread per sequence, so their async tasks do not queue
   * behind one another. A UV_THREADPOOL_SIZE the user set is left alone.
   */
  childEnv: (options) => ({ UV_THREADPOOL_SIZE: String(options.parallel ?? 1) }),
}

export const llamaCppEngine = defineEngine({
  kind: 'llama-cpp',
  schema: llamaCppConfigSchema,
  variantFormat: 'gguf',
  capabilities: {
    logprobs: true,
    scoreChoices: true,
    tokenize: true,
    memory: true,
    draft: false,
    tokenLogProbs: true,
    nativeSpeed: true,
    micro: true,
  },
  async create(config) {
    const { kind: _kind, model, isolate: _isolate, ...rest } = config
    const options: LlamaCppEngineOptions = { ...rest, modelPath: modelFile(model) }
    return await createNative('llama-cpp', isolate, config, options)
  },
  isolate,
})
