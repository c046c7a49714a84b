/**
 * The leaderboard page and /api/leaderboard: per scenario, one row per target and fingerprint (latest
 * completed run; db/queries/leaderboard.ts), with what each target is (variant × engine × environment),
 * filtered on those dimensions, sorted on any column, plus the Pareto fronts and a recommendation.
 * By default only the default branch (and runs without a branch) and no confirmation re-runs (scope.ts);
 * client-saturated rows and rows over 1 % errors are flagged and never picked as best nor on a front.
 * @module
 */
import type { Db } from '../../db/client.ts'
import { MEMORY_METRICS } from '../../db/figures/procurement.ts'
import { type TargetFacets, targetFacets } from '../../db/queries/facets.ts'
import {
  HEADLINE_METRICS,
  type LeaderboardRow,
  leaderboard,
  type MetricValues,
} from '../../db/queries/index.ts'
import { type ScenarioSummary, scenarioBranches } from '../../db/queries/pickers.ts'
import { type RunLoad, runLoads } from '../../db/queries/variant-table.ts'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { variantFamily } from '../charts/palette.ts'
import { type Better, paretoFront } from '../charts/pareto.ts'
import { EVERY_LOAD, type LeaderboardQuery, type LeaderboardSort } from '../params.ts'
import type { ReadCache } from './cache.ts'
import { chooseLoad, isLoadStep, type LoadOption, loadOptions } from './loads.ts'
import { cachedRankedScenarios, unrankedScenarioError } from './pickers.ts'
import {
  type BranchView,
  branchView,
  FLAG_METRICS,
  fallBackToEveryBranch,
  mayFallBack,
  type RunFlag,
  runFlags,
  scopeOptions,
} from './scope.ts'

/** Accuracy (METRICS.md `acc`) and its standard error, when the scenario measured them. */
export const ACCURACY_METRIC = 'acc'
export const ACCURACY_STDERR_METRIC = 'accStderr'
const LEADERBOARD_METRICS = [...HEADLINE_METRICS, ACCURACY_METRIC, ACCURACY_STDERR_METRIC]
/** What the rows are read with: the shown figures plus what the flags need. */
const READ_METRICS = [...new Set([...LEADERBOARD_METRICS, ...FLAG_METRICS])]

export interface LeaderboardTarget {
  runId: number
  targetName: string
  /** Target name, plus what differs when the target has several fingerprints. */
  label: string
  fingerprint: string
  differsBy: string[]
  startedAt: Date
  gitCommit: string | null
  gitBranch: string | null
  /** The run's load step (its workload key), or its accuracy / quality spec's; and the load in words. */
  workload: string
  loadKind: string
  /** 0-based step in the scenario (accuracy and quality runs come after the steps). */
  loadIndex: number
  loadLabel: string
  /** 'confirm' for a `bench gate --confirm` re-run (shown only when the query asks for them). */
  role: 'run' | 'confirm'
  /** Why this row's figures are not a best (scope.ts); empty for a clean row. */
  flags: RunFlag[]
  runsInSeries: number
  engine: string
  engineKind: string
  /** Variant name and quant label, else the engine's model id. */
  model: string
  method: string | null
  quant: string | null
  /** Variant family, the key of the row's colour on every page (charts/palette.ts variantFamily). */
  family: string
  hardware: string
  metrics: MetricValues
}

export interface ParetoPlot {
  /** e.g. `throughput-memory`. */
  id: string
  x: { metric: string; better: Better }
  y: { metric: string; better: Better }
  /** Rows having both figures. */
  runIds: number[]
  /** Of those, the non-dominated ones among unflagged rows, by x (a flagged row is never on a front). */
  frontRunIds: number[]
}

export interface Choice {
  runId: number
  label: string
  metric: string
  value: number
  unit: string
  /** Set when every row with the figure is flagged, so the choice is one of them: shown with its flags. */
  flags?: RunFlag[]
  /** The chosen row's error rate (ratio), with `flags`. */
  errorRate?: number
}

export interface Recommendation {
  bestThroughput?: Choice
  lowestLatency?: Choice
  leastMemory?: Choice
  bestAccuracy?: Choice
  /** The first Pareto plot's front (throughput against memory, else latency). */
  paretoSet: { plot: string; labels: string[] }
  /** Rows left out of every pick and front because they are flagged. */
  flaggedRows: number
}

export interface LeaderboardModel {
  scenarios: ScenarioSummary[]
  /** The scenario shown; null when the database has no completed run. */
  scenario: string | null
  filters: Pick<LeaderboardQuery, 'load' | 'branch' | 'engine' | 'hardware' | 'method' | 'quant'>
  /** Which branch and run roles the rows come from (the default branch unless asked; scope.ts). */
  view: BranchView
  /**
   * The scenario's load steps (data/loads.ts). Rows are one step's (the first unless `load=` asks for
   * another, `*` every step ranked together) plus the accuracy and quality runs, which are no step.
   */
  loads: LoadOption[]
  /** The step shown (a `loads` key), `*` for every step, null when the scenario has no load-step run. */
  load: string | null
  loadChosen: 'asked' | 'first-step' | 'every' | 'none'
  sort: LeaderboardSort
  dir: 'asc' | 'desc'
  /** Values present among the scenario's rows, for the filter pickers (branch: every branch of the scenario). */
  options: { branch: string[]; engine: string[]; hardware: string[]; method: string[]; quant: string[] }
  /** Rows before the dimension filters (after the branch filter, which the query applies). */
  totalRows: number
  rows: LeaderboardTarget[]
  /** Which figures any row has (columns without values are not shown). */
  present: string[]
  pareto: ParetoPlot[]
  recommendation: Recommendation
}

/** The model for `query`; with a cache, reused until a run starts, finishes or is imported. */
export function loadLeaderboard(
  db: Db,
  query: LeaderboardQuery,
  cache?: ReadCache,
): Promise<LeaderboardModel> {
  if (!cache) return computeLeaderboard(db, query)
  return cache.get(`leaderboard:${JSON.stringify(query)}`, () => computeLeaderboard(db, query, cache))
}

async function computeLeaderboard(
  db: Db,
  query: LeaderboardQuery,
  cache?: ReadCache,
): Promise<LeaderboardModel> {
  const scenarios = await cachedRankedScenarios(db, cache)
  const scenario = query.scenario ?? scenarios[0]?.name ?? null
  const filters = {
    ...(query.load !== undefined ? { load: query.load } : {}),
    ...(query.branch !== undefined ? { branch: query.branch } : {}),
    ...(query.engine !== undefined ? { engine: query.engine } : {}),
    ...(query.hardware !== undefined ? { hardware: query.hardware } : {}),
    ...(query.method !== undefined ? { method: query.method } : {}),
    ...(query.quant !== undefined ? { quant: query.quant } : {}),
  }
  const sort = query.sort ?? 'outputTokensPerS'
  const dir = query.dir ?? defaultDir(sort)
  let view = branchView(query.branch, query.role)
  const empty: LeaderboardModel = {
    scenarios,
    scenario,
    filters,
    view,
    loads: [],
    load: null,
    loadChosen: 'none',
    sort,
    dir,
    options: { branch: [], engine: [], hardware: [], method: [], quant: [] },
    totalRows: 0,
    rows: [],
    present: [],
    pareto: [],
    recommendation: { paretoSet: { plot: '', labels: [] }, flaggedRows: 0 },
  }
  if (scenario === null) return empty
  if (!scenarios.some((s) => s.name === scenario)) throw await unrankedScenarioError(db, scenario, cache)

  const read = (v: BranchView) => leaderboard(db, { scenario, metrics: READ_METRICS, ...scopeOptions(v) })
  let [raw, branches] = await Promise.all([read(view), scenarioBranches(db, scenario)])
  // No run of this scenario on the default branch (a repository whose default is `master`, runs made on
  // a feature branch): every branch rather than an empty page, and the page says so.
  if (raw.length === 0 && mayFallBack(view, query.branch)) {
    view = fallBackToEveryBranch(view)
    raw = await read(view)
  }
  const ids = raw.map((r) => r.runId)
  const [facets, runLoadsOf] = await Promise.all([targetFacets(db, ids), runLoads(db, ids)])
  const everyStep = raw.map((r) => toTarget(r, facets.get(r.runId), runLoadsOf.get(r.runId)))
  // One load step at a time (a concurrent run's throughput beside a sequential one's ranks nothing):
  // the first unless asked, `*` every step; accuracy and quality runs are no step and always stay.
  const loads = loadOptions(everyStep)
  const load = query.load === EVERY_LOAD ? EVERY_LOAD : chooseLoad(scenario, loads, query.load)
  const all = withStepLabels(
    everyStep.filter((r) => load === EVERY_LOAD || !isLoadStep(r) || r.workload === load),
    load !== EVERY_LOAD,
  )
  const rows = all.filter(
    (r) =>
      (query.engine === undefined || r.engineKind === query.engine) &&
      (query.hardware === undefined || r.hardware === query.hardware) &&
      (query.method === undefined || r.method === query.method) &&
      (query.quant === undefined || r.quant === query.quant),
  )
  sortRows(rows, sort, dir)
  const present = LEADERBOARD_METRICS.filter((m) => rows.some((r) => r.metrics[m] !== undefined))
  const pareto = paretoPlots(rows)
  return {
    ...empty,
    view,
    loads,
    load,
    loadChosen:
      load === null
        ? 'none'
        : load === EVERY_LOAD
          ? 'every'
          : query.load !== undefined
            ? 'asked'
            : 'first-step',
    options: {
      branch: branches,
      engine: distinct(all.map((r) => r.engineKind)),
      hardware: distinct(all.map((r) => r.hardware)),
      method: distinct(all.map((r) => r.method)),
      quant: distinct(all.map((r) => r.quant)),
    },
    totalRows: all.length,
    rows,
    present,
    pareto,
    recommendation: recommend(rows, present, pareto),
  }
}

/**
 * With one load step shown, a target's row no longer needs the load (nor the scenario hash accuracy and
 * quality runs carry) in its label when it is the target's only row of its kind: `tiny-q4_0`, not
 * `tiny-q4_0 [load: sequential, scenario: scenario 3f2a…]`. Whatever else differs stays.
 */
function withStepLabels(rows: LeaderboardTarget[], oneStep: boolean): LeaderboardTarget[] {
  if (!oneStep) return rows
  const kindOf = (r: LeaderboardTarget) => (isLoadStep(r) ? 'step' : r.loadKind)
  const count = new Map<string, number>()
  for (const r of rows)
    count.set(`${r.targetName}\u0000${kindOf(r)}`, (count.get(`${r.targetName}\u0000${kindOf(r)}`) ?? 0) + 1)
  return rows.map((r) => {
    if ((count.get(`${r.targetName}\u0000${kindOf(r)}`) ?? 0) > 1 || r.differsBy.length === 0) return r
    const kept = r.differsBy.filter(
      (d) => !d.startsWith('scenario: ') && (!isLoadStep(r) || !d.startsWith('load: ')),
    )
    return {
      ...r,
      differsBy: kept,
      label: kept.length > 0 ? `${r.targetName} [${kept.join(', ')}]` : r.targetName,
    }
  })
}

function toTarget(
  r: LeaderboardRow,
  f: TargetFacets | undefined,
  load: RunLoad | undefined,
): LeaderboardTarget {
  const model = f?.variantName ? [f.variantName, f.quantLabel].filter(Boolean).join(' ') : r.engineModel
  return {
    runId: r.runId,
    targetName: r.targetName,
    label: r.differsBy.length > 0 ? `${r.targetName} [${r.differsBy.join(', ')}]` : r.targetName,
    fingerprint: r.fingerprint,
    differsBy: r.differsBy,
    startedAt: r.startedAt,
    gitCommit: r.gitCommit,
    gitBranch: r.gitBranch,
    workload: load?.workload ?? '',
    loadKind: load?.loadKind ?? 'unknown',
    loadIndex: load?.loadIndex ?? 0,
    loadLabel: load?.loadLabel ?? 'unknown',
    role: r.role,
    flags: runFlags(r.metrics),
    runsInSeries: r.runsInSeries,
    engine: f?.engineVersion ? `${r.engineKind} ${f.engineVersion}` : r.engineKind,
    engineKind: r.engineKind,
    model,
    method: f?.method ?? null,
    quant: f?.quantLabel ?? null,
    family: variantFamily({ family: f?.family, variantName: f?.variantName, engineModel: r.engineModel }),
    hardware: f?.hardware ?? 'unknown',
    // The flags' figures stay out of the row's figures unless shown (errorRate is a column).
    metrics: Object.fromEntries(Object.entries(r.metrics).filter(([name]) => name !== 'clientSaturated')),
  }
}

/** Better first: descending for higher-is-better figures, ascending for lower-is-better; names A→Z. */
export function defaultDir(sort: LeaderboardSort): 'asc' | 'desc' {
  if (sort === 'target') return 'asc'
  if (sort === ACCURACY_METRIC) return 'desc'
  return metricInfo(sort)?.direction === 'higher' ? 'desc' : 'asc'
}

/** In place; rows without the figure go last whichever the direction. */
function sortRows(rows: LeaderboardTarget[], sort: LeaderboardSort, dir: 'asc' | 'desc'): void {
  const sign = dir === 'asc' ? 1 : -1
  rows.sort((a, b) => {
    if (sort === 'target') return sign * compareText(a.label, b.label) || a.runId - b.runId
    const va = a.metrics[sort]?.value
    const vb = b.metrics[sort]?.value
    if ((va === undefined) !== (vb === undefined)) return va === undefined ? 1 : -1
    if (va !== undefined && vb !== undefined && va !== vb) return sign * (va - vb)
    return compareText(a.label, b.label) || a.runId - b.runId
  })
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function distinct(values: (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))].sort(compareText)
}

/**
 * Throughput against memory (peakRssBytes, else vramBytes) when at least two targets have it, else
 * against TTFT p95; and against accuracy when at least two targets have it. One target alone has no
 * trade-off to show.
 */
function paretoPlots(rows: LeaderboardTarget[]): ParetoPlot[] {
  const plot = (id: string, yMetric: string, yBetter: Better): ParetoPlot | undefined => {
    const having = rows.filter(
      (r) => r.metrics.outputTokensPerS !== undefined && r.metrics[yMetric] !== undefined,
    )
    if (having.length < 2) return undefined
    // The front is drawn among clean rows: a saturated or error-heavy row must not dominate them.
    const clean = having.filter((r) => r.flags.length === 0)
    const points = clean.map((r) => ({ x: r.metrics.outputTokensPerS!.value, y: r.metrics[yMetric]!.value }))
    return {
      id,
      x: { metric: 'outputTokensPerS', better: 'higher' },
      y: { metric: yMetric, better: yBetter },
      runIds: having.map((r) => r.runId),
      frontRunIds: paretoFront(points, 'higher', yBetter).map((i) => clean[i]!.runId),
    }
  }
  const tradeOff =
    MEMORY_METRICS.map((m) => plot('throughput-memory', m, 'lower')).find((p) => p !== undefined) ??
    plot('throughput-latency', 'ttftMsP95', 'lower')
  const accuracy = plot('throughput-accuracy', ACCURACY_METRIC, 'higher')
  return [tradeOff, accuracy].filter((p): p is ParetoPlot => p !== undefined)
}

/**
 * The best row for `metric` among unflagged rows; only when every row having the figure is flagged, the
 * best of those, carrying its flags so the page shows them beside it.
 */
function best(rows: LeaderboardTarget[], metric: string, better: Better): Choice | undefined {
  const pick = (candidates: LeaderboardTarget[]): Choice | undefined => {
    let chosen: Choice | undefined
    for (const r of candidates) {
      const m = r.metrics[metric]
      if (m === undefined) continue
      if (!chosen || (better === 'higher' ? m.value > chosen.value : m.value < chosen.value))
        chosen = {
          runId: r.runId,
          label: r.label,
          metric,
          value: m.value,
          unit: m.unit,
          ...(r.flags.length > 0
            ? {
                flags: r.flags,
                ...(r.metrics.errorRate ? { errorRate: r.metrics.errorRate.value } : {}),
              }
            : {}),
        }
    }
    return chosen
  }
  return pick(rows.filter((r) => r.flags.length === 0)) ?? pick(rows)
}

function recommend(
  rows: LeaderboardTarget[],
  present: readonly string[],
  pareto: ParetoPlot[],
): Recommendation {
  const memory = MEMORY_METRICS.find((m) => present.includes(m))
  const latency = present.includes('ttftMsP95')
    ? 'ttftMsP95'
    : present.includes('ttftMsP50')
      ? 'ttftMsP50'
      : undefined
  const byId = new Map(rows.map((r) => [r.runId, r]))
  const first = pareto[0]
  const picks = {
    bestThroughput: best(rows, 'outputTokensPerS', 'higher'),
    lowestLatency: latency ? best(rows, latency, 'lower') : undefined,
    leastMemory: memory ? best(rows, memory, 'lower') : undefined,
    bestAccuracy: present.includes(ACCURACY_METRIC) ? best(rows, ACCURACY_METRIC, 'higher') : undefined,
  }
  return {
    ...Object.fromEntries(Object.entries(picks).filter(([, v]) => v !== undefined)),
    paretoSet: {
      plot: first?.id ?? '',
      labels: (first?.frontRunIds ?? []).map((id) => byId.get(id)?.label ?? String(id)),
    },
    flaggedRows: rows.filter((r) => r.flags.length > 0).length,
  }
}
