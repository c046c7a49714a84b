/**
 * What a run measured, in words for tables and progress: a load step as describeLoad says it, an accuracy
 * run as `accuracy loglik 5-shot 136 items`, a quality run as `quality vs f32 2048 tokens, ctx 512`; and how many events its progress bar counts.
 * @module
 */
import { describeLoad, expectedRequests } from '../load/index.ts'
import type { RunSpec } from '../results.ts'

export function describeRun(spec: RunSpec): string {
  if (spec.kind === 'accuracy') return `accuracy ${spec.scoring} ${spec.shots}-shot ${spec.items} items`
  if (spec.kind === 'quality')
    return `quality vs ${spec.reference} ${spec.maxTokens} tokens, ctx ${spec.contextTokens}`
  return describeLoad(spec)
}

/** Requests (items, for an accuracy run) the run is expected to count, when known. */
export function expectedEvents(spec: RunSpec): number | undefined {
  if (spec.kind === 'quality') return undefined
  return spec.kind === 'accuracy' ? spec.items : expectedRequests(spec)
}
