/**
 * The quality runs of one scenario invocation (runScenario, harness/runner.ts): the reference target is
 * measured first and its distributions are kept here for every other target's run. The reference's own
 * run evaluates the same windows once more against them: its figures say how far the engine repeats
 * itself (KLD 0 and agreement 1 on a deterministic CPU backend). Any other target is compared with the
 * kept distributions; a different tokenization or vocabulary fails the run with the reason, as does a
 * reference that gave none. Fewer than 100 scored tokens: failed, no statistic.
 * @module
 */
import type { TargetConfig } from '../config/schema.ts'
import { HarnessError, toError } from '../errors.ts'
import type { QualitySpec } from '../results.ts'
import {
  type LoadRunResult,
  type QualityRunResult,
  type RunContext,
  startMeasuredRun,
} from '../run-context.ts'
import type { CreatedEngine } from '../target-engine.ts'
import { collectReference, compareWithReference, type ReferenceDistributions } from './measure.ts'
import type { PreparedQuality } from './prepare.ts'
import { qualityMetricRows } from './run-metrics.ts'
import { summarizeQuality } from './summary.ts'
import { compareTopKWithReference, QUALITY_TOP_K } from './top-k-measure.ts'

export class QualityRuns {
  /** The reference's distributions, once its quality run collected them. */
  #reference: ReferenceDistributions | undefined
  /** Why there are none (the reference failed to start or to collect). */
  #referenceFailure: string | undefined
  /** The reference's variant name, stored in every quality run's spec once known. */
  #referenceVariant: string | undefined

  constructor(
    readonly prepared: PreparedQuality,
    /** The variant a target runs (runner.ts variantOf): the reference's name goes into the spec. */
    private readonly variantName: (target: TargetConfig, created: CreatedEngine) => string | undefined,
  ) {}

  /** Targets in measuring order: the reference first, so every other run has it to compare with. */
  order(targets: readonly TargetConfig[]): TargetConfig[] {
    const ref = this.prepared.spec.reference
    return [...targets.filter((t) => t.name === ref), ...targets.filter((t) => t.name !== ref)]
  }

  /** The stored spec of a quality run: with the reference's variant name once the reference has started. */
  spec(): QualitySpec {
    const variant = this.#referenceVariant
    return { ...this.prepared.spec, ...(variant !== undefined ? { referenceVariant: variant } : {}) }
  }

  /** A target that failed to start: when it is the reference, the others' runs say so. */
  targetFailed(target: TargetConfig, message: string): void {
    if (target.name === this.prepared.spec.reference)
      this.#referenceFailure = `reference target "${target.name}" failed to start: ${message}`
  }

  /** Removes the reference's temporary file (quality/measure.ts), however the scenario ended. */
  dispose(): void {
    this.#reference?.dispose()
  }

  async run(
    ctx: RunContext,
    target: TargetConfig,
    created: CreatedEngine,
    loadIndex: number,
  ): Promise<LoadRunResult> {
    const { signal } = ctx
    const prepared = this.prepared
    const isReference = target.name === prepared.spec.reference
    if (isReference) {
      const name = this.variantName(target, created)
      if (name !== undefined) this.#referenceVariant = name
    }
    const spec = this.spec()
    const { started, base, finish, finishCalled } = await startMeasuredRun(
      ctx,
      ctx.meta(target, created, spec, loadIndex),
      spec,
      loadIndex,
    )
    try {
      if (isReference) {
        try {
          this.#reference = await collectReference(created.engine, target.name, prepared.text, spec, signal)
        } catch (err) {
          if (!signal.aborted)
            this.#referenceFailure = `reference target "${target.name}": ${toError(err).message}`
          throw err
        }
      }
      const reference = this.#reference
      if (!reference)
        throw new HarnessError(
          `quality: no distributions of reference target "${spec.reference}" to compare with (${this.#referenceFailure ?? 'it was not measured'})`,
        )
      // Full distributions when the engine gives them; an endpoint's top-k lists otherwise (approximate,
      // top-k-measure.ts; the endpoint's probe refuses, with the reason, what cannot deliver them).
      const endpoint = created.engine.tokenLogProbs === undefined && created.engine.topKLogProbs !== undefined
      const positions = endpoint
        ? await compareTopKWithReference(
            created.engine,
            target.name,
            prepared.text,
            spec.contextTokens,
            reference,
            QUALITY_TOP_K,
            signal,
          )
        : await compareWithReference(
            created.engine,
            target.name,
            prepared.text,
            spec.contextTokens,
            reference,
            signal,
          )
      const summary = summarizeQuality(positions)
      const figures = qualityMetricRows(summary, endpoint ? { topK: QUALITY_TOP_K } : {})
      const result: QualityRunResult = { reference: spec.reference, summary }
      const reason =
        summary.state === 'ok'
          ? undefined
          : `quality: ${summary.reason} (raise quality.maxTokens or use a longer corpus)`
      const runState = reason === undefined ? 'completed' : 'failed'
      await finish(runState, figures, reason)
      return { ...base, state: runState, quality: result, ...(reason !== undefined ? { error: reason } : {}) }
    } catch (err) {
      const interrupted = signal.aborted
      const message = interrupted ? 'interrupted' : toError(err).message
      if (!finishCalled())
        await started.finish(
          interrupted ? 'interrupted' : 'failed',
          undefined,
          interrupted ? undefined : message,
        )
      return interrupted ? { ...base, state: 'interrupted' } : { ...base, state: 'failed', error: message }
    }
  }
}
