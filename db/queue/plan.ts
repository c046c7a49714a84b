/**
 * How a scenario becomes a matrix of jobs: one `run` job per target × load step (a sweep's steps each
 * count), in the order `bench run` would run them, plus one per target for its accuracy evaluation when
 * the scenario measures accuracy, then one per target × micro load (harness/micro: never split between
 * clients). Load indices are those `bench run` gives (RunMeta's loadIndex: the expanded loads, then the
 * accuracy run, then the micro runs), so a job's run is stored as the same step `bench run` stores. Pure.
 * @module
 */
import type { Scenario } from '../../harness/config/index.ts'
import { HarnessError } from '../../harness/errors.ts'
import { expandLoads } from '../../harness/load/index.ts'
import { microSpecs } from '../../harness/micro/run.ts'
import type { MicroSpec } from '../../harness/results.ts'

export interface JobPlan {
  kind: 'run'
  targetName: string
  /**
   * As the runner numbers it (harness/runner.ts): index among the expanded loads; loads.length for the
   * accuracy run; after it, one per micro load.
   */
  loadIndex: number
  /** Stored as matrix_jobs.spec: what `bench matrix status` says the job is. */
  spec:
    | { step: 'load'; load: ReturnType<typeof expandLoads>[number]; shard?: Shard }
    | { step: 'accuracy' }
    | { step: 'micro'; micro: MicroSpec }
}

/**
 * One of N clients of a distributed load step: it drives `load` (the step's rate or concurrency / N, its
 * requests split) from a common start time (run-kind.ts); the group's percentiles are computed from the
 * pooled samples of all N runs (status.ts groupPercentiles).
 */
/** A load step of the scenario as configured (a sweep's steps are steps; micro loads are none). */
export type StepConfig = Exclude<Scenario['loads'][number], { kind: 'sweep' | 'micro' }>

export interface Shard {
  index: number
  count: number
  /** The client's share of the step, as a scenario step (what its run drives). */
  load: StepConfig
}

/**
 * The scenario's load steps as configured, in expandLoads' order and numbering (a sweep's steps in place;
 * micro loads left out, as expandLoads leaves them, so step i here is loadIndex i).
 */
export function stepConfigs(scenario: Scenario): StepConfig[] {
  return scenario.loads.flatMap((l) => (l.kind === 'sweep' ? l.loads : l.kind === 'micro' ? [] : [l]))
}

/**
 * Client `index` of `count`'s share of a step: concurrency or rate / count (which must divide the
 * concurrency), requests split as evenly as possible (the first ones get the remainder), duration kept.
 */
export function shardLoad(load: StepConfig, index: number, count: number, where: string): StepConfig {
  const fail = (why: string) => {
    throw new HarnessError(`--clients ${count}: ${where} (${load.kind}) ${why}`)
  }
  const requests =
    'requests' in load && load.requests !== undefined
      ? Math.floor(load.requests / count) + (index < load.requests % count ? 1 : 0)
      : undefined
  if (requests === 0) fail(`has ${(load as { requests: number }).requests} requests, fewer than the clients`)
  const limits = requests !== undefined ? { requests } : {}
  switch (load.kind) {
    case 'concurrent':
      if (load.concurrency % count !== 0)
        fail(
          `concurrency ${load.concurrency} is not a multiple of the clients; use a multiple or fewer clients`,
        )
      return { ...load, ...limits, concurrency: load.concurrency / count }
    case 'constant-rate':
    case 'poisson':
      return {
        ...load,
        ...limits,
        ratePerS: load.ratePerS / count,
        maxInFlight: Math.max(1, Math.ceil(load.maxInFlight / count)),
      }
    default:
      return fail('cannot be split between clients: only concurrent, constant-rate and poisson steps can')
  }
}

export interface PlanOptions {
  /** Load generators per step (multi-client load). @default 1 */
  clients?: number
}

export function planMatrix(scenario: Scenario, options: PlanOptions = {}): JobPlan[] {
  const clients = options.clients ?? 1
  if (scenario.measure.includes('quality'))
    throw new HarnessError(
      `${scenario.name}: measure has 'quality', which compares every target with a reference measured first in the same invocation; a queue cannot order jobs across workers. Run it with bench run, or enqueue a copy with measure: ['latency'] and/or ['accuracy']`,
    )
  const loads = scenario.measure.includes('latency') ? expandLoads(scenario.loads) : []
  const steps = stepConfigs(scenario)
  const shards = steps.map((step, i) =>
    clients > 1
      ? Array.from({ length: clients }, (_, index) => shardLoad(step, index, clients, `step ${i}`))
      : undefined,
  )
  const accuracy = scenario.measure.includes('accuracy')
  // The runner's numbering: micro runs after the load steps and the accuracy run (quality is refused above).
  const micros = scenario.measure.includes('latency') ? microSpecs(scenario) : []
  const microIndex = loads.length + (accuracy ? 1 : 0)
  const jobs: JobPlan[] = []
  for (const target of scenario.targets) {
    for (const [loadIndex, load] of loads.entries()) {
      const split = shards[loadIndex]
      if (!split) jobs.push({ kind: 'run', targetName: target.name, loadIndex, spec: { step: 'load', load } })
      else
        for (const [index, shard] of split.entries())
          jobs.push({
            kind: 'run',
            targetName: target.name,
            loadIndex,
            spec: { step: 'load', load, shard: { index, count: clients, load: shard } },
          })
    }
    if (accuracy)
      jobs.push({ kind: 'run', targetName: target.name, loadIndex: loads.length, spec: { step: 'accuracy' } })
    // One engine process times a micro load's tasks (tinybench): one job whatever --clients says.
    for (const [i, micro] of micros.entries())
      jobs.push({
        kind: 'run',
        targetName: target.name,
        loadIndex: microIndex + i,
        spec: { step: 'micro', micro },
      })
  }
  return jobs
}
