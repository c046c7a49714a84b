/**
 * A scenario's load steps, as the load filter of the leaderboard and the variant × engine table lists
 * them: figures of one step only are ranked together (a concurrent run's throughput beside a sequential
 * one's is no comparison). A step is its workload key (db/queries/procurement.ts workloadKey: scenario hash
 * + load spec); the default is the scenario's first step. Accuracy and quality runs are not load steps.
 * @module
 */
import { NotFoundError } from '../errors.ts'

/** One load step of the scenario, as the load filter lists it. */
export interface LoadOption {
  /** The `load` parameter value: 12 hex digits of scenario hash + load spec. */
  key: string
  /** `step 1: sequential`; with the key when two versions of the scenario read alike. */
  label: string
  /** runs.load_kind: `sequential`, `concurrent`, `poisson` … */
  kind: string
  /** 0-based position in the scenario. */
  loadIndex: number
  /** Targets with a run of this step in scope. */
  targets: number
}

/** What a run says of its load (db/queries/variant-table.ts RunLoad). */
export interface LoadOfRun {
  targetName: string
  startedAt: Date
  loadKind: string
  loadIndex: number
  workload: string
  loadLabel: string
}

/** Accuracy and quality runs ask items or a corpus, micro runs time tasks, not a load: never a step of the filter. */
export const isLoadStep = (r: { loadKind: string }) =>
  r.loadKind !== 'accuracy' && r.loadKind !== 'quality' && r.loadKind !== 'micro'

/**
 * The load steps among `runs` (load-step runs only): by position (loadIndex), then the step most targets
 * ran, then the newest; a step of an older scenario version with the same words gets its key in its label.
 */
export function loadOptions(runs: readonly LoadOfRun[]): LoadOption[] {
  const byKey = new Map<string, { option: LoadOption; targets: Set<string>; newest: number }>()
  for (const r of runs) {
    if (!isLoadStep(r)) continue
    const entry = byKey.get(r.workload)
    if (entry) {
      entry.targets.add(r.targetName)
      entry.newest = Math.max(entry.newest, r.startedAt.getTime())
    } else
      byKey.set(r.workload, {
        option: { key: r.workload, label: r.loadLabel, kind: r.loadKind, loadIndex: r.loadIndex, targets: 0 },
        targets: new Set([r.targetName]),
        newest: r.startedAt.getTime(),
      })
  }
  const entries = [...byKey.values()]
  const words = (o: LoadOption) => `step ${o.loadIndex + 1}: ${o.label}`
  const seen = new Map<string, number>()
  for (const e of entries) seen.set(words(e.option), (seen.get(words(e.option)) ?? 0) + 1)
  return entries
    .map((e) => ({
      ...e.option,
      targets: e.targets.size,
      // Two versions of the scenario with the same step in words: the key tells them apart.
      label: (seen.get(words(e.option)) ?? 0) > 1 ? `${words(e.option)} (${e.option.key})` : words(e.option),
      newest: e.newest,
    }))
    .sort((a, b) => a.loadIndex - b.loadIndex || b.targets - a.targets || b.newest - a.newest)
    .map(({ newest: _, ...option }) => option)
}

/** The asked step, which must be one of `loads` (else a 404 listing them), or the first. */
export function chooseLoad(
  scenario: string,
  loads: readonly LoadOption[],
  asked: string | undefined,
): string | null {
  if (asked !== undefined && !loads.some((l) => l.key === asked))
    throw new NotFoundError(
      `load: scenario "${scenario}" has no load step ${asked} in this view; use one of ${loads.map((l) => `${l.key} (${l.label})`).join(', ') || '(none: no load-step runs)'}, or leave load out for the first step`,
    )
  return asked ?? loads[0]?.key ?? null
}
