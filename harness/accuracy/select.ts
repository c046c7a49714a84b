/**
 * Which items a run scores and which examples precede them.
 * - selectItems: a subjects filter, then per subject either the first `limit` items in file order
 *   (`order: 'first'`, the default and lm-eval's: its `--limit` slices each task's docs with
 *   itertools.islice, lm_eval/utils.py create_iterator) or `limit` items drawn by a seeded shuffle
 *   (`order: 'shuffle'`), returned in file order.
 * - fewShots: the first k items of the subject's dev split, lm-eval's `fewshot_config.sampler: first_n`.
 * @module
 */
import { createRandom } from '../random.ts'
import type { McItem } from './types.ts'

export interface SelectOptions {
  /** Subjects to keep (names as in the files, underscores kept); every subject when absent. */
  subjects?: readonly string[]
  /** Items per subject, a positive integer; all when absent. */
  limit?: number
  /** `first`: the first `limit` in file order (lm-eval). `shuffle`: a seeded sample. @default 'first' */
  order?: 'first' | 'shuffle'
  /** Seed of `shuffle`; each subject draws from its own stream (seed, subject), so adding a subject to
   * the filter leaves the others' items unchanged. @default 0 */
  seed?: number
}

/**
 * The items to score, subjects in the order of `items`.
 * @throws RangeError for an unknown subject (listing the known ones) or a limit that is not a positive integer
 */
export function selectItems(items: readonly McItem[], options: SelectOptions = {}): McItem[] {
  const { limit, order = 'first', seed = 0 } = options
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
    throw new RangeError(`limit must be a positive integer (items per subject), got ${limit}`)
  const bySubject = groupBySubject(items)
  if (options.subjects !== undefined) {
    const unknown = options.subjects.filter((s) => !bySubject.has(s))
    if (unknown.length > 0)
      throw new RangeError(
        `unknown subject${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${[...bySubject.keys()].join(', ')}`,
      )
  }
  const wanted = options.subjects === undefined ? undefined : new Set(options.subjects)
  const selected: McItem[] = []
  for (const [subject, group] of bySubject) {
    if (wanted !== undefined && !wanted.has(subject)) continue
    if (limit === undefined || limit >= group.length) selected.push(...group)
    else if (order === 'first') selected.push(...group.slice(0, limit))
    else selected.push(...seededSample(group, limit, seed, subject))
  }
  return selected
}

/**
 * The first `k` dev items of `subject` (lm-eval's first_n sampler).
 * @throws RangeError when the subject has fewer than k dev items (lm-eval asserts the same)
 */
export function fewShots(dev: readonly McItem[], subject: string, k: number): McItem[] {
  if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`shots must be an integer ≥ 0, got ${k}`)
  if (k === 0) return []
  const shots = dev.filter((item) => item.subject === subject).slice(0, k)
  if (shots.length < k)
    throw new RangeError(
      `subject ${subject} has ${shots.length} dev item${shots.length === 1 ? '' : 's'}, ${k} shots asked: ` +
        `add dev/${subject}_dev.csv rows (or "split": "dev" lines) or ask for fewer shots`,
    )
  return shots
}

function groupBySubject(items: readonly McItem[]): Map<string, McItem[]> {
  const groups = new Map<string, McItem[]>()
  for (const item of items) {
    const group = groups.get(item.subject)
    if (group === undefined) groups.set(item.subject, [item])
    else group.push(item)
  }
  return groups
}

/** `count` of `group` by a partial Fisher–Yates shuffle, back in file order. */
function seededSample(group: readonly McItem[], count: number, seed: number, subject: string): McItem[] {
  const random = createRandom(mixSeed(seed, subject))
  const indices = group.map((_, i) => i)
  for (let i = 0; i < count; i++) {
    const j = random.int(i, indices.length - 1)
    ;[indices[i], indices[j]] = [indices[j]!, indices[i]!]
  }
  return indices
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((i) => group[i]!)
}

/** FNV-1a of the subject, xor the seed: one stream per (seed, subject). */
function mixSeed(seed: number, subject: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < subject.length; i++) hash = Math.imul(hash ^ subject.charCodeAt(i), 0x01000193)
  return (hash ^ seed) >>> 0
}
