/**
 * The procurement page and /api/procurement: for one scenario and one workload (load step), the chosen
 * targets' cost efficiency (tokens/s per $·hour of their environment, output tokens per dollar),
 * throughput per GB of peak memory and goodput at the reader's SLO (gathered by db/queries/procurement.ts,
 * computed by db/figures), ranked by the objective the reader picks, with a recommendation; and the
 * environments to price.
 * @module
 */
import type { Db } from '../../db/client.ts'
import {
  type NumericFigure,
  OBJECTIVE_FIGURE,
  type ProcurementObjective,
  type Ranked,
  rankProcurement,
} from '../../db/figures/procurement.ts'
import { type EnvironmentPrice, listEnvironmentsWithPrices } from '../../db/prices.ts'
import { hardwareLabel, targetFacets } from '../../db/queries/facets.ts'
import type { ScenarioSummary } from '../../db/queries/pickers.ts'
import {
  type ProcurementCandidate,
  type ProcurementRow,
  procurementCandidates,
  procurementRows,
  scenarioSlo,
  storedOutcomes,
} from '../../db/queries/procurement.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import type { ProcurementQuery } from '../params.ts'
import type { ReadCache } from './cache.ts'
import { cachedScenarios } from './pickers.ts'

/** METRICS.md's example bounds, used when neither the reader nor the scenario sets an SLO. */
const DEFAULT_SLO = { ttftMs: 500, tpotMs: 50 } as const

/** Unit and meaning of each figure (tooltips, column headers, chart axes). */
export const FIGURE_INFO: Readonly<Record<NumericFigure, { unit: string; description: string }>> = {
  outputTokensPerS: {
    unit: 'tokens/s',
    description: 'Σ outputTokens of ok requests / window — the headline throughput (METRICS.md).',
  },
  memoryBytes: {
    unit: 'bytes',
    description: 'Peak memory of the run: peakRssBytes (native engine process), else vramBytes.',
  },
  usdPerHour: { unit: '$/h', description: 'Hourly price entered for the run’s environment, US dollars.' },
  outputTokensPerSPerUsdHour: {
    unit: 'tokens/s per $/h',
    description: 'outputTokensPerS / usdPerHour: throughput bought per dollar-hour.',
  },
  outputTokensPerUsd: {
    unit: 'tokens/$',
    description: 'outputTokensPerS × 3600 / usdPerHour: output tokens one dollar buys at this load.',
  },
  outputTokensPerSPerGB: {
    unit: 'tokens/s per GB',
    description: 'outputTokensPerS / (peak memory / 10⁹ bytes).',
  },
  goodputRequestsPerS: {
    unit: 'requests/s',
    description:
      'Ok requests meeting every SLO bound / window, recomputed from the stored requests at the SLO above (METRICS.md).',
  },
  goodFraction: {
    unit: 'ratio',
    description: 'Requests meeting the SLO / (ok + errors), at the SLO above (METRICS.md).',
  },
  goodRequestsPerUsd: {
    unit: 'requests/$',
    description: 'goodputRequestsPerS × 3600 / usdPerHour: requests meeting the SLO one dollar buys.',
  },
}

export const OBJECTIVE_INFO: Readonly<
  Record<ProcurementObjective, { title: string; figure: NumericFigure }>
> = {
  'cost-efficiency': { title: 'cost efficiency', figure: OBJECTIVE_FIGURE['cost-efficiency'] },
  'throughput-per-gb': {
    title: 'throughput per GB of memory',
    figure: OBJECTIVE_FIGURE['throughput-per-gb'],
  },
  goodput: { title: 'goodput at the SLO', figure: OBJECTIVE_FIGURE.goodput },
  'goodput-per-dollar': { title: 'goodput per dollar', figure: OBJECTIVE_FIGURE['goodput-per-dollar'] },
}

export interface ProcurementTargetRow extends ProcurementRow {
  /** Target name, plus what differs when the target has several rows in this workload. */
  label: string
  /** Variant name and quant label, else the engine's model id. */
  model: string
  engine: string
  hardware: string
}
export type RankedTarget = Ranked<ProcurementTargetRow>

export interface WorkloadOption {
  /** The `load` parameter value. */
  key: string
  label: string
  /** Targets measured under it. */
  targets: number
}

export interface CandidateOption {
  fingerprint: string
  label: string
  runId: number
  hardware: string
  selected: boolean
}

export interface PricedEnvironment {
  id: number
  hardware: string
  os: string
  /** Labels of this workload's targets that ran on it. */
  targets: string[]
  price: EnvironmentPrice | null
}

export interface ProcurementSlo {
  ttftMs: number | null
  tpotMs: number | null
  /** `query`: set by the reader; `scenario`: the scenario's own; `default`: METRICS.md's example. */
  source: 'query' | 'scenario' | 'default'
}

export interface ProcurementRecommendation {
  best: { runId: number; label: string; value: number } | null
  /** One sentence (plain text) saying what to choose and why, and what could not be ranked. */
  text: string
}

export interface ProcurementModel {
  scenarios: ScenarioSummary[]
  /** null when the database has no completed run. */
  scenario: string | null
  loads: WorkloadOption[]
  /** The workload compared (a `loads` key); null without candidates. */
  load: string | null
  /** Every target of the workload, ticked when compared. */
  candidates: CandidateOption[]
  slo: ProcurementSlo
  rank: ProcurementObjective
  /** The figure `rank` orders by. */
  objectiveFigure: NumericFigure
  /** Ranked best first; rows without the objective's figure last (rank null, with the reason). */
  rows: RankedTarget[]
  environments: PricedEnvironment[]
  recommendation: ProcurementRecommendation
}

/** The model for `query`; with a cache, reused until a run, alert or price changes. */
export function loadProcurement(
  db: Db,
  query: ProcurementQuery,
  cache?: ReadCache,
): Promise<ProcurementModel> {
  if (!cache) return computeProcurement(db, query)
  return cache.get(`procurement:${JSON.stringify(query)}`, () => computeProcurement(db, query, cache))
}

async function computeProcurement(
  db: Db,
  query: ProcurementQuery,
  cache?: ReadCache,
): Promise<ProcurementModel> {
  const scenarios = await cachedScenarios(db, cache)
  const scenario = query.scenario ?? scenarios[0]?.name ?? null
  const empty: ProcurementModel = {
    scenarios,
    scenario,
    loads: [],
    load: null,
    candidates: [],
    slo: sloOf(query, {}),
    rank: query.rank,
    objectiveFigure: OBJECTIVE_FIGURE[query.rank],
    rows: [],
    environments: [],
    recommendation: { best: null, text: '' },
  }
  if (scenario === null) return empty
  if (!scenarios.some((s) => s.name === scenario))
    throw new NotFoundError(`no completed runs of scenario "${scenario}"`)

  const all = await procurementCandidates(db, scenario)
  const loads = workloads(all)
  const load = chooseWorkload(scenario, all, loads, query)
  const inLoad = all.filter((c) => c.workload === load)
  const chosen =
    query.targets.length === 0 ? inLoad : inLoad.filter((c) => query.targets.includes(c.fingerprint))

  const latest = [...inLoad].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0]
  const slo = sloOf(query, latest ? await scenarioSlo(db, latest.runId) : {})
  const [rows, facets, environments] = await Promise.all([
    procurementRows(
      db,
      chosen,
      {
        ...(slo.ttftMs !== null ? { ttftMs: slo.ttftMs } : {}),
        ...(slo.tpotMs !== null ? { tpotMs: slo.tpotMs } : {}),
      },
      // A run's requests are read once and reused for every SLO and ranking asked of it: reading them
      // was most of an uncached page (p95 101 ms on PGlite with 5,000-request runs, bench:dashboard).
      cache ? (runId) => cache.get(`stored-outcomes:${runId}`, () => storedOutcomes(db, runId)) : undefined,
    ),
    targetFacets(
      db,
      inLoad.map((c) => c.runId),
    ),
    listEnvironmentsWithPrices(
      db,
      inLoad.flatMap((c) => (c.environmentId === null ? [] : [c.environmentId])),
    ),
  ])
  const labelOf = (c: ProcurementCandidate) =>
    c.differsBy.length > 0 ? `${c.targetName} [${c.differsBy.join(', ')}]` : c.targetName
  const ranked = rankProcurement(
    rows.map((r): ProcurementTargetRow => {
      const f = facets.get(r.runId)
      return {
        ...r,
        label: labelOf(r),
        model: f?.variantName ? [f.variantName, f.quantLabel].filter(Boolean).join(' ') : r.engineModel,
        engine: f?.engineVersion ? `${r.engineKind} ${f.engineVersion}` : r.engineKind,
        hardware: f?.hardware ?? 'unknown',
      }
    }),
    query.rank,
  )
  return {
    ...empty,
    loads,
    load,
    candidates: inLoad
      .map((c) => ({
        fingerprint: c.fingerprint,
        label: labelOf(c),
        runId: c.runId,
        hardware: facets.get(c.runId)?.hardware ?? 'unknown',
        selected: chosen.includes(c),
      }))
      .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : a.runId - b.runId)),
    slo,
    rows: ranked,
    environments: environments.map((e) => ({
      id: e.id,
      hardware: hardwareLabel(e.cpuModel, e.cores, e.gpus),
      os: e.os,
      targets: inLoad.filter((c) => c.environmentId === e.id).map(labelOf),
      price: e.price,
    })),
    recommendation: recommend(ranked, query.rank, slo),
  }
}

/** Workloads of the scenario, most targets first (the default), then by sweep step and name. */
function workloads(all: readonly ProcurementCandidate[]): WorkloadOption[] {
  const byKey = new Map<string, { option: WorkloadOption; step: number }>()
  for (const c of all) {
    const entry = byKey.get(c.workload)
    if (entry) {
      entry.option.targets++
      entry.step = Math.min(entry.step, c.loadIndex)
    } else
      byKey.set(c.workload, {
        option: { key: c.workload, label: c.workloadLabel, targets: 1 },
        step: c.loadIndex,
      })
  }
  return [...byKey.values()]
    .sort(
      (a, b) =>
        b.option.targets - a.option.targets ||
        a.step - b.step ||
        (a.option.label < b.option.label ? -1 : a.option.label > b.option.label ? 1 : 0),
    )
    .map((e) => e.option)
}

/**
 * The workload to compare: the one asked for, else the one the chosen targets share, else the one with
 * the most targets. Targets of another workload are refused: their figures do not compare.
 */
function chooseWorkload(
  scenario: string,
  all: readonly ProcurementCandidate[],
  loads: readonly WorkloadOption[],
  query: ProcurementQuery,
): string | null {
  const unknown = query.targets.filter((t) => !all.some((c) => c.fingerprint === t))
  if (unknown.length > 0)
    throw new NotFoundError(
      `no completed run of scenario "${scenario}" has fingerprint ${unknown.map((t) => t.slice(0, 12)).join(', ')}`,
    )
  if (query.load !== undefined && !loads.some((l) => l.key === query.load))
    throw new NotFoundError(`scenario "${scenario}" has no workload ${query.load}`)
  const labelOf = (key: string) => loads.find((l) => l.key === key)?.label ?? key
  const chosenLoads = new Set(all.filter((c) => query.targets.includes(c.fingerprint)).map((c) => c.workload))
  const targetLoads = loads.map((l) => l.key).filter((key) => chosenLoads.has(key))
  if (query.load !== undefined) {
    const other = targetLoads.filter((w) => w !== query.load)
    if (other.length > 0)
      throw new BadRequestError([
        `targets: some were measured under ${other.map((w) => `"${labelOf(w)}"`).join(', ')}, not the chosen load "${labelOf(query.load)}"; choose targets of one load (their figures only compare like with like)`,
      ])
    return query.load
  }
  if (targetLoads.length > 1)
    throw new BadRequestError([
      `targets: they were measured under different loads (${targetLoads.map((w) => `"${labelOf(w)}"`).join(', ')}); choose targets of one load, or set load= to one of ${targetLoads.join(', ')}`,
    ])
  return targetLoads[0] ?? loads[0]?.key ?? null
}

function sloOf(query: ProcurementQuery, scenario: { ttftMs?: number; tpotMs?: number }): ProcurementSlo {
  if (query.sloTtftMs !== undefined || query.sloTpotMs !== undefined)
    return { ttftMs: query.sloTtftMs ?? null, tpotMs: query.sloTpotMs ?? null, source: 'query' }
  if (scenario.ttftMs !== undefined || scenario.tpotMs !== undefined)
    return { ttftMs: scenario.ttftMs ?? null, tpotMs: scenario.tpotMs ?? null, source: 'scenario' }
  return { ...DEFAULT_SLO, source: 'default' }
}

/** `ttftMs ≤ 500 ms and tpotMs ≤ 50 ms`. */
export function sloText(slo: ProcurementSlo): string {
  const bounds = [
    slo.ttftMs !== null ? `ttftMs ≤ ${slo.ttftMs} ms` : '',
    slo.tpotMs !== null ? `tpotMs ≤ ${slo.tpotMs} ms` : '',
  ].filter(Boolean)
  return bounds.length > 0 ? bounds.join(' and ') : 'no bound'
}

/** A figure as the sentence says it: 3 significant digits, thousands separated. */
function say(v: number, unit: string): string {
  const text =
    Math.abs(v) >= 100
      ? Math.round(v).toLocaleString('en-US')
      : v.toLocaleString('en-US', { maximumSignificantDigits: 3 })
  return `${text} ${unit}`
}

/** Pure: what to choose under `objective`, how far ahead it is, and what could not be ranked and why. */
export function recommend(
  rows: readonly RankedTarget[],
  objective: ProcurementObjective,
  slo: ProcurementSlo,
): ProcurementRecommendation {
  if (rows.length === 0) return { best: null, text: 'No target to compare.' }
  const info = OBJECTIVE_INFO[objective]
  const unit = FIGURE_INFO[info.figure].unit
  const ranked = rows.filter((r) => r.rank !== null)
  const unranked = rows.filter((r) => r.rank === null)
  const atSlo = objective === 'goodput' || objective === 'goodput-per-dollar' ? ` (SLO ${sloText(slo)})` : ''
  const parts: string[] = []
  const [best, next] = ranked
  if (best && best.value !== null) {
    let sentence = `By ${info.title}${atSlo}, choose ${best.label}: ${say(best.value, unit)}`
    if (objective === 'cost-efficiency' && best.figures.outputTokensPerUsd !== null)
      sentence += ` (${say(best.figures.outputTokensPerUsd, 'output tokens per dollar')} at $${best.figures.usdPerHour}/h)`
    if (next && next.value !== null)
      sentence +=
        next.value > 0
          ? `, ${(best.value / next.value).toLocaleString('en-US', { maximumFractionDigits: 2 })}× the next, ${next.label} (${say(next.value, unit)})`
          : `, ahead of ${next.label} (${say(next.value, unit)})`
    parts.push(`${sentence}.`)
  } else parts.push(`No target can be ranked by ${info.title}${atSlo}.`)
  if (unranked.length > 0)
    parts.push(
      `Not ranked, listed last: ${unranked.map((r) => `${r.label} (${r.unrankedReason})`).join('; ')}.`,
    )
  return {
    best: best && best.value !== null ? { runId: best.runId, label: best.label, value: best.value } : null,
    text: parts.join(' '),
  }
}
