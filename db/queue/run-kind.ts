/**
 * The built-in `run` job kind: one target × one load step (or its accuracy evaluation) of the matrix's
 * scenario, through the runner itself (harness/runner.ts runScenario with `only`), so a queued run is
 * stored exactly as `bench run` stores it — same scenario hash, loadIndex, states and error threshold.
 * @module
 */
import { parseScenario } from '../../harness/config/index.ts'
import { toError } from '../../harness/errors.ts'
import { RunInterrupted, runScenario } from '../../harness/runner.ts'
import type { AttemptResult, JobAttempt, JobKind } from './kinds.ts'

export const runKind: JobKind = {
  kind: 'run',
  async run({ matrix, job, sink, signal, environment }: JobAttempt): Promise<AttemptResult> {
    if (job.loadIndex === null) return { state: 'failed', error: `matrix job ${job.id} has no load index` }
    const scenario = parseScenario(matrix.scenario, `matrix ${matrix.id}`)
    try {
      const result = await runScenario({
        scenario,
        baseDir: matrix.baseDir,
        source: matrix.source,
        sink,
        signal,
        only: { target: job.targetName, loadIndex: job.loadIndex },
        ...(matrix.label !== null ? { label: matrix.label } : {}),
        context: { environment, invocationId: matrix.invocationId },
      })
      const run = result.runs[0]
      if (!run)
        return {
          state: signal.aborted ? 'interrupted' : 'failed',
          error: signal.aborted
            ? 'the worker stopped before the run started'
            : `the scenario has no target "${job.targetName}" with load step ${job.loadIndex}`,
        }
      return {
        state: run.state,
        runId: Number(run.runId),
        ...(run.error !== undefined ? { error: run.error } : {}),
      }
    } catch (err) {
      if (err instanceof RunInterrupted) return { state: 'interrupted', error: err.message }
      return { state: 'failed', error: toError(err).message }
    }
  },
}
