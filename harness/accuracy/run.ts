/**
 * One accuracy run of a started target (runScenario, harness/runner.ts, calls it after the load steps):
 * scoring resolved (probing with the first item), the run row, every item recorded as it is scored,
 * figures at the end. Like a load run: an interrupt keeps what was scored (interrupted), more failed
 * items than maxErrorRate allows fail the run with every item kept, and a refused scoring (loglik on an
 * engine that cannot) fails it with the reason and no figure.
 * @module
 */
import type { TargetConfig } from '../config/schema.ts'
import { HarnessError, toError } from '../errors.ts'
import type { AccuracySpec, ItemOutcome } from '../results.ts'
import {
  type AccuracyRunResult,
  type LoadRunResult,
  type RunContext,
  startMeasuredRun,
} from '../run-context.ts'
import type { CreatedEngine } from '../target-engine.ts'
import { resolveScoring, type Scoring, scoreItem } from './evaluate.ts'
import type { PreparedAccuracy } from './prepare.ts'
import { accuracyMetricRows, itemErrorRateReason, summarizeItems } from './run-metrics.ts'

/** The stored spec of an accuracy run that scores (or would have scored) by `scoring`. */
export function accuracySpec(prepared: PreparedAccuracy, scoring: Scoring): AccuracySpec {
  return { ...prepared.spec, scoring, requestedScoring: prepared.requestedScoring }
}

/** The scoring a run that never started would have used (stored with a target that failed to start). */
export function plannedScoring(prepared: PreparedAccuracy): Scoring {
  return prepared.requestedScoring === 'generate' ? 'generate' : 'loglik'
}

export async function runAccuracy(
  ctx: RunContext,
  target: TargetConfig,
  created: CreatedEngine,
  prepared: PreparedAccuracy,
  loadIndex: number,
): Promise<LoadRunResult> {
  const { clock, signal, scenario } = ctx
  const engine = created.engine
  const first = prepared.items[0]
  if (!first) throw new HarnessError('an accuracy run without items') // prepareAccuracy refuses it
  // The run starts with the probe (item 0 is scored by it): its origin and wall time are the run's.
  const probeOrigin = clock.now()
  const probeStartedAtIso = new Date().toISOString()
  const scoreCtx = { clock, origin: probeOrigin, timeoutMs: scenario.requestTimeoutMs, signal }
  let decision: Awaited<ReturnType<typeof resolveScoring>>
  try {
    decision = await resolveScoring(engine, prepared.requestedScoring, first, scoreCtx)
  } catch (err) {
    decision = { state: 'refused', scoring: 'loglik', reason: toError(err).message }
  }
  const spec = accuracySpec(prepared, decision.scoring)
  const runMeta = {
    ...ctx.meta(target, created, spec, loadIndex),
    clockOrigin: probeOrigin,
    startedAtIso: probeStartedAtIso,
  }
  const { started, base, finish, finishCalled } = await startMeasuredRun(ctx, runMeta, spec, loadIndex)
  try {
    if (decision.state === 'refused') {
      await finish('failed', undefined, decision.reason)
      return { ...base, state: 'failed', error: decision.reason }
    }
    const { scoring } = decision
    if (decision.notice) ctx.emit({ type: 'notice', target: target.name, message: decision.notice })
    const items: ItemOutcome[] = []
    const take = (outcome: ItemOutcome) => {
      items.push(outcome)
      started.recordItem(outcome)
      ctx.emit({ type: 'item', target: target.name, loadIndex, outcome })
    }
    if (decision.first) take(decision.first)
    // `concurrency` workers take the next item in order; seq is the item's place in the selection, so
    // the stored order is the same whatever finished first.
    let next = items.length
    const worker = async () => {
      while (next < prepared.items.length && !signal.aborted) {
        const seq = next++
        const item = prepared.items[seq] as (typeof prepared.items)[number]
        const outcome = await scoreItem(engine, scoring, seq, item, scoreCtx)
        // An item cut by the interrupt is not a result: nothing was measured.
        if (outcome.error?.kind === 'aborted') return
        take(outcome)
      }
    }
    await Promise.all(Array.from({ length: prepared.concurrency }, worker))
    const summary = summarizeItems(items)
    const figures = accuracyMetricRows(summary)
    const result: AccuracyRunResult = {
      ...summary,
      scoring,
      ...(decision.notice !== undefined ? { notice: decision.notice } : {}),
    }
    if (signal.aborted) {
      await finish('interrupted', figures)
      return { ...base, state: 'interrupted', accuracy: result }
    }
    const reason =
      summary.n === 0
        ? `no item was scored (${summary.errors} of ${summary.attempted} failed)`
        : itemErrorRateReason(summary, ctx.maxErrorRate)
    const runState = reason === undefined ? 'completed' : 'failed'
    await finish(runState, figures, reason)
    return {
      ...base,
      state: runState,
      accuracy: result,
      ...(reason !== undefined ? { error: reason } : {}),
    }
  } catch (err) {
    const message = toError(err).message
    if (!finishCalled()) await started.finish('failed', undefined, message)
    return { ...base, state: 'failed', error: message }
  }
}
