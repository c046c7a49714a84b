/**
 * The leaderboard page and /api/leaderboard: per scenario, one row per target and fingerprint (latest
 * completed run; db/queries/leaderboard.ts), with what each target is (variant × engine × environment),
 * filtered on those dimensions, sorted on any column, plus the Pareto fronts and a recommendation.
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
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { type Better, paretoFront } from '../charts/pareto.ts'
import { NotFoundError } from '../errors.ts'
import type { LeaderboardQuery, LeaderboardSort } from '../params.ts'
import type { ReadCache } from './cache.ts'
import { cachedScenarios } from './pickers.ts'

/** Accuracy (METRICS.md `acc`) and its standard error, when the scenario measured them. */
export const ACCURACY_METRIC = 'acc'
export const ACCURACY_STDERR_METRIC = 'accStderr'
const LEADERBOARD_METRICS = [...HEADLINE_METRICS, ACCURACY_METRIC, ACCURACY_STDERR_METRIC]

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
  runsInSeries: number
  engine: string
  engineKind: string
  /** Variant name and quant label, else the engine's model id. */
  model: string
  method: string | null
  quant: string | null
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
  /** Of those, the non-dominated ones, by x. */
  frontRunIds: number[]
}

export interface Choice {
  runId: number
  label: string
  metric: string
  value: number
  unit: string
}

export interface Recommendation {
  bestThroughput?: Choice
  lowestLatency?: Choice
  leastMemory?: Choice
  bestAccuracy?: Choice
  /** The first Pareto plot's front (throughput against memory, else latency). */
  paretoSet: { plot: string; labels: string[] }
}

export interface LeaderboardModel {
  scenarios: ScenarioSummary[]
  /** The scenario shown; null when the database has no completed run. */
  scenario: string | null
  filters: Pick<LeaderboardQuery, 'branch' | 'engine' | 'hardware' | 'method' | 'quant'>
  sort: LeaderboardSort
  dir: 'asc' | 'desc'
  /** Values present among the scenario's rows, for the filter pickers. */
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
  const scenarios = await cachedScenarios(db, cache)
  const scenario = query.scenario ?? scenarios[0]?.name ?? null
  const filters = {
    ...(query.branch !== undefined ? { branch: query.branch } : {}),
    ...(query.engine !== undefined ? { engine: query.engine } : {}),
    ...(query.hardware !== undefined ? { hardware: query.hardware } : {}),
    ...(query.method !== undefined ? { method: query.method } : {}),
    ...(query.quant !== undefined ? { quant: query.quant } : {}),
  }
  const sort = query.sort ?? 'outputTokensPerS'
  const dir = query.dir ?? defaultDir(sort)
  const empty: LeaderboardModel = {
    scenarios,
    scenario,
    filters,
    sort,
    dir,
    options: { branch: [], engine: [], hardware: [], method: [], quant: [] },
    totalRows: 0,
    rows: [],
    present: [],
    pareto: [],
    recommendation: { paretoSet: { plot: '', labels: [] } },
  }
  if (scenario === null) return empty
  if (!scenarios.some((s) => s.name === scenario))
    throw new NotFoundError(`no completed runs of scenario "${scenario}"`)

  const [raw, branches] = await Promise.all([
    leaderboard(db, {
      scenario,
      metrics: LEADERBOARD_METRICS,
      ...(query.branch !== undefined ? { branch: query.branch } : {}),
    }),
    scenarioBranches(db, scenario),
  ])
  const facets = await targetFacets(
    db,
    raw.map((r) => r.runId),
  )
  const all = raw.map((r) => toTarget(r, facets.get(r.runId)))
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

function toTarget(r: LeaderboardRow, f: TargetFacets | undefined): LeaderboardTarget {
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
    runsInSeries: r.runsInSeries,
    engine: f?.engineVersion ? `${r.engineKind} ${f.engineVersion}` : r.engineKind,
    engineKind: r.engineKind,
    model,
    method: f?.method ?? null,
    quant: f?.quantLabel ?? null,
    hardware: f?.hardware ?? 'unknown',
    metrics: r.metrics,
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
    const points = having.map((r) => ({ x: r.metrics.outputTokensPerS!.value, y: r.metrics[yMetric]!.value }))
    return {
      id,
      x: { metric: 'outputTokensPerS', better: 'higher' },
      y: { metric: yMetric, better: yBetter },
      runIds: having.map((r) => r.runId),
      frontRunIds: paretoFront(points, 'higher', yBetter).map((i) => having[i]!.runId),
    }
  }
  const tradeOff =
    MEMORY_METRICS.map((m) => plot('throughput-memory', m, 'lower')).find((p) => p !== undefined) ??
    plot('throughput-latency', 'ttftMsP95', 'lower')
  const accuracy = plot('throughput-accuracy', ACCURACY_METRIC, 'higher')
  return [tradeOff, accuracy].filter((p): p is ParetoPlot => p !== undefined)
}

function best(rows: LeaderboardTarget[], metric: string, better: Better): Choice | undefined {
  let chosen: Choice | undefined
  for (const r of rows) {
    const m = r.metrics[metric]
    if (m === undefined) continue
    if (!chosen || (better === 'higher' ? m.value > chosen.value : m.value < chosen.value))
      chosen = { runId: r.runId, label: r.label, metric, value: m.value, unit: m.unit }
  }
  return chosen
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
  }
}
