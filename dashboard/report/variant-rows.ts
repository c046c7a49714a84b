/**
 * The variant table of a report, from stored runs: one row per target (a variant on an engine, on one
 * machine) joining its latency, accuracy and quality runs — the join `bench run` prints
 * (harness/cli/variant-table.ts) with the same rules, over run_metrics rows instead of in-memory results,
 * and as numbers (the page formats them):
 * TTFT p50 of the target's first latency load (lowest load index, then earliest), output tok/s the highest
 * over its latency loads, peak RSS the highest over all its runs, acc ± stderr of its accuracy run, KLD ± SE
 * and top-1 agreement of its quality run (the latest of each when one invocation has several).
 * Pure: no database, so the join is tested with hand-made rows.
 * @module
 */
import { type RunFlag, runFlags } from '../data/scope.ts'

/** What the join needs of one stored run (db/queries getRunDetail, narrowed). */
export interface StoredRun {
  id: number
  targetName: string
  scenarioName: string
  /** runs.load_kind: `accuracy` and `quality` runs are not latency runs. */
  loadKind: string
  loadIndex: number
  startedAt: Date
  /** The `bench run` that made it; runs of one invocation join into one row, others never do. */
  invocationId: string | null
  engineKind: string
  engineVersion: string | null
  environmentId: number | null
  variant: {
    id: number
    name: string
    method: string
    quantLabel: string | null
    bits: number | null
    sizeBytes: number | null
  } | null
  /** Metric name → stored value (run_metrics). */
  metrics: Readonly<Record<string, number>>
}

export interface VariantRow {
  /** The target's name, plus what tells it apart when another row has the same name (e.g. `· runs 4, 5`). */
  label: string
  targetName: string
  /** Engine kind and version, e.g. `llama-cpp 3.21.1`. */
  engine: string
  variantName: string | null
  method: string | null
  quant: string | null
  bits: number | null
  /** The variant's file size, else the runs' `modelBytes`. bytes */
  sizeBytes: number | null
  /** Highest `peakRssBytes` over the target's runs. bytes */
  peakRssBytes: number | null
  /** `ttftMsP50` of the first latency load. ms */
  ttftMsP50: number | null
  /** Highest `outputTokensPerS` over the latency loads. tokens/s */
  outputTokensPerS: number | null
  /** Run whose throughput is `outputTokensPerS` (its flags are the row's). */
  bestRunId: number | null
  acc: number | null
  accStderr: number | null
  /** Mean KL divergence vs the quality reference. nats */
  klDivergence: number | null
  klDivergenceSe: number | null
  top1Agreement: number | null
  /** Why the throughput is not a best (client-saturated, errors over 1 %); dashboard/data/scope.ts. */
  flags: RunFlag[]
  errorRate: number | null
  /** Every run joined into this row, oldest first. */
  runIds: number[]
}

export const isLatencyRun = (r: Pick<StoredRun, 'loadKind'>): boolean =>
  r.loadKind !== 'accuracy' && r.loadKind !== 'quality'

/**
 * Runs share a row when one invocation measured the same target on the same engine, variant and machine:
 * a name alone could join two machines, and two separately selected runs of a target are two rows to compare.
 */
function rowKey(r: StoredRun): string {
  return JSON.stringify([
    r.invocationId ?? `run ${r.id}`,
    r.scenarioName,
    r.targetName,
    r.engineKind,
    r.engineVersion,
    r.variant?.id ?? null,
    r.environmentId,
  ])
}

const byLoad = (a: StoredRun, b: StoredRun) =>
  a.loadIndex - b.loadIndex || a.startedAt.getTime() - b.startedAt.getTime() || a.id - b.id
const byTime = (a: StoredRun, b: StoredRun) => a.startedAt.getTime() - b.startedAt.getTime() || a.id - b.id

const value = (r: StoredRun | undefined, name: string): number | null => {
  const v = r?.metrics[name]
  return v === undefined || !Number.isFinite(v) ? null : v
}

/** One row per target, in the order targets first appear among `runs` (oldest run first). */
export function variantRows(runs: readonly StoredRun[]): VariantRow[] {
  const groups = new Map<string, StoredRun[]>()
  for (const r of [...runs].sort(byTime)) {
    const key = rowKey(r)
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  const names = new Map<string, number>()
  for (const list of groups.values()) {
    const name = list[0]!.targetName
    names.set(name, (names.get(name) ?? 0) + 1)
  }
  return [...groups.values()].map((list): VariantRow => {
    const first = list[0]!
    const latency = list.filter(isLatencyRun).sort(byLoad)
    let best: StoredRun | undefined
    for (const r of latency) {
      const v = value(r, 'outputTokensPerS')
      if (v !== null && (best === undefined || v > value(best, 'outputTokensPerS')!)) best = r
    }
    const highest = (name: string) =>
      list.reduce<number | null>((top, r) => {
        const v = value(r, name)
        return v !== null && (top === null || v > top) ? v : top
      }, null)
    const latest = (pick: (r: StoredRun) => boolean) => list.filter(pick).at(-1)
    const accuracy = latest((r) => value(r, 'acc') !== null)
    const quality = latest((r) => value(r, 'klDivergence') !== null || value(r, 'top1Agreement') !== null)
    const variant = list.find((r) => r.variant)?.variant ?? null
    const flagMetrics = best
      ? Object.fromEntries(Object.entries(best.metrics).map(([k, v]) => [k, { value: v }]))
      : {}
    return {
      label:
        (names.get(first.targetName) ?? 0) > 1
          ? `${first.targetName} · run${list.length === 1 ? '' : 's'} ${list.map((r) => r.id).join(', ')}`
          : first.targetName,
      targetName: first.targetName,
      engine: first.engineVersion ? `${first.engineKind} ${first.engineVersion}` : first.engineKind,
      variantName: variant?.name ?? null,
      method: variant?.method ?? null,
      quant: variant?.quantLabel ?? null,
      bits: variant?.bits ?? null,
      sizeBytes: variant?.sizeBytes ?? highest('modelBytes'),
      peakRssBytes: highest('peakRssBytes'),
      ttftMsP50: value(latency[0], 'ttftMsP50'),
      outputTokensPerS: value(best, 'outputTokensPerS'),
      bestRunId: best?.id ?? null,
      acc: value(accuracy, 'acc'),
      accStderr: value(accuracy, 'accStderr'),
      klDivergence: value(quality, 'klDivergence'),
      klDivergenceSe: value(quality, 'klDivergenceSe'),
      top1Agreement: value(quality, 'top1Agreement'),
      flags: runFlags(flagMetrics),
      errorRate: value(best, 'errorRate'),
      runIds: list.map((r) => r.id),
    }
  })
}
