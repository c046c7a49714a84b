/**
 * The micro runs' table for `bench run` (harness/cli/format.ts prints it after the latency table): one row
 * per target × task with tinybench's figures (METRICS.md "Micro tasks").
 * @module
 */
import type { MicroSpec, MicroTaskResult, RunState } from '../results.ts'
import { microTaskId } from './task.ts'

/** What the table needs of a run result (runner LoadRunResult). */
export interface MicroRow {
  target: string
  load: { kind: string }
  state: Exclude<RunState, 'running'>
  micro?: MicroTaskResult[]
}

export const MICRO_COLUMNS = [
  'target',
  'task',
  'state',
  'samples',
  'mean ms',
  'p50 ms',
  'p99 ms',
  'sd ms',
  'rme %',
  'ops/s',
  'throughput',
] as const

export const MICRO_FOOTNOTE =
  'tinybench per iteration, warmup excluded · rme = 95 % margin of error of the mean / mean · ops/s = mean of 1000 / iteration ms · throughput = ops/s × tokens (forward P, prefill-decode P + 1) or chars (tokenize) · aborted: maxTimeMs or Ctrl-C stopped the task early'

/** ms with 3 significant digits (micro tasks run from µs to seconds). */
const ms = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(3)).toString() : '-')
const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '-')

/** One row per measured task; a micro run that measured none (a failed target) gets one row with its state. */
export function microRows(results: readonly MicroRow[]): string[][] {
  return results
    .filter((r) => r.load.kind === 'micro')
    .flatMap((r) => {
      const tasks = r.micro ?? []
      if (tasks.length === 0) {
        const spec = r.load as MicroSpec
        const planned = Array.isArray(spec.tasks) ? spec.tasks.map(microTaskId).join(', ') : '-'
        return [[r.target, planned, r.state, '0', '-', '-', '-', '-', '-', '-', '-']]
      }
      return tasks.map((t) => {
        const l = t.latencyMs
        const throughput = t.opsPerS * t.unitsPerOp
        return [
          r.target,
          t.id,
          t.state === 'aborted' ? 'aborted' : r.state,
          String(t.samples),
          ms(l.mean),
          ms(l.p50),
          ms(l.p99),
          ms(l.sd),
          fixed(l.rmePct, 1),
          fixed(t.opsPerS, 1),
          `${fixed(throughput, 0)} ${t.task.kind === 'tokenize' ? 'chars/s' : 'tok/s'}`,
        ]
      })
    })
}
