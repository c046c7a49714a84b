/**
 * The accuracy evaluator: scores prepared items (prepare.ts) on a started engine, one at a time, and hands
 * each ItemOutcome over as soon as it is known. The one module of harness/accuracy that drives an engine;
 * the runner calls it once per target after the target's load steps.
 *
 * - `loglik`: engine.scoreChoices(prompt, [" A", " B", …]) → argmax (score.ts scoreLoglik; ties to the
 *   lowest index). The log-likelihoods are kept with the item.
 * - `generate`: engine.generate() with ≤ GENERATE_MAX_TOKENS tokens, temperature 0, stop at a newline;
 *   the letter extractChoiceLetter reads from the first line (none → wrong). The text is kept.
 * - Choosing: resolveScoring() scores the first item before the run starts, so the run's stored scoring
 *   is the one used. `auto` uses loglik when the engine has scoreChoices and its first call does not
 *   throw CapabilityError, else generate, with a notice saying why. `loglik` on an engine without
 *   scoreChoices, or whose first call throws CapabilityError, is refused with the engine's message: the
 *   run fails and no accuracy is reported, never a chance-level figure from missing logprobs.
 * - An item that fails (RequestError, a timeout, a NaN score) is data: recorded with its error, correct
 *   null, left out of acc and counted in the run's item error rate. A CapabilityError after the first item
 *   (an engine that could score and then could not) is such an error too, kind `capability`.
 * - Time: each item has the scenario's requestTimeoutMs. generate() obeys the item's signal; scoreChoices
 *   takes none, so a timed-out scoring is recorded as `timeout` and left to finish in the engine (the
 *   next item waits behind it there). The run's interrupt stops before the next item.
 * @module
 */
import type { Clock } from '../clock.ts'
import type { Engine } from '../engines/engine.ts'
import { CapabilityError, RequestError } from '../errors.ts'
import { RequestTimeout, requestDeadline } from '../request.ts'
import type { ItemErrorKind, ItemOutcome } from '../results.ts'
import { GENERATE_MAX_TOKENS, GENERATE_STOP } from './extract.ts'
import type { PreparedItem } from './prepare.ts'
import { scoreGenerate, scoreLoglik, scoreLoglikNorm } from './score.ts'

export type Scoring = 'loglik' | 'generate'

export interface ItemContext {
  clock: Clock
  /** Clock ms that the outcome's startedAt is relative to (the run's origin). */
  origin: number
  /** Per item, ms. */
  timeoutMs: number
  /** The run's interrupt. */
  signal: AbortSignal
}

/** An item scored (or failed) before knowing it: the raw result, turned into an ItemOutcome by its seq. */
type Attempt =
  | { ok: true; logliks?: number[]; generated?: string; startedAt: number; durationMs: number }
  | { ok: false; error: unknown; startedAt: number; durationMs: number }

export type ScoringDecision =
  | {
      state: 'use'
      scoring: Scoring
      /** Why auto did not use loglik (shown as a notice, kept in the run's stored error-free state). */
      notice?: string
      /** The first item, already scored in the chosen mode (absent when the decision needed no call). */
      first?: ItemOutcome
    }
  | { state: 'refused'; scoring: 'loglik'; reason: string }

/**
 * Which scoring the run uses, probing with the first item where loglik is possible (its outcome is
 * returned, to be recorded as item 0 once the run row exists).
 */
export async function resolveScoring(
  engine: Engine,
  requested: Scoring | 'auto',
  first: PreparedItem,
  ctx: ItemContext,
): Promise<ScoringDecision> {
  if (requested === 'generate') return { state: 'use', scoring: 'generate' }
  if (!engine.scoreChoices) {
    const why = `the ${engine.info.kind} engine cannot score choices by log-likelihood (no scoreChoices)`
    if (requested === 'loglik')
      return {
        state: 'refused',
        scoring: 'loglik',
        reason: `${why}; use scoring: 'generate' (or 'auto') for this target`,
      }
    return { state: 'use', scoring: 'generate', notice: `${why}: scoring by generation instead` }
  }
  const attempt = await attemptLoglik(engine, first, ctx)
  if (!attempt.ok && attempt.error instanceof CapabilityError) {
    const why = attempt.error.message.replace(/\.$/, '')
    if (requested === 'loglik')
      return {
        state: 'refused',
        scoring: 'loglik',
        reason: `${why} (scoring: 'loglik' refused; 'auto' falls back to generate)`,
      }
    return {
      state: 'use',
      scoring: 'generate',
      notice: `loglik scoring unavailable: ${why}; scoring by generation instead`,
    }
  }
  return { state: 'use', scoring: 'loglik', first: toOutcome(0, first, attempt, ctx) }
}

/** Scores one item in `scoring` mode; never throws. */
export async function scoreItem(
  engine: Engine,
  scoring: Scoring,
  seq: number,
  prepared: PreparedItem,
  ctx: ItemContext,
): Promise<ItemOutcome> {
  const attempt =
    scoring === 'loglik'
      ? await attemptLoglik(engine, prepared, ctx)
      : await attemptGenerate(engine, prepared, ctx)
  return toOutcome(seq, prepared, attempt, ctx)
}

async function attemptLoglik(
  engine: Engine,
  { item, prompt, continuations }: PreparedItem,
  ctx: ItemContext,
): Promise<Attempt> {
  const t0 = ctx.clock.now()
  const score = engine.scoreChoices
  if (!score)
    return failed(new CapabilityError('scoreChoices', `the ${engine.info.kind} engine has no scoreChoices`))
  const deadline = requestDeadline(ctx.clock, ctx.timeoutMs, ctx.signal, 'no scores')
  try {
    // The engine stops at its next step when the deadline passes (engine.ts); the race ends the item at
    // the deadline itself even while that step runs.
    const cut = new Promise<never>((_, reject) => {
      if (deadline.signal.aborted) reject(deadline.signal.reason)
      else deadline.signal.addEventListener('abort', () => reject(deadline.signal.reason), { once: true })
    })
    const scoring = score.call(engine, prompt, [...continuations], deadline.signal)
    scoring.catch(() => {}) // after the cut its rejection is the deadline's, already reported
    const logliks = await Promise.race([scoring, cut])
    if (logliks.length !== item.choices.length)
      return failed(
        new RequestError('engine', `${logliks.length} log-likelihoods for ${item.choices.length} choices`),
      )
    return { ok: true, logliks, startedAt: t0, durationMs: ctx.clock.now() - t0 }
  } catch (err) {
    return failed(err)
  } finally {
    deadline.release()
  }
  function failed(error: unknown): Attempt {
    return { ok: false, error, startedAt: t0, durationMs: ctx.clock.now() - t0 }
  }
}

async function attemptGenerate(engine: Engine, { prompt }: PreparedItem, ctx: ItemContext): Promise<Attempt> {
  const t0 = ctx.clock.now()
  const deadline = requestDeadline(ctx.clock, ctx.timeoutMs, ctx.signal, 'no complete answer')
  let text = ''
  try {
    const stream = engine.generate(
      {
        prompt,
        maxTokens: GENERATE_MAX_TOKENS,
        sampling: { temperature: 0, stop: [...GENERATE_STOP] },
      },
      deadline.signal,
    )
    for await (const event of stream) if (event.type === 'token') text += event.text
    return { ok: true, generated: text, startedAt: t0, durationMs: ctx.clock.now() - t0 }
  } catch (err) {
    return {
      ok: false,
      error: deadline.signal.aborted ? deadline.signal.reason : err,
      startedAt: t0,
      durationMs: ctx.clock.now() - t0,
    }
  } finally {
    deadline.release()
  }
}

function toOutcome(
  seq: number,
  { item, normalizeBy }: PreparedItem,
  attempt: Attempt,
  ctx: ItemContext,
): ItemOutcome {
  const base = {
    seq,
    itemId: item.id,
    subject: item.subject,
    itemIndex: item.index,
    answer: item.answer,
    // Relative to the run's origin, as request outcomes are.
    startedAt: attempt.startedAt - ctx.origin,
    durationMs: attempt.durationMs,
  }
  if (attempt.ok) {
    try {
      if (attempt.logliks) {
        const { predicted, correct } = scoreLoglik(attempt.logliks, item.answer)
        // acc_norm (mmlu-continuation): the same scores divided by each choice text's length.
        const norm = normalizeBy ? scoreLoglikNorm(attempt.logliks, normalizeBy, item.answer) : undefined
        return {
          ...base,
          predicted: predicted ?? null,
          correct,
          logliks: attempt.logliks,
          ...(norm ? { predictedNorm: norm.predicted ?? null } : {}),
        }
      }
      const text = attempt.generated ?? ''
      const { predicted, correct } = scoreGenerate(text, item.answer, item.choices.length)
      return { ...base, predicted: predicted ?? null, correct, generated: text }
    } catch (err) {
      // A NaN log-likelihood: the engine did not score a choice. An error, never a guess.
      return {
        ...base,
        predicted: null,
        correct: null,
        ...(attempt.logliks ? { logliks: attempt.logliks } : {}),
        error: { kind: 'engine', message: (err as Error).message },
      }
    }
  }
  return {
    ...base,
    predicted: null,
    correct: null,
    error: describeItemError(attempt.error, ctx.signal),
  }
}

function describeItemError(err: unknown, runSignal: AbortSignal): { kind: ItemErrorKind; message: string } {
  if (err instanceof RequestTimeout) return { kind: 'timeout', message: err.message }
  if (err instanceof CapabilityError) return { kind: 'capability', message: err.message }
  if (err instanceof RequestError) return { kind: err.kind, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  // Only the run's interrupt is `aborted` (left out of the error rate); an abort nobody asked for is the engine's.
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'RunInterrupted'))
    return { kind: runSignal.aborted ? 'aborted' : 'engine', message }
  return { kind: 'engine', message }
}
