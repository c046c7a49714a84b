/**
 * How a scenario becomes a matrix of jobs: one `run` job per target × load step (a sweep's steps each
 * count), in the order `bench run` would run them, plus one per target for its accuracy evaluation when
 * the scenario measures accuracy. Load indices are those of the scenario's expanded loads (RunMeta's
 * loadIndex), so a job's run is stored as the same step `bench run` stores. Pure.
 * @module
 */
import type { Scenario } from '../../harness/config/index.ts'
import { HarnessError } from '../../harness/errors.ts'
import { expandLoads } from '../../harness/load/index.ts'

export interface JobPlan {
  kind: 'run'
  targetName: string
  /** Index among the expanded loads; loads.length for the accuracy run (as the runner numbers it). */
  loadIndex: number
  /** Stored as matrix_jobs.spec: what `bench matrix status` says the job is. */
  spec: { step: 'load'; load: ReturnType<typeof expandLoads>[number] } | { step: 'accuracy' }
}

export function planMatrix(scenario: Scenario): JobPlan[] {
  if (scenario.measure.includes('quality'))
    throw new HarnessError(
      `${scenario.name}: measure has 'quality', which compares every target with a reference measured first in the same invocation; a queue cannot order jobs across workers. Run it with bench run, or enqueue a copy with measure: ['latency'] and/or ['accuracy']`,
    )
  const loads = scenario.measure.includes('latency') ? expandLoads(scenario.loads) : []
  const jobs: JobPlan[] = []
  for (const target of scenario.targets) {
    for (const [loadIndex, load] of loads.entries())
      jobs.push({ kind: 'run', targetName: target.name, loadIndex, spec: { step: 'load', load } })
    if (scenario.measure.includes('accuracy'))
      jobs.push({ kind: 'run', targetName: target.name, loadIndex: loads.length, spec: { step: 'accuracy' } })
  }
  return jobs
}
