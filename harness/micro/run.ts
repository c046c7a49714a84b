/**
 * The micro runs of a started target (runScenario, harness/runner.ts, calls them after its other runs):
 * one run per micro load, each task measured by the engine with tinybench (engine.micro(), in the engine's
 * process), its figures stored as the run's metric rows `micro/<task>/<stat>`. No requests are recorded.
 * An interrupt keeps what the finished tasks measured (interrupted); a task that fails (a prompt longer
 * than the context) fails the run with the reason, the tasks before it kept.
 * @module
 */
import type { Scenario, TargetConfig } from '../config/schema.ts'
import { HarnessError, toError } from '../errors.ts'
import type { MicroSpec, MicroTaskResult } from '../results.ts'
import { type LoadRunResult, type RunContext, startMeasuredRun } from '../run-context.ts'
import type { CreatedEngine } from '../target-engine.ts'
import { microMetricRows } from './run-metrics.ts'

/** The scenario's micro loads as stored specs, in order; the scenario's seed draws the text and token ids. */
export function microSpecs(scenario: Scenario): MicroSpec[] {
  return scenario.loads.flatMap((l) =>
    l.kind === 'micro'
      ? [
          {
            kind: 'micro',
            tasks: l.tasks.map((t) => ({ ...t })),
            timeMs: l.timeMs,
            iterations: l.iterations,
            warmupTimeMs: l.warmupTimeMs,
            warmupIterations: l.warmupIterations,
            maxTimeMs: l.maxTimeMs,
            seed: scenario.seed,
          },
        ]
      : [],
  )
}

export async function runMicro(
  ctx: RunContext,
  target: TargetConfig,
  created: CreatedEngine,
  spec: MicroSpec,
  loadIndex: number,
): Promise<LoadRunResult> {
  const { signal } = ctx
  const engine = created.engine
  const { started, base, finish, finishCalled } = await startMeasuredRun(
    ctx,
    ctx.meta(target, created, spec, loadIndex),
    spec,
    loadIndex,
  )
  const micro: MicroTaskResult[] = []
  try {
    if (!engine.micro)
      throw new HarnessError(
        `${target.engine.kind} engines do not run micro tasks (the scenario schema allows them on native engines only)`,
      )
    const { timeMs, iterations, warmupTimeMs, warmupIterations, maxTimeMs } = spec
    const bounds = { timeMs, iterations, warmupTimeMs, warmupIterations, maxTimeMs }
    for (const task of spec.tasks) {
      if (signal.aborted) break
      try {
        micro.push(await engine.micro(task, bounds, spec.seed, signal))
      } catch (err) {
        // The interrupt rejected the task: what the finished tasks measured is kept.
        if (signal.aborted) break
        throw err
      }
    }
    const figures = microMetricRows(micro)
    const state = signal.aborted ? 'interrupted' : 'completed'
    await finish(state, figures)
    return { ...base, state, micro }
  } catch (err) {
    const message = toError(err).message
    if (!finishCalled()) await started.finish('failed', microMetricRows(micro), message)
    return { ...base, state: 'failed', error: message, micro }
  }
}
