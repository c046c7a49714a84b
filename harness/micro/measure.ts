/**
 * One micro task measured with tinybench, in the process that holds the engine (an isolated engine's child;
 * engines call it from their micro() method). The engine lends its tokenizer and evaluation (MicroOps);
 * this module builds what one iteration does, checks the task against the engine (a prompt longer than
 * the context, a text too long), and turns tinybench's statistics into a MicroTaskResult.
 * @module
 */
import { Bench, type Statistics } from 'tinybench'
import { RequestError, toError } from '../errors.ts'
import { createRandom, type Random } from '../random.ts'
import type { MicroBounds, MicroTask, MicroTaskResult } from '../results.ts'
import { MAX_MICRO_CHARS, MAX_MICRO_PROMPT_TOKENS, microTaskId, microText } from './task.ts'

/**
 * What a native engine lends the micro tasks: its tokenizer and its evaluation on one sequence it holds for
 * the whole task (acquired before, released after, by the engine).
 */
export interface MicroOps {
  /** The engine kind, for messages. */
  engine: string
  /** Tokens the model's tokenizer makes of `text` (no BOS); synchronous, as the engines' tokenizers are. */
  tokenize(text: string): number
  /** Tokens a sequence holds; undefined when the engine cannot tell (onnx: the graph states none). */
  contextSize: number | undefined
  /** Token ids are drawn uniformly from [firstId, vocabSize): random ids, as llama-bench's test_prompt. */
  vocabSize: number
  firstId: number
  /** Put first in every prompt when the model adds one (llama-bench does too). */
  bos: number | undefined
  /** Empties the sequence; untimed, before each forward / prefill-decode iteration. */
  reset(): Promise<void>
  /** Evaluates `tokens` from the empty sequence as one prompt, logits of the last only, no sampling. */
  forward(tokens: number[]): Promise<void>
  /**
   * Evaluates `tokens` as one prompt, picks the next token greedily, evaluates it (one decode step) and
   * picks the next greedily again.
   */
  prefillDecode(tokens: number[]): Promise<void>
}

/** Why a task cannot run on this engine, or undefined. Messages name the field and the fix. */
export function microTaskProblem(task: MicroTask, contextSize: number | undefined): string | undefined {
  const id = microTaskId(task)
  if (task.kind === 'tokenize') {
    if (!Number.isInteger(task.chars) || task.chars < 1 || task.chars > MAX_MICRO_CHARS)
      return `micro task ${id}: chars must be an integer in [1, ${MAX_MICRO_CHARS}], got ${task.chars}`
    return undefined
  }
  const p = task.promptTokens
  if (!Number.isInteger(p) || p < 1 || p > MAX_MICRO_PROMPT_TOKENS)
    return `micro task ${id}: promptTokens must be an integer in [1, ${MAX_MICRO_PROMPT_TOKENS}], got ${p}`
  // node-llama-cpp shifts the context when it fills (contextSize − 1 tokens): a benchmark must not.
  const needed = p + (task.kind === 'prefill-decode' ? 2 : 1)
  if (contextSize !== undefined && needed > contextSize)
    return `micro task ${id}: ${task.kind} of ${p} tokens needs a context of ${needed} tokens but a sequence holds ${contextSize}: raise the target's contextSize or lower promptTokens`
  return undefined
}

/** The bounds' own rules, rechecked because a spec built in code skips the schema. */
export function microBoundsProblem(b: MicroBounds): string | undefined {
  if (!(b.timeMs >= 0 && Number.isFinite(b.timeMs))) return `timeMs must be finite and ≥ 0, got ${b.timeMs}`
  if (!(Number.isInteger(b.iterations) && b.iterations >= 1))
    return `iterations must be an integer ≥ 1, got ${b.iterations}`
  if (!(b.warmupTimeMs >= 0 && Number.isFinite(b.warmupTimeMs)))
    return `warmupTimeMs must be finite and ≥ 0, got ${b.warmupTimeMs}`
  if (!(Number.isInteger(b.warmupIterations) && b.warmupIterations >= 0))
    return `warmupIterations must be an integer ≥ 0, got ${b.warmupIterations}`
  if (!(b.maxTimeMs > 0 && Number.isFinite(b.maxTimeMs)))
    return `maxTimeMs must be finite and > 0, got ${b.maxTimeMs}`
  return undefined
}

/**
 * Measures one task: tinybench in sequential mode (one iteration at a time) until `timeMs` of measured
 * time and `iterations` iterations are both reached, after a warmup of `warmupTimeMs` and
 * `warmupIterations` (both 0: none); aborted, statistics kept, when `maxTimeMs` passes or `signal` fires.
 * Rejects with a RequestError when the task does not fit the engine or an iteration failed.
 */
export async function measureMicroTask(
  ops: MicroOps,
  task: MicroTask,
  bounds: MicroBounds,
  seed: number,
  signal?: AbortSignal,
): Promise<MicroTaskResult> {
  const id = microTaskId(task)
  const problem = microTaskProblem(task, ops.contextSize) ?? microBoundsProblem(bounds)
  if (problem !== undefined) throw new RequestError('engine', problem)
  signal?.throwIfAborted()
  // tinybench stops between iterations once its signal aborts. A timer cannot abort it: a synchronous task
  // (tokenize) loops on microtasks only, so no timer fires until it ends. The deadline is checked after
  // every iteration instead (afterEach), and the caller's signal is forwarded.
  const stopper = new AbortController()
  const onAbort = () => stopper.abort(signal?.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  const started = performance.now()
  const checkDeadline = () => {
    if (performance.now() - started >= bounds.maxTimeMs)
      stopper.abort(new Error(`maxTimeMs ${bounds.maxTimeMs} ms reached`))
  }
  const bench = new Bench({
    name: id,
    time: bounds.timeMs,
    iterations: bounds.iterations,
    warmup: bounds.warmupTimeMs > 0 || bounds.warmupIterations > 0,
    warmupTime: bounds.warmupTimeMs,
    warmupIterations: bounds.warmupIterations,
    signal: stopper.signal,
    throws: true,
  })
  const random = createRandom(seed)
  let tokensPerOp: number | undefined
  let unitsPerOp: number
  switch (task.kind) {
    case 'tokenize': {
      const text = microText(task.chars, seed)
      tokensPerOp = ops.tokenize(text)
      unitsPerOp = task.chars
      const expected = tokensPerOp
      bench.add(
        id,
        () => {
          // The count is checked, so the call's result is used (the tinybench README's "consuming results").
          if (ops.tokenize(text) !== expected)
            throw new Error('the tokenizer gave another count for the same text')
        },
        { async: false, afterEach: checkDeadline },
      )
      break
    }
    case 'forward':
    case 'prefill-decode': {
      const p = task.promptTokens
      unitsPerOp = task.kind === 'forward' ? p : p + 1
      let tokens: number[] = []
      const evaluate = task.kind === 'forward' ? ops.forward : ops.prefillDecode
      bench.add(id, () => evaluate.call(ops, tokens), {
        async: true,
        // Untimed: an empty sequence and new random ids each iteration, so no cache answers the pass.
        beforeEach: async () => {
          tokens = promptIds(ops, p, random)
          await ops.reset()
        },
        afterEach: checkDeadline,
        afterAll: () => ops.reset(),
      })
      break
    }
    default: {
      const never: never = task
      throw new RequestError('engine', `unknown micro task ${JSON.stringify(never)}`)
    }
  }
  try {
    await bench.run()
  } catch (err) {
    if (signal?.aborted) throw signal.reason
    throw new RequestError(
      'engine',
      `micro task ${id} on ${ops.engine}: ${toError(err).message}`,
      undefined,
      {
        cause: err,
      },
    )
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  const totalMs = performance.now() - started
  const result = bench.tasks[0]?.result
  if (result?.state === 'errored')
    throw new RequestError('engine', `micro task ${id} on ${ops.engine}: ${result.error.message}`)
  if (result?.state !== 'completed' && result?.state !== 'aborted-with-statistics') {
    if (signal?.aborted) throw signal.reason
    throw new RequestError(
      'engine',
      `micro task ${id} on ${ops.engine}: no iteration finished within maxTimeMs ${bounds.maxTimeMs} ms (raise maxTimeMs or lower the task's size)`,
    )
  }
  return {
    task,
    id,
    state: result.state === 'completed' ? 'completed' : 'aborted',
    samples: result.latency.samplesCount,
    latencyMs: latencyOf(result.latency),
    opsPerS: result.throughput.mean,
    unitsPerOp,
    ...(tokensPerOp !== undefined ? { tokensPerOp } : {}),
    totalMs,
  }
}

/** tinybench's latency statistics as stored (sd of one sample: 0; rme of a zero mean: left out as NaN). */
function latencyOf(s: Statistics): MicroTaskResult['latencyMs'] {
  return {
    mean: s.mean,
    sd: Number.isFinite(s.sd) ? s.sd : 0,
    p50: s.p50,
    p99: s.p99,
    min: s.min,
    max: s.max,
    rmePct: Number.isFinite(s.rme) ? s.rme : Number.NaN,
  }
}

/** `n` prompt ids: BOS first when the model adds one, then uniform random ids (llama-bench's test_prompt). */
function promptIds(ops: MicroOps, n: number, random: Random): number[] {
  return Array.from({ length: n }, (_, i) =>
    i === 0 && ops.bos !== undefined ? ops.bos : random.int(ops.firstId, ops.vocabSize - 1),
  )
}
