/**
 * Worker tags and the queue's task identifiers. A job that requires tags {gpu=h100} is queued under the
 * identifier `run|gpu=h100`; a worker with tags {gpu=h100, region=eu} asks graphile-worker for every
 * identifier its tags satisfy (each subset of them, per job kind), so the database hands a job only to a
 * worker that has every tag it requires — with no scan of jobs it cannot run. Pure.
 * @module
 */
import { HarnessError } from '../../harness/errors.ts'

/** A worker's tags become 2^n identifiers per kind: 8 tags → 256, which graphile-worker looks up once. */
export const MAX_WORKER_TAGS = 8

/** key=value: what parseTags accepts (the dashboard's launch body documents the same pattern). */
export const TAG = /^[a-z0-9][a-z0-9_.-]*=[A-Za-z0-9_.:/-]+$/

/**
 * Checks and canonicalizes `key=value` tags (sorted, deduplicated). `flag` names where they came from in
 * the error. One value per key: `gpu=h100 gpu=a100` is a mistake, not a set.
 */
export function parseTags(values: readonly string[], flag: string): string[] {
  const keys = new Map<string, string>()
  for (const raw of values) {
    const tag = raw.trim()
    if (!TAG.test(tag))
      throw new HarnessError(
        `${flag} "${raw}": expected key=value (key: lower-case letters, digits, _ . -; value: letters, digits, _ . : / -), e.g. gpu=h100`,
      )
    const key = tag.slice(0, tag.indexOf('='))
    const seen = keys.get(key)
    if (seen !== undefined && seen !== tag)
      throw new HarnessError(`${flag}: "${seen}" and "${tag}" give ${key} two values; keep one`)
    keys.set(key, tag)
  }
  return [...new Set(keys.values())].sort()
}

/** The task identifier of a job of `kind` that requires `tags` (canonical, from parseTags). */
export function taskIdentifier(kind: string, tags: readonly string[]): string {
  return tags.length === 0 ? kind : `${kind}|${[...tags].sort().join(',')}`
}

/** Every identifier a worker with `tags` may claim for `kind`: one per subset of its tags. */
export function claimableIdentifiers(kind: string, tags: readonly string[]): string[] {
  if (tags.length > MAX_WORKER_TAGS)
    throw new HarnessError(
      `--tag: a worker takes at most ${MAX_WORKER_TAGS} tags (each subset is a queue identifier), got ${tags.length}`,
    )
  const sorted = [...tags].sort()
  const out: string[] = []
  for (let mask = 0; mask < 1 << sorted.length; mask++)
    out.push(
      taskIdentifier(
        kind,
        sorted.filter((_, i) => mask & (1 << i)),
      ),
    )
  return out
}

/** The kind and required tags of an identifier (inverse of taskIdentifier). */
export function parseIdentifier(identifier: string): { kind: string; tags: string[] } {
  const bar = identifier.indexOf('|')
  return bar < 0
    ? { kind: identifier, tags: [] }
    : { kind: identifier.slice(0, bar), tags: identifier.slice(bar + 1).split(',') }
}
