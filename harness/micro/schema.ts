/**
 * The scenario's micro load (`loads: [{ kind: 'micro', tasks: [...] }]`): its tasks and tinybench's bounds,
 * with defaults. Light on purpose (zod only): harness/config/schema.ts imports it; tinybench loads where
 * the engine runs (measure.ts).
 * @module
 */
import { z } from 'zod'
import { MAX_MICRO_CHARS, MAX_MICRO_PROMPT_TOKENS, microTaskId } from './task.ts'

const positiveInt = z.number().int().positive()
/** The engine's context bounds it further (measure.ts microTaskProblem: the run fails naming the fix). */
const promptTokens = positiveInt.max(MAX_MICRO_PROMPT_TOKENS)

export const microTaskSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('tokenize'),
      /** Characters of seeded English words the tokenizer reads per iteration. */
      chars: positiveInt.max(MAX_MICRO_CHARS),
    })
    .strict(),
  z
    .object({
      kind: z.literal('forward'),
      /** Tokens evaluated in one forward pass from an empty context (llama-bench `-p`). */
      promptTokens,
    })
    .strict(),
  z
    .object({
      kind: z.literal('prefill-decode'),
      /** Prompt tokens evaluated before the one decoded token. */
      promptTokens,
    })
    .strict(),
])

/** Longest a micro task may be allowed to take (maxTimeMs): an hour. ms */
const MAX_TASK_MS = 3_600_000

export const microLoadSchema = z
  .object({
    kind: z.literal('micro'),
    /** What each iteration does, one run per target measuring every task in order. */
    tasks: z
      .array(microTaskSchema)
      .min(1, "add at least one task, e.g. { kind: 'forward', promptTokens: 128 }"),
    /** tinybench `time`: measured time per task; a task runs until this and `iterations` are both reached. ms. @default 1000 */
    timeMs: z.number().min(0).max(MAX_TASK_MS).default(1000),
    /** tinybench `iterations`: measured iterations per task, at least. @default 10 */
    iterations: positiveInt.max(1_000_000).default(10),
    /** tinybench `warmupTime`: unmeasured time before each task. ms. @default 100 */
    warmupTimeMs: z.number().min(0).max(MAX_TASK_MS).default(100),
    /** tinybench `warmupIterations`: unmeasured iterations before each task (0 and warmupTimeMs 0: none). @default 2 */
    warmupIterations: z.number().int().min(0).max(1_000_000).default(2),
    /**
     * Hard stop per task, warmup included: past it tinybench is aborted and what it measured is kept (the
     * task's figures say `aborted`). Must leave room for timeMs + warmupTimeMs. ms. @default 30000
     */
    maxTimeMs: z.number().positive().max(MAX_TASK_MS).default(30_000),
  })
  .strict()
  .superRefine((load, ctx) => {
    if (load.maxTimeMs < load.timeMs + load.warmupTimeMs)
      ctx.addIssue({
        code: 'custom',
        message: `must be at least timeMs + warmupTimeMs (${load.timeMs + load.warmupTimeMs} ms), got ${load.maxTimeMs}: raise maxTimeMs or lower timeMs`,
        path: ['maxTimeMs'],
        input: undefined,
      })
    const seen = new Set<string>()
    load.tasks.forEach((task, i) => {
      const id = microTaskId(task)
      if (seen.has(id))
        ctx.addIssue({
          code: 'custom',
          message: `task ${id} is listed twice: its figures would share one name; remove one`,
          path: ['tasks', i],
          input: undefined,
        })
      seen.add(id)
    })
  })
export type MicroLoadConfig = z.infer<typeof microLoadSchema>
