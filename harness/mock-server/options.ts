/**
 * Options of the mock OpenAI-compatible server (schema shared by the CLI, scenarios and selftest).
 * All delays are milliseconds; all fault rates are fractions of requests in [0, 1].
 * @module
 */
import { z } from 'zod'

export const delaySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed'), ms: z.number().min(0) }),
  z
    .object({ kind: z.literal('uniform'), minMs: z.number().min(0), maxMs: z.number().min(0) })
    .refine((d) => d.maxMs >= d.minMs, {
      message: 'maxMs must be ≥ minMs',
      path: ['maxMs'],
    }),
  /** exp(N(ln medianMs, sigma)). */
  z.object({ kind: z.literal('lognormal'), medianMs: z.number().positive(), sigma: z.number().min(0) }),
])
export type Delay = z.infer<typeof delaySchema>

export const faultsSchema = z
  .object({
    /** Answer 429 Too Many Requests before streaming. */
    rate429: z.number().min(0).max(1).default(0),
    /** Answer 500 before streaming. */
    rate500: z.number().min(0).max(1).default(0),
    /** Destroy the connection after about half the output chunks. */
    rateDrop: z.number().min(0).max(1).default(0),
    /** Send one chunk whose data is not valid JSON, then continue. */
    rateMalformed: z.number().min(0).max(1).default(0),
    /** Stop sending after the first chunk and never finish (the client's timeout must fire). */
    rateStall: z.number().min(0).max(1).default(0),
  })
  .strict()
  // The tolerance keeps sums like 0.1 + 0.2 + 0.7 (1.0000000000000002 in floating point) valid.
  .refine((f) => f.rate429 + f.rate500 + f.rateDrop + f.rateMalformed + f.rateStall <= 1 + 1e-9, {
    message: 'the fault rates add up to more than 1 (each request draws at most one fault)',
  })

/**
 * Which real server the mock reproduces, where they differ (see README.md, Personalities):
 * - `default`: the mock's own behaviour (llama-server's stream shape, Node's keep-alive);
 * - `llama-server`: llama.cpp's server — FIN after every streamed response, its `timings` formulas, a RAM
 *   prompt cache (`cache_n`), `llamacpp:` metrics, `Keep-Alive: timeout=5, max=100`;
 * - `vllm`: vLLM's OpenAI server — uvicorn's 5 s idle keep-alive, finish_reason on the last content chunk,
 *   usage only with include_usage, no `timings`, `vllm:` metrics, `/version`.
 */
export const PERSONALITIES = ['default', 'llama-server', 'vllm'] as const
export type Personality = (typeof PERSONALITIES)[number]

/**
 * A multiple-choice model of known accuracy (answers.ts): items of `key` recognized in an lm-eval MMLU
 * prompt are answered right with probability `p` (per seed and item), else with a uniform wrong letter.
 */
export const answersSchema = z
  .object({
    /** Probability of answering an item right, 0..1. */
    p: z.number().min(0).max(1),
    /** Path of an MMLU-layout directory (dev/ val/ test/ of {subject}_{split}.csv) or of a JSONL file. */
    key: z.string().min(1),
    /** Seeds the right/wrong decisions. @default the server's seed */
    seed: z.number().int().optional(),
  })
  .strict()

/**
 * The capacity model (capacity.ts): `slots` requests generate at once (the batch), more wait in a FIFO queue
 * (their wait is part of their TTFT); the time per token grows with the batch b:
 * itl(b) = itl · (1 + itlGrowth · (b − 1)). knee.ts computes the highest rate that meets an SLO.
 */
export const capacitySchema = z
  .object({
    /** Batch slots B: requests generating at once. */
    slots: z.number().int().positive(),
    /** k in itl · (1 + k · (b − 1)): growth of the per-token time per extra request in the batch. @default 0 */
    itlGrowth: z.number().min(0).default(0),
  })
  .strict()
export type CapacityOptions = z.infer<typeof capacitySchema>

/**
 * Report speculative decoding as the personality's server does (speculation.ts), for a draft of `draftMax`
 * tokens per step whose tokens are kept with probability `acceptance` until the first rejection:
 * llama-server `timings.draft_n` / `draft_n_accepted` per response and the `llamacpp:spec_decode_*`
 * counters; vllm the `vllm:spec_decode_*` counters (no per-response fields: vLLM has none). The default
 * personality has no such report (refused). The mock's delays do not change.
 */
export const speculativeSchema = z
  .object({
    /** K: tokens drafted per verification step (llama-server --spec-draft-n-max, vLLM num_speculative_tokens). */
    draftMax: z.number().int().min(1).max(64),
    /** Probability that each drafted token is kept, given the ones before it were. */
    acceptance: z.number().min(0).max(1),
  })
  .strict()
export type SpeculativeOptions = z.infer<typeof speculativeSchema>

/** A token bucket on the generation routes: above `requestsPerS` (after a burst of `burst`) → 429. */
export const rateLimitSchema = z
  .object({
    /** Refill rate, requests per second. */
    requestsPerS: z.number().positive(),
    /** Bucket size: requests accepted back to back from idle. @default max(1, ceil(requestsPerS)) */
    burst: z.number().int().positive().optional(),
  })
  .strict()
export type RateLimitOptions = z.infer<typeof rateLimitSchema>

export const mockOptionsSchema = z
  .object({
    /** Real server whose behaviour the mock reproduces. @default 'default' */
    personality: z.enum(PERSONALITIES).default('default'),
    /** Seed of every random draw (delays, faults, text, logprobs). @default 1 */
    seed: z.number().int().default(1),
    /** Served model id (also accepted: any model name in a request). @default 'mock-model' */
    model: z.string().min(1).default('mock-model'),
    /** Time from request arrival to the first content chunk. @default fixed 20 ms */
    ttft: delaySchema.default({ kind: 'fixed', ms: 20 }),
    /** Time between consecutive content chunks. @default fixed 5 ms */
    itl: delaySchema.default({ kind: 'fixed', ms: 5 }),
    /** Output tokens when the request gives no max_tokens; otherwise max_tokens is honoured. @default 16 */
    outputTokens: z.number().int().positive().default(16),
    /** Tokens carried by each content chunk (the last one may carry fewer). @default 1 */
    tokensPerChunk: z.number().int().positive().default(1),
    /** Require `Authorization: Bearer <apiKey>` when set. */
    apiKey: z.string().optional(),
    /**
     * Poll instead of sleeping for the last this-many ms before each chunk deadline. Node timers alone are
     * off by up to ~1 ms; polling brings the mock's own schedule error to tens of µs at the cost of CPU
     * (measured: one 10 ms stream 5–7 % of a core instead of 3 %; 64 streams 45–65 % instead of ~20 %).
     * 0 = timers only.
     * @default 2
     */
    spinWindowMs: z.number().min(0).max(20).default(2),
    /**
     * Count each request's delays from the client's send time in its `x-bench-sent-at` header (the
     * machine's monotonic clock in ms, sent by the harness with `sendTimeHeader`) instead of the mock's
     * own arrival stamp, which is taken after the request was read, parsed and routed (~0.3 ms later on
     * loopback). Only for a client on the same machine: a missing header, or a stamp in the future or more
     * than 10 s old (another machine's clock), falls back to the arrival stamp. @default false
     */
    clientClock: z.boolean().default(false),
    /**
     * Add a llama-server style `timings` object to the final chunk (and non-streamed responses). The `vllm`
     * personality never sends one (vLLM has none). @default true
     */
    serverTimings: z.boolean().default(true),
    /** Answer multiple-choice items of a key with probability p (answers.ts). @default none */
    answers: answersSchema.optional(),
    /** Batch slots, a queue and a per-token time growing with the batch (capacity.ts). @default none: unlimited */
    capacity: capacitySchema.optional(),
    /** Answer 429 above this request rate (token bucket) on /v1/chat/completions and /v1/completions. @default none */
    rateLimit: rateLimitSchema.optional(),
    /** Speculative-decoding counts in timings and /metrics (llama-server and vllm personalities). @default none */
    speculative: speculativeSchema.optional(),
    faults: faultsSchema.default({ rate429: 0, rate500: 0, rateDrop: 0, rateMalformed: 0, rateStall: 0 }),
  })
  .strict()
  // Silently ignoring it would leave a study reading "no speculation" from a server told to speculate.
  .refine((o) => o.speculative === undefined || o.personality !== 'default', {
    message:
      'only the llama-server and vllm personalities report speculative decoding; set personality to one of them (--personality llama-server|vllm)',
    path: ['speculative'],
  })
export type MockOptions = z.infer<typeof mockOptionsSchema>
export type MockOptionsInput = z.input<typeof mockOptionsSchema>
