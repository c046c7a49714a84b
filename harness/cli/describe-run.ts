/**
 * What a run measured, in words for tables and progress: a load step as describeLoad says it, an accuracy
 * run as `accuracy loglik 5-shot 136 items`; and how many events its progress bar counts.
 * @module
 */
import { describeLoad, expectedRequests } from '../load/index.ts'
import type { RunSpec } from '../results.ts'

export function describeRun(spec: RunSpec): string {
  if (spec.kind !== 'accuracy') return describeLoad(spec)
  return `accuracy ${spec.scoring} ${spec.shots}-shot ${spec.items} items`
}

/** Requests (items, for an accuracy run) the run is expected to count, when known. */
export function expectedEvents(spec: RunSpec): number | undefined {
  return spec.kind === 'accuracy' ? spec.items : expectedRequests(spec)
}
