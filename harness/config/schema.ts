/**
 * Scenario schema: what a scenario file may say. Scenarios are data (scenarios/*.ts export
 * `defineScenario({...})`); this file is the single source of their shape and defaults.
 * @module
 */
import { z } from 'zod'
import type { ConfigInputOf, ConfigOf, EngineConfigSchema, EngineDefinition } from '../engines/definition.ts'
import {
  type BuiltinEngine,
  engineDefinition,
  engineDefinitions,
  registryVersion,
} from '../engines/registry.ts'
import { microLoadSchema } from '../micro/schema.ts'
import { type MockOptions, type MockOptionsInput, mockOptionsSchema } from '../mock-server/options.ts'
import { isServerMetricsMode, SERVER_METRICS_MODE_MESSAGE } from '../server-metrics/endpoint.ts'

const positiveInt = z.number().int().positive()

/** A token count: fixed, or drawn from a normal distribution (rounded, clamped to [min, max]). */
export const lengthSchema = z.union([
  positiveInt,
  z
    .object({
      mean: z.number().positive(),
      sd: z.number().min(0),
      min: positiveInt.optional(),
      max: positiveInt.optional(),
    })
    .strict(),
])
export type LengthSpec = z.infer<typeof lengthSchema>

export const promptSourceSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('synthetic'),
      /** Prompt length in (approximate) tokens: one common English word ≈ one token. */
      promptTokens: lengthSchema,
      /** Output length requested with max_tokens (and min_tokens/ignore_eos when fixedOutputLength). */
      outputTokens: lengthSchema,
      /**
       * Distinct prompts, then repeated in order (the same text in every run: a server's prompt cache may
       * then answer them). Absent: every request of every run gets a prompt of its own.
       */
      count: positiveInt.optional(),
      /** Words every prompt starts with, the same for all: a shared prefix a server may cache. @default 0 */
      sharedPrefixTokens: z.number().int().min(0).optional(),
      /**
       * N prefixes × the requests of each (vLLM prefix_repetition, AIPerf shared-prefix): request i starts
       * with prefix i mod `prefixes` (`prefixTokens` words, new each run, shared within it), then words of
       * its own; promptTokens is the whole length, at least prefixTokens + 1.
       */
      sharedPrefix: z
        .object({ prefixes: positiveInt.max(100_000), prefixTokens: positiveInt.max(1 << 20) })
        .strict()
        .optional(),
    })
    .strict()
    .superRefine((p, ctx) => {
      if (p.sharedPrefix !== undefined && p.sharedPrefixTokens !== undefined)
        ctx.addIssue({
          code: 'custom',
          message: 'give sharedPrefix (N groups) or sharedPrefixTokens (one prefix for all), not both',
          path: ['sharedPrefix'],
          input: undefined,
        })
    }),
  z
    .object({
      kind: z.literal('jsonl'),
      /** One JSON object per line: `{ "prompt": "…" }` or `{ "messages": [...] }`, optional `"outputTokens": n`. Relative paths resolve against the scenario file. */
      path: z.string().min(1),
      /** Used when a line gives no outputTokens. @default 128 */
      outputTokens: positiveInt.default(128),
    })
    .strict(),
  z
    .object({
      kind: z.literal('sharegpt'),
      /**
       * A ShareGPT JSON array, `[{ "conversations": [{ "from": "human" | "gpt" | "system", "value" }] }]`.
       * Relative paths resolve against the scenario file.
       */
      path: z.string().min(1),
      /** `first`: each conversation's first human turn; `all`: every human turn, with the turns before it. @default 'first' */
      turns: z.enum(['first', 'all']).default('first'),
      /** Fixed output length; absent: the gpt answer's length in words. */
      outputTokens: positiveInt.optional(),
    })
    .strict(),
])
export type PromptSourceSpec = z.infer<typeof promptSourceSchema>

const limits = {
  /** Stop after this many measured requests. */
  requests: positiveInt.optional(),
  /** Stop scheduling after this many seconds (in-flight requests finish). */
  durationS: z.number().positive().optional(),
}
const hasLimit = (l: { requests?: number | undefined; durationS?: number | undefined }) =>
  l.requests !== undefined || l.durationS !== undefined
const limitMessage = { message: 'give requests or durationS (or both) so the load ends', path: ['requests'] }

const sequentialLoad = z
  .object({ kind: z.literal('sequential'), ...limits })
  .strict()
  .refine(hasLimit, limitMessage)
const concurrentLoad = z
  .object({
    kind: z.literal('concurrent'),
    /** Requests kept in flight (closed loop). */ concurrency: positiveInt,
    /**
     * Spreads the workers' first requests evenly over this many ms (worker i of N starts at i·rampUpMs/N),
     * so N streams do not start, and stay, in lockstep with every chunk arriving in one burst (k6 ramping
     * VUs, Locust spawn rate). Counts toward durationS. ms. @default 0 (all start at once)
     */
    rampUpMs: z.number().min(0).optional(),
    ...limits,
  })
  .strict()
  .refine(hasLimit, limitMessage)
const openLoop = {
  /** Mean arrival rate, requests per second. */
  ratePerS: z.number().positive(),
  /** Arrivals while this many are in flight are dropped and counted. @default 1000 */
  maxInFlight: positiveInt.default(1000),
  ...limits,
}
const constantRateLoad = z
  .object({ kind: z.literal('constant-rate'), ...openLoop })
  .strict()
  .refine(hasLimit, limitMessage)
const poissonLoad = z
  .object({
    kind: z.literal('poisson'),
    ...openLoop,
    /** Gamma shape γ of inter-arrival times: 1 = Poisson, < 1 burstier, > 1 smoother. @default 1 */
    burstiness: z.number().positive().default(1),
  })
  .strict()
  .refine(hasLimit, limitMessage)

/**
 * Replay of a Mooncake-style JSONL trace (harness/load/trace.ts): each line `{timestamp (ms), input_length,
 * output_length, hash_ids?}` is one request sent at its scaled timestamp, with a synthetic prompt of its
 * input_length words and its output_length. Needs no `prompts`: the trace gives the lengths.
 */
const traceLoad = z
  .object({
    kind: z.literal('trace'),
    /** The JSONL trace; relative paths resolve against the scenario file. */
    path: z.string().min(1),
    /** Replay speed: 10 sends a trace recorded over 100 s in 10 s. @default 1 */
    timeScale: z.number().positive().default(1),
    /** Tokens (words) per hash_ids block: lines sharing a block id share that block's text. @default 512 (Mooncake) */
    hashBlockTokens: positiveInt.default(512),
    /** A trace replaying more lines is refused (bounded loads): raise it to replay more. @default 10000 */
    maxLines: positiveInt.default(10_000),
    /** A replay spanning more than this (scaled) is refused: raise it to replay longer. s. @default 600 */
    maxDurationS: z.number().positive().default(600),
    /** Replay only the first N lines. */
    requests: positiveInt.optional(),
    /** Replay only the lines whose scaled offset is below this. s. */
    durationS: z.number().positive().optional(),
  })
  .strict()

export const stepLoadSchema = z.discriminatedUnion('kind', [
  sequentialLoad,
  concurrentLoad,
  constantRateLoad,
  poissonLoad,
  traceLoad,
])
export const loadSchema = z.discriminatedUnion('kind', [
  sequentialLoad,
  concurrentLoad,
  constantRateLoad,
  poissonLoad,
  traceLoad,
  z.object({ kind: z.literal('sweep'), loads: z.array(stepLoadSchema).min(1) }).strict(),
  // tinybench micro tasks on native engines, one run per target (harness/micro/README.md); no prompts.
  microLoadSchema,
])
export type LoadConfig = z.infer<typeof loadSchema>
export type StepLoadConfig = z.infer<typeof stepLoadSchema>

export const samplingSchema = z
  .object({
    temperature: z.number().min(0).optional(),
    topP: z.number().gt(0).max(1).optional(),
    topK: positiveInt.optional(),
    seed: z.number().int().optional(),
    stop: z.array(z.string()).optional(),
    presencePenalty: z.number().optional(),
    frequencyPenalty: z.number().optional(),
    repetitionPenalty: z.number().positive().optional(),
  })
  .strict()

/** The openai engine's HTTP clients, re-exported for the CLI's choices (harness/cli/choices.ts). */
export { DEFAULT_OPENAI_CLIENT, OPENAI_CLIENTS, type OpenAIClient } from '../engines/openai/definition.ts'

/**
 * A target's engine config: its definition's config, plus `mock` (the built-in mock server's options)
 * for engines that accept one (EngineDefinition.acceptsMock) — the runner starts that mock, not the engine.
 */
type TargetEngineConfig<D> = D extends { readonly acceptsMock?: true }
  ? ConfigOf<D> & { mock?: MockOptions }
  : ConfigOf<D>
type TargetEngineInput<D> = D extends { readonly acceptsMock?: true }
  ? ConfigInputOf<D> & { mock?: MockOptionsInput }
  : ConfigInputOf<D>

/** A validated engine config (built-in kinds; a kind added with registerEngine validates by its own schema). */
export type EngineConfig = TargetEngineConfig<BuiltinEngine>
/** What a scenario file may write as a target's engine. */
export type EngineConfigInput = TargetEngineInput<BuiltinEngine>

/** One definition's schema as a target's `engine` field: with `mock` when it accepts one. */
function targetEngineSchema(definition: EngineDefinition): EngineConfigSchema {
  if (!definition.acceptsMock) return definition.schema
  return definition.schema
    .extend({ mock: mockOptionsSchema.optional() })
    .refine(
      (e: { baseUrl?: unknown; mock?: unknown }) => (e.baseUrl === undefined) !== (e.mock === undefined),
      {
        message: 'give exactly one of baseUrl (a real endpoint) or mock (the built-in mock server)',
        path: ['baseUrl'],
      },
    ) as unknown as EngineConfigSchema
}

let union: { version: number; schema: z.ZodType } | undefined

/** Every registered definition's schema discriminated by `kind`, rebuilt when registerEngine() added one. */
function registeredEngines(): z.ZodType {
  if (union?.version !== registryVersion()) {
    const [first, ...rest] = engineDefinitions().map(targetEngineSchema)
    union = { version: registryVersion(), schema: z.discriminatedUnion('kind', [first!, ...rest]) }
  }
  return union.schema
}

/**
 * A target's `engine`: validated by the schema of the registered definition its `kind` names (an unknown
 * kind is an error listing the registered kinds). Looked up at each parse, so a kind registered after this
 * module loaded validates too.
 */
export const engineSchema = z.unknown().transform((value, ctx) => {
  const result = registeredEngines().safeParse(value, { reportInput: true })
  if (result.success) return result.data
  for (const issue of result.error.issues) ctx.addIssue(issue as z.core.$ZodRawIssue)
  return z.NEVER
}) as unknown as z.ZodType<EngineConfig, EngineConfigInput>

/**
 * llama-bench-style pp / tg of a native target (METRICS.md promptTokensPerS / genTokensPerS): llama-bench's
 * `-p`, `-n`, `-r`, `-d`. Measured once per target after the model loads; stored with every run of it.
 */
export const nativeSpeedSchema = z
  .object({
    /** Prompt tokens evaluated as one batch from an empty context (llama-bench `-p`); 0 skips pp. @default 512 */
    pp: z.number().int().min(0).default(512),
    /** Tokens decoded one at a time from an empty context (llama-bench `-n`); 0 skips tg. @default 128 */
    tg: z.number().int().min(0).default(128),
    /** Timed repetitions of each test (llama-bench `-r`). @default 5 */
    repetitions: positiveInt.default(5),
    /** Tokens already in the context before each timed test, untimed (llama-bench `-d`). @default 0 */
    depth: z.number().int().min(0).default(0),
  })
  .strict()
export type NativeSpeedConfig = z.infer<typeof nativeSpeedSchema>

/** What model variant a target serves, for leaderboards and comparability (remote endpoints cannot tell). */
export const variantSchema = z
  .object({
    name: z.string().min(1),
    family: z.string().optional(),
    /** @default 'base' */
    method: z.enum(['base', 'quantized', 'pruned', 'distilled']).default('base'),
    /** Q4_K_M, Q8_0, AWQ-INT4, GPTQ-INT4, FP8-E4M3, INT8 … */
    quantLabel: z.string().optional(),
    /** Bits per weight. */
    bits: z.number().positive().optional(),
    /** Name of the variant this one derives from. */
    parent: z.string().optional(),
  })
  .strict()
export type VariantConfig = z.infer<typeof variantSchema>

/** Highest price/hour a serving identity may declare, US dollars (far above any machine; catches unit slips). */
export const MAX_SERVING_USD_PER_HOUR = 100_000

/**
 * The machine an endpoint target is served from, for procurement (dashboard /procurement): bench runs on a
 * client machine, so for an `openai` target the run's environment is the client, not the server, and is
 * never priced for it. Native engines (llama-cpp, onnx) run on the machine that runs bench: their serving
 * machine is the run's environment, priced on the dashboard. Stored with each run (in its scenario); not
 * part of any hash or fingerprint: it describes and prices the server, it does not change the requests.
 */
export const servingSchema = z
  .object({
    /** What serves the endpoint, in words: `AWS p5.48xlarge`, `on-prem 8×H100 node`. */
    hardware: z
      .string()
      .trim()
      .max(200)
      .refine((s) => s !== '', 'describe the serving machine, e.g. hardware: "AWS g6.xlarge"'),
    /** GPU model: `NVIDIA L4`, `H100 SXM 80GB`; absent for a CPU-only server. */
    gpu: z
      .string()
      .trim()
      .max(200)
      .refine((s) => s !== '', 'name the GPU model, e.g. gpu: "NVIDIA L4", or leave gpu out')
      .optional(),
    /** GPUs serving this endpoint (shown as `2× NVIDIA L4`, or `2 GPUs` without gpu). */
    gpuCount: positiveInt.max(1024).optional(),
    /** What an hour of this serving machine costs, US dollars per hour (> 0). Absent: listed unpriced. */
    pricePerHour: z.number().positive().max(MAX_SERVING_USD_PER_HOUR).optional(),
  })
  .strict()
export type ServingConfig = z.infer<typeof servingSchema>

export const targetSchema = z
  .object({
    /** Unique within the scenario; [A-Za-z0-9._-]. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"'),
    engine: engineSchema,
    variant: variantSchema.optional(),
    /**
     * Also measure llama-bench-style pp / tg of this target (engines whose definition has the nativeSpeed
     * capability: llama-cpp), once after its model loads.
     * Not part of any fingerprint: it adds figures, it does not change the requests' measurements.
     */
    nativeSpeed: nativeSpeedSchema.optional(),
    /** The machine serving an endpoint target (engines with variantFormat 'remote': openai). */
    serving: servingSchema.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.serving !== undefined && engineDefinition(t.engine.kind)?.variantFormat !== 'remote')
      ctx.addIssue({
        code: 'custom',
        message: `a ${t.engine.kind} target is served by the machine that runs bench (its environment): remove serving and price that environment on the dashboard's procurement page; serving describes a remote endpoint (openai targets)`,
        path: ['serving'],
        input: undefined,
      })
    if (t.nativeSpeed === undefined || engineDefinition(t.engine.kind)?.capabilities.nativeSpeed) return
    const kinds = engineDefinitions().filter((d) => d.capabilities.nativeSpeed)
    ctx.addIssue({
      code: 'custom',
      message: `only ${kinds.map((d) => d.kind).join(', ')} targets measure nativeSpeed`,
      path: ['nativeSpeed'],
    })
  })
export type TargetConfig = z.infer<typeof targetSchema>

/**
 * What a scenario measures on each target: load runs (its `loads`), an accuracy evaluation, quality against
 * a reference target (KLD, top-1 agreement), in any combination.
 */
export const MEASURES = ['latency', 'accuracy', 'quality'] as const
export type Measure = (typeof MEASURES)[number]

/**
 * An MMLU-style accuracy evaluation (METRICS.md "Accuracy"; harness/accuracy/README.md), run once per
 * target after its load steps, as a run of its own (`load_kind` 'accuracy').
 */
export const accuracySchema = z
  .object({
    /**
     * The dataset: a directory in the MMLU CSV layout (`dev/ val/ test/` holding `{subject}_{split}.csv`)
     * or a JSONL file (`{subject, question, choices, answer}` per line). Relative paths resolve against the
     * scenario file.
     */
    dataset: z.string().min(1),
    /** @default 'jsonl' for a path ending in .jsonl, else 'mmlu-csv' */
    format: z.enum(['mmlu-csv', 'jsonl']).optional(),
    /** The split scored; shots always come from `dev`. @default 'test' */
    split: z.enum(['dev', 'val', 'test']).default('test'),
    /** Dev examples before each item (lm-eval's first k of the subject's dev split). @default 5 */
    shots: z.number().int().min(0).default(5),
    /** Items per subject (lm-eval's `--limit`); all when absent. */
    limitPerSubject: positiveInt.optional(),
    /** Subjects to score (names as in the files, underscores kept); all when absent. */
    subjects: z.array(z.string().min(1)).min(1).optional(),
    /**
     * `mmlu`: lm-eval's MMLU prompt (lettered choices, continuations " A" … " D"). `mmlu-continuation`:
     * lm-eval's mmlu_continuation (choices unlisted, each choice's text scored as the answer; reports acc and
     * acc_norm, length-normalized). mmlu-continuation needs `scoring: 'loglik'`. @default 'mmlu'
     */
    prompt: z.enum(['mmlu', 'mmlu-continuation']).default('mmlu'),
    /** `first`: the first limitPerSubject items in file order (lm-eval); `shuffle`: a seeded sample. @default 'first' */
    order: z.enum(['first', 'shuffle']).default('first'),
    /**
     * `loglik`: argmax of log P(" A") … after the prompt (engines with scoreChoices); an engine that cannot
     * score fails the run with its reason, never a chance-level figure. `generate`: ≤ 5 tokens at
     * temperature 0, the first line's letter. `auto`: loglik where the engine can score, else generate, with
     * a notice saying why. @default 'auto'
     */
    scoring: z.enum(['loglik', 'generate', 'auto']).default('auto'),
    /**
     * Items scored at once (after the first, which decides the scoring). A native engine needs as many
     * sequences (`parallel`); an endpoint as many slots. Not part of the fingerprint: it changes how long the
     * evaluation takes, not what is asked (a batched native evaluation may move scores in the last digits).
     * @default 1
     */
    concurrency: positiveInt.default(1),
    /** Seed of `order: 'shuffle'`. @default the scenario's seed */
    seed: z.number().int().optional(),
  })
  .strict()
export type AccuracyConfig = z.infer<typeof accuracySchema>

/**
 * Quality of each target against a reference target over a text corpus (METRICS.md "Quality relative to a
 * reference variant"; harness/quality/README.md): llama-perplexity --kl-divergence's windows and figures,
 * from the full next-token distributions of native engines (tokenLogProbs), as a run of its own per target
 * (`load_kind` 'quality').
 */
export const qualitySchema = z
  .object({
    /** A UTF-8 text file; relative paths resolve against the scenario file. */
    corpus: z.string().min(1),
    /** The name of the target every target is compared with (one of `targets`); measured first. */
    reference: z.string().min(1),
    /** Scored tokens at most (whole windows; fewer when the corpus is shorter). @default 2048 */
    maxTokens: positiveInt.default(2048),
    /**
     * Tokens per window (llama-perplexity `-c`): the corpus is cut into non-overlapping windows, each
     * evaluated from an empty context with BOS first, and its second half scored
     * (contextTokens − 1 − floor(contextTokens / 2) positions per window). @default 512
     */
    contextTokens: z.number().int().min(4).default(512),
  })
  .strict()
export type QualityConfig = z.infer<typeof qualitySchema>

export const sloSchema = z
  .object({
    ttftMs: z.number().positive().optional(),
    tpotMs: z.number().positive().optional(),
    e2eMs: z.number().positive().optional(),
  })
  .strict()

export const scenarioSchema = z
  .object({
    /** Database key of the scenario: lower-case letters, digits and '-'. */
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and "-", e.g. "chat-short"'),
    description: z.string().optional(),
    /** Seed of prompts and arrival times. @default 1 */
    seed: z.number().int().default(1),
    /** What the load runs send; required when `measure` has 'latency' (the accuracy run asks its dataset). */
    prompts: promptSourceSchema.optional(),
    targets: z.array(targetSchema).min(1, 'add at least one target'),
    /** Load runs, in order; required when `measure` has 'latency'. @default [] */
    loads: z.array(loadSchema).default([]),
    /** Requests sent before each load and excluded from all statistics. @default 2 */
    warmupRequests: z.number().int().min(0).default(2),
    /** A request still unfinished after this long is aborted and recorded as `timeout`. ms. @default 60000 */
    requestTimeoutMs: positiveInt.default(60_000),
    /** Ask for exactly the requested output length (min_tokens + ignore_eos). @default true */
    fixedOutputLength: z.boolean().default(true),
    sampling: samplingSchema.default({ temperature: 0 }),
    /** Bounds for goodput. */
    slo: sloSchema.optional(),
    /**
     * Error-rate threshold of each run (k6's `http_req_failed: ['rate<0.01']`): a run whose errorRate
     * (errors / attempted; requests aborted by Ctrl-C excluded) is above it is marked failed, with the
     * error kinds and counts, and `bench run` exits 1. Exactly at it passes. `bench run --max-error-rate`
     * overrides it. Not part of the scenario hash: it judges the measurements, it does not change them.
     * ratio in [0, 1]. @default DEFAULT_MAX_ERROR_RATE (0.01 = 1 %)
     */
    maxErrorRate: z.number().min(0).max(1).optional(),
    /**
     * The serving engine's Prometheus /metrics around each load run (harness/server-metrics/README.md):
     * `auto` reads `<baseUrl origin>/metrics` of endpoint targets (nothing for native engines), `off` reads
     * none, a URL is read for every target (with the target's auth headers only on its own origin). Absent,
     * slow (2 s) or malformed never fails a run: the run stores why. `bench run --server-metrics` overrides
     * it. Not part of the scenario hash: reading them does not change what is measured. @default 'auto'
     */
    serverMetrics: z.string().refine(isServerMetricsMode, SERVER_METRICS_MODE_MESSAGE).optional(),
    /**
     * What to measure on every target: `latency` runs the loads, `accuracy` the evaluation `accuracy`
     * describes (after the loads). Not part of the scenario hash: latency runs measure the same with or
     * without an accuracy run beside them. @default ['latency']
     */
    measure: z
      .array(z.enum(MEASURES))
      .min(1, 'name at least one of "latency", "accuracy", "quality"')
      .default(['latency']),
    /** The accuracy evaluation; required when `measure` has 'accuracy'. Not part of the scenario hash. */
    accuracy: accuracySchema.optional(),
    /** Quality against a reference target; required when `measure` has 'quality'. Not part of the scenario hash. */
    quality: qualitySchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.measure.includes('latency')) {
      // A trace replay takes its lengths from the trace, micro tasks their own sizes: prompts are needed
      // only by the other loads.
      const steps = s.loads.flatMap((l) => (l.kind === 'sweep' ? l.loads : [l]))
      if (
        s.prompts === undefined &&
        (steps.length === 0 || steps.some((l) => l.kind !== 'trace' && l.kind !== 'micro'))
      )
        ctx.addIssue({
          code: 'custom',
          message:
            "required to measure latency: add prompts (e.g. { kind: 'synthetic', promptTokens: 256, outputTokens: 128 }), or measure: ['accuracy'] only",
          path: ['prompts'],
          input: undefined,
        })
      if (s.loads.length === 0)
        ctx.addIssue({ code: 'custom', message: 'add at least one load', path: ['loads'], input: undefined })
    }
    if (s.measure.includes('accuracy') && s.accuracy === undefined)
      ctx.addIssue({
        code: 'custom',
        message:
          "measure has 'accuracy' but no accuracy evaluation is described: add accuracy: { dataset: 'path/to/mmlu' }",
        path: ['accuracy'],
        input: undefined,
      })
    if (s.accuracy !== undefined && !s.measure.includes('accuracy'))
      ctx.addIssue({
        code: 'custom',
        message: "accuracy is described but not measured: add 'accuracy' to measure, or remove accuracy",
        path: ['measure'],
        input: undefined,
      })
    if (s.accuracy?.prompt === 'mmlu-continuation' && s.accuracy.scoring !== 'loglik')
      ctx.addIssue({
        code: 'custom',
        message: `prompt 'mmlu-continuation' scores each choice's text by log-likelihood: set scoring: 'loglik' (got '${s.accuracy.scoring}')`,
        path: ['accuracy', 'scoring'],
        input: undefined,
      })
    if (s.measure.includes('quality') && s.quality === undefined)
      ctx.addIssue({
        code: 'custom',
        message:
          "measure has 'quality' but no quality measurement is described: add quality: { corpus: 'path/to/text.txt', reference: '<target name>' }",
        path: ['quality'],
        input: undefined,
      })
    if (s.quality !== undefined && !s.measure.includes('quality'))
      ctx.addIssue({
        code: 'custom',
        message: "quality is described but not measured: add 'quality' to measure, or remove quality",
        path: ['measure'],
        input: undefined,
      })
    if (s.quality !== undefined && !s.targets.some((t) => t.name === s.quality?.reference))
      ctx.addIssue({
        code: 'custom',
        message: `no target is named "${s.quality.reference}": set reference to one of ${s.targets.map((t) => `"${t.name}"`).join(', ')}`,
        path: ['quality', 'reference'],
        input: s.quality.reference,
      })
    if (s.quality !== undefined && s.measure.includes('quality')) {
      const native = engineDefinitions().filter((d) => d.capabilities.tokenLogProbs)
      s.targets.forEach((t, i) => {
        const can = engineDefinition(t.engine.kind)?.capabilities
        if (can?.tokenLogProbs) return
        // An endpoint's top-k lists (approximate) are compared with a native reference's full distributions.
        if (can?.topKLogProbs && t.name !== s.quality?.reference) return
        ctx.addIssue({
          code: 'custom',
          message: can?.topKLogProbs
            ? `the quality reference needs the full next-token distributions that only ${native.map((d) => d.kind).join(', ')} engines give; a ${t.engine.kind} target gives top-k lists only: make a native target the reference`
            : `quality needs the full next-token distributions that only ${native.map((d) => d.kind).join(', ')} engines give (or an endpoint's top-k lists); ${t.engine.kind} targets cannot be measured: remove 'quality' from measure or this target`,
          path: ['targets', i, 'engine', 'kind'],
          input: t.engine.kind,
        })
      })
    }
    const micro = s.loads.findIndex((l) => l.kind === 'micro')
    if (micro >= 0 && s.measure.includes('latency'))
      s.targets.forEach((t, i) => {
        if (engineDefinition(t.engine.kind)?.capabilities.micro) return
        const kinds = engineDefinitions().filter((d) => d.capabilities.micro)
        ctx.addIssue({
          code: 'custom',
          message: `loads[${micro}] is a micro load: it runs on ${kinds.map((d) => d.kind).join(', ')} engines (tinybench next to the engine); ${t.engine.kind} targets cannot: remove this target or the micro load`,
          path: ['targets', i, 'engine', 'kind'],
          input: t.engine.kind,
        })
      })
    if (new Set(s.measure).size !== s.measure.length)
      ctx.addIssue({ code: 'custom', message: 'names a measure twice', path: ['measure'], input: s.measure })
    const seen = new Set<string>()
    s.targets.forEach((t, i) => {
      if (seen.has(t.name))
        ctx.addIssue({
          code: 'custom',
          message: `duplicate target name "${t.name}"`,
          path: ['targets', i, 'name'],
        })
      seen.add(t.name)
    })
  })

/**
 * maxErrorRate of a scenario that sets none: 1 %, the threshold k6's documentation shows
 * (`http_req_failed: ['rate<0.01']`). A stray failure in a few hundred requests passes; anything
 * systematic (a client losing half its requests) fails. A run under 100 requests fails on any error.
 */
export const DEFAULT_MAX_ERROR_RATE = 0.01

/** A validated scenario with defaults filled in. */
export type Scenario = z.infer<typeof scenarioSchema>
/** What a scenario file may write (defaults optional). */
export type ScenarioInput = z.input<typeof scenarioSchema>
