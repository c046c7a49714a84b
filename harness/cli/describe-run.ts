/**
 * What a run measured, in words for tables and progress: a load step as describeLoad says it, an accuracy
 * run as `accuracy loglik 5-shot 136 items`, a quality run as `quality vs f32 2048 tokens, ctx 512`; and how many events its progress bar counts.
 * @module
 */
import { describeStoredLoad } from '../../db/queries/dimensions.ts'
import { describeHttpLoad } from '../http-load/spec.ts'
import { describeLoad, expectedRequests } from '../load/index.ts'
import { describeMicro } from '../micro/task.ts'
import type { AccuracySpec, ChecklistSpec, MicroSpec, QualitySpec, RunSpec } from '../results.ts'

export function describeRun(spec: RunSpec): string {
  if (spec.kind === 'accuracy') return `accuracy ${spec.scoring} ${spec.shots}-shot ${spec.items} items`
  if (spec.kind === 'quality')
    return `quality vs ${spec.reference} ${spec.maxTokens} tokens, ctx ${spec.contextTokens}`
  if (spec.kind === 'checklist') return `checklist at concurrency ${spec.concurrency}`
  if (spec.kind === 'micro') return describeMicro(spec)
  if (spec.kind === 'http-load') return describeHttpLoad(spec)
  return describeLoad(spec)
}

/**
 * A stored run's load (runs.load) in words, as `bench runs list|show` and the gate print it: a load step as
 * `concurrent 4`, an accuracy run as `accuracy loglik 5-shot 40 items`, a quality run as `quality vs f32
 * 2048 tokens, ctx 512`.
 */
export function describeStoredRun(load: unknown): string {
  const kind = load !== null && typeof load === 'object' ? (load as { kind?: unknown }).kind : undefined
  if (kind === 'quality') return describeRun(load as QualitySpec)
  if (kind === 'checklist') return describeRun(load as ChecklistSpec)
  if (kind === 'micro' && Array.isArray((load as MicroSpec).tasks)) return describeRun(load as MicroSpec)
  return kind === 'accuracy' ? describeRun(load as AccuracySpec) : describeStoredLoad(load)
}

/** Requests (items, for an accuracy run) the run is expected to count, when known. */
export function expectedEvents(spec: RunSpec): number | undefined {
  if (spec.kind === 'quality' || spec.kind === 'checklist' || spec.kind === 'micro') return undefined
  if (spec.kind === 'http-load') return spec.requests
  return spec.kind === 'accuracy' ? spec.items : expectedRequests(spec)
}
