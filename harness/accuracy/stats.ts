/**
 * Accuracy figures (METRICS.md, Accuracy): `acc` = correct / n and `accStderr` = sample sd / √n =
 * sqrt(acc·(1−acc)/(n−1)) (lm-eval mean_stderr, lm_eval/api/metrics.py), per subject, then two
 * averages over subjects:
 * - weighted (lm-eval `weight_by_size: True`, the `mmlu` group in lm_eval/tasks/mmlu/default/_mmlu.yaml):
 *   Σ n_i·acc_i / Σ n_i, i.e. correct / n over all items, with lm-eval's pooled stderr
 *   (pooled_sample_stderr in lm_eval/api/metrics.py, called by consolidate_group_results in
 *   lm_eval/evaluator_utils.py): sqrt( Σ (n_i−1)·se_i²·n_i / (Σ n_i − k) / Σ n_i ). Since
 *   (n_i−1)·se_i²·n_i = n_i·acc_i·(1−acc_i), it is computed from that product, which stays defined for a
 *   subject of one item. It pools within-subject variance only, as lm-eval's does.
 * - macro: the unweighted mean of subject accuracies, stderr sqrt(Σ se_i²) / k (independent subjects).
 *   lm-eval reports its pooled stderr for unweighted groups too; this one is the stderr of the mean it
 *   actually reports.
 * @module
 */

export interface AccuracyStat {
  /** Items scored. */
  readonly n: number
  /** Items answered right. */
  readonly correct: number
  /** correct / n, in [0, 1]. */
  readonly acc: number
  /** sqrt(acc·(1−acc)/(n−1)); undefined for n = 1 (no spread from one item). */
  readonly accStderr: number | undefined
}

/**
 * acc and accStderr of `correct` right answers out of `n`.
 * @throws RangeError unless 0 ≤ correct ≤ n, n ≥ 1, both integers
 */
export function accuracyOf(correct: number, n: number): AccuracyStat {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`accuracy needs n ≥ 1 scored items, got ${n}`)
  if (!(Number.isInteger(correct) && correct >= 0 && correct <= n))
    throw new RangeError(`correct must be an integer in 0..${n}, got ${correct}`)
  const acc = correct / n
  return { n, correct, acc, accStderr: n < 2 ? undefined : Math.sqrt((acc * (1 - acc)) / (n - 1)) }
}

/** accuracyOf over per-item outcomes. */
export function accuracy(outcomes: readonly boolean[]): AccuracyStat {
  let correct = 0
  for (const ok of outcomes) if (ok) correct++
  return accuracyOf(correct, outcomes.length)
}

export interface SubjectAccuracy extends AccuracyStat {
  readonly subject: string
}

export interface AverageAccuracy {
  /** Items over all subjects averaged. */
  readonly n: number
  readonly subjects: number
  readonly acc: number
  readonly accStderr: number | undefined
}

/**
 * lm-eval's size-weighted group average with its pooled stderr (see the module comment).
 * @throws RangeError for no subjects
 */
export function weightedAverage(stats: readonly AccuracyStat[]): AverageAccuracy {
  if (stats.length === 0) throw new RangeError('an average of no subjects')
  let n = 0
  let correct = 0
  let withinSquares = 0
  for (const s of stats) {
    n += s.n
    correct += s.correct
    withinSquares += s.n * s.acc * (1 - s.acc)
  }
  const dof = n - stats.length
  return {
    n,
    subjects: stats.length,
    acc: correct / n,
    accStderr: dof > 0 ? Math.sqrt(withinSquares / dof / n) : undefined,
  }
}

/**
 * Unweighted mean of subject accuracies, stderr sqrt(Σ se_i²)/k; undefined when a subject has none.
 * @throws RangeError for no subjects
 */
export function macroAverage(stats: readonly AccuracyStat[]): AverageAccuracy {
  if (stats.length === 0) throw new RangeError('an average of no subjects')
  let n = 0
  let sum = 0
  let variance: number | undefined = 0
  for (const s of stats) {
    n += s.n
    sum += s.acc
    variance = variance === undefined || s.accStderr === undefined ? undefined : variance + s.accStderr ** 2
  }
  const k = stats.length
  return {
    n,
    subjects: k,
    acc: sum / k,
    accStderr: variance === undefined ? undefined : Math.sqrt(variance) / k,
  }
}

export interface GroupSummary {
  readonly group: string
  readonly weighted: AverageAccuracy
  readonly macro: AverageAccuracy
}

export interface AccuracySummary {
  /** In name order. */
  readonly subjects: readonly SubjectAccuracy[]
  /** Over every subject: the `mmlu` figure lm-eval reports. */
  readonly weighted: AverageAccuracy
  readonly macro: AverageAccuracy
  /** One per entry of `groups`, in its order (e.g. lm-eval's stem, humanities, …). */
  readonly groups: readonly GroupSummary[]
}

/**
 * Per-subject accuracy and the averages, from one outcome per scored item.
 * @param groups group name → its subjects; a subject named there but never scored is an error
 * @throws RangeError for no items or a group naming an unscored subject
 */
export function summarizeAccuracy(
  items: readonly { readonly subject: string; readonly correct: boolean }[],
  groups: Readonly<Record<string, readonly string[]>> = {},
): AccuracySummary {
  if (items.length === 0) throw new RangeError('no scored items to summarize')
  const counts = new Map<string, { n: number; correct: number }>()
  for (const { subject, correct } of items) {
    const c = counts.get(subject) ?? { n: 0, correct: 0 }
    c.n++
    if (correct) c.correct++
    counts.set(subject, c)
  }
  const subjects = [...counts.keys()].sort().map((subject): SubjectAccuracy => {
    const c = counts.get(subject)!
    return { subject, ...accuracyOf(c.correct, c.n) }
  })
  const bySubject = new Map(subjects.map((s) => [s.subject, s]))
  const groupSummaries = Object.entries(groups).map(([group, members]): GroupSummary => {
    const missing = members.filter((m) => !bySubject.has(m))
    if (missing.length > 0)
      throw new RangeError(`group ${group} names subjects with no scored item: ${missing.join(', ')}`)
    const stats = members.map((m) => bySubject.get(m)!)
    return { group, weighted: weightedAverage(stats), macro: macroAverage(stats) }
  })
  return {
    subjects,
    weighted: weightedAverage(subjects),
    macro: macroAverage(subjects),
    groups: groupSummaries,
  }
}
