/**
 * The procurement page and /api/procurement: for one scenario and one workload (load step), the chosen
 * targets' cost efficiency (tokens/s per $·hour of their serving machine, output tokens per dollar),
 * throughput per GB of peak memory and goodput at the reader's SLO (gathered by db/queries/procurement.ts,
 * computed by db/figures), ranked per model (across hardware and engines; `model=*` ranks every model
 * together) by the objective the reader picks, with a recommendation; and the machines to price: native
 * targets' environments, endpoint targets' serving identities (an endpoint's environment is the client and
 * is never priced for it). Runs are those the leaderboard shows (default branch, no confirm re-runs).
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
import { targetFacets } from '../../db/queries/facets.ts'
import { type ScenarioSummary, scenarioBranches } from '../../db/queries/pickers.ts'
import {
  type EndpointServing,
  type ModelIdentity,
  type ProcurementCandidate,
  type ProcurementRow,
  procurementCandidates,
  procurementRows,
  scenarioSlo,
  storedOutcomes,
} from '../../db/queries/procurement.ts'
import type { Slo } from '../../harness/metrics/types.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import type { ProcurementQuery } from '../params.ts'
import type { ReadCache } from './cache.ts'
import { cachedRankedScenarios, unrankedScenarioError } from './pickers.ts'
import { type BranchView, branchView, fallBackToEveryBranch, mayFallBack, scopeOptions } from './scope.ts'

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
  usdPerHour: {
    unit: '$/h',
    description:
      'Hourly price of the serving machine, US dollars: a native engine’s environment, an endpoint’s serving identity (never the client that ran bench).',
  },
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
  variant: string
  engine: string
  /** The serving machine in words: a native target's environment, an endpoint's serving identity. */
  hardware: string
  /** Where `hardware` and the price come from. */
  servingSource: ServingSource
}
export type RankedTarget = Ranked<ProcurementTargetRow>

/** `environment`: the machine that ran a native engine; `dashboard`/`scenario`: an endpoint's identity. */
export type ServingSource = 'environment' | 'dashboard' | 'scenario' | 'unpriced endpoint'

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

/** A model of the workload, what ranking compares within. */
export interface ModelOption extends ModelIdentity {
  /** Targets of the workload serving it. */
  targets: number
  /** Its best target under the objective, among the chosen ones; null when none can be ranked. */
  best: { runId: number; label: string; value: number } | null
}

/** An endpoint target of the workload and its serving identity (null: unpriced). */
export interface EndpointTarget {
  targetName: string
  /** The row labels of this target in the workload. */
  labels: string[]
  model: string
  identity: EndpointServing | null
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
  e2eMs: number | null
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
  /** Which branch and run roles the runs come from (as the leaderboard: data/scope.ts). */
  view: BranchView
  /** The query's own branch (undefined: the default), and every branch of the scenario, for the picker. */
  branch: string | undefined
  branches: string[]
  loads: WorkloadOption[]
  /** The workload compared (a `loads` key); null without candidates. */
  load: string | null
  /** Models of the workload, most targets first. */
  models: ModelOption[]
  /** The model compared (a `models` key), or `*` for every model ranked together; null without targets. */
  model: string | null
  /** Every target of the workload and model, ticked when compared. */
  candidates: CandidateOption[]
  slo: ProcurementSlo
  rank: ProcurementObjective
  /** The figure `rank` orders by. */
  objectiveFigure: NumericFigure
  /** Ranked best first; rows without the objective's figure last (rank null, with the reason). */
  rows: RankedTarget[]
  /** Environments of the workload's native targets (an endpoint's environment is never priced for it). */
  environments: PricedEnvironment[]
  /** The workload's endpoint targets with their serving identities. */
  endpoints: EndpointTarget[]
  recommendation: ProcurementRecommendation
}

/** `model=*`: every model ranked together. */
export const ANY_MODEL = '*'

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
  const scenarios = await cachedRankedScenarios(db, cache)
  const scenario = query.scenario ?? scenarios[0]?.name ?? null
  let view = branchView(query.branch, query.role)
  const empty: ProcurementModel = {
    scenarios,
    scenario,
    view,
    branch: query.branch,
    branches: [],
    loads: [],
    load: null,
    models: [],
    model: null,
    candidates: [],
    slo: sloOf(query, {}),
    rank: query.rank,
    objectiveFigure: OBJECTIVE_FIGURE[query.rank],
    rows: [],
    environments: [],
    endpoints: [],
    recommendation: { best: null, text: '' },
  }
  if (scenario === null) return empty
  if (!scenarios.some((s) => s.name === scenario)) throw await unrankedScenarioError(db, scenario, cache)

  let [all, branches] = await Promise.all([
    procurementCandidates(db, scenario, scopeOptions(view)),
    scenarioBranches(db, scenario),
  ])
  // As the leaderboard: no run on the default branch → every branch, and the page says so.
  if (all.length === 0 && mayFallBack(view, query.branch)) {
    view = fallBackToEveryBranch(view)
    all = await procurementCandidates(db, scenario, scopeOptions(view))
  }
  const loads = workloads(all)
  const load = chooseWorkload(scenario, all, loads, query)
  const inLoad = all.filter((c) => c.workload === load)
  const picked =
    query.targets.length === 0 ? inLoad : inLoad.filter((c) => query.targets.includes(c.fingerprint))
  const modelKeys = modelsOf(inLoad)
  const model = chooseModel(modelKeys, picked, query.model)
  const ofModel = (c: ProcurementCandidate) => model === ANY_MODEL || c.model.key === model
  const chosen = picked.filter(ofModel)
  if (query.targets.length > 0 && chosen.length === 0)
    throw new BadRequestError([
      `targets: none of them serves model "${model}"; tick targets of that model, or leave model out to follow the targets`,
    ])

  const latest = [...inLoad].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0]
  const slo = sloOf(query, latest ? await scenarioSlo(db, latest.runId) : {})
  const loadOutcomes = cache
    ? (runId: number) => cache.get(`stored-outcomes:${runId}`, () => storedOutcomes(db, runId))
    : undefined
  const [rows, facets, environments] = await Promise.all([
    // Every target of the load, of every model: each model's best is listed beside the one compared,
    // whichever targets are ticked.
    procurementRows(
      db,
      inLoad,
      boundsOf(slo),
      // A run's requests are read once and reused for every SLO and ranking asked of it: reading them
      // was most of an uncached page (p95 101 ms on PGlite with 5,000-request runs, bench:dashboard).
      loadOutcomes,
    ),
    targetFacets(
      db,
      inLoad.map((c) => c.runId),
    ),
    listEnvironmentsWithPrices(
      db,
      inLoad.flatMap((c) =>
        c.serving.kind === 'environment' && c.serving.environmentId !== null ? [c.serving.environmentId] : [],
      ),
    ),
  ])
  const labelOf = (c: ProcurementCandidate) =>
    c.differsBy.length > 0 ? `${c.targetName} [${c.differsBy.join(', ')}]` : c.targetName
  const hardwareOf = (c: ProcurementCandidate): { hardware: string; source: ServingSource } => {
    if (c.serving.kind === 'environment') {
      const f = facets.get(c.runId)
      return { hardware: machineText(f), source: 'environment' }
    }
    if (c.serving.identity === null)
      return { hardware: 'endpoint: serving machine not set', source: 'unpriced endpoint' }
    return { hardware: servingText(c.serving.identity), source: c.serving.identity.source }
  }
  const targetRows = rows.map((r): ProcurementTargetRow => {
    const f = facets.get(r.runId)
    const { hardware, source } = hardwareOf(r)
    return {
      ...r,
      label: labelOf(r),
      variant: f?.variantName ? [f.variantName, f.quantLabel].filter(Boolean).join(' ') : r.engineModel,
      engine: f?.engineVersion ? `${r.engineKind} ${f.engineVersion}` : r.engineKind,
      hardware,
      servingSource: source,
    }
  })
  const ranked = rankProcurement(
    targetRows.filter((r) => chosen.some((c) => c.runId === r.runId)),
    query.rank,
  )
  const models = modelKeys.map((m): ModelOption => {
    const [best] = rankProcurement(
      targetRows.filter((r) => r.model.key === m.key),
      query.rank,
    )
    return {
      ...m,
      best: best && best.value !== null ? { runId: best.runId, label: best.label, value: best.value } : null,
    }
  })
  const endpointTargets = new Map<string, EndpointTarget>()
  for (const c of inLoad) {
    if (c.serving.kind !== 'endpoint') continue
    const entry = endpointTargets.get(c.targetName)
    if (entry) entry.labels.push(labelOf(c))
    else
      endpointTargets.set(c.targetName, {
        targetName: c.targetName,
        labels: [labelOf(c)],
        model: c.model.name,
        identity: c.serving.identity,
      })
  }
  return {
    ...empty,
    view,
    branches,
    loads,
    load,
    models,
    model,
    candidates: inLoad
      .filter(ofModel)
      .map((c) => ({
        fingerprint: c.fingerprint,
        label: labelOf(c),
        runId: c.runId,
        hardware: hardwareOf(c).hardware,
        selected: chosen.includes(c),
      }))
      .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : a.runId - b.runId)),
    slo,
    rows: ranked,
    environments: environments.map((e) => ({
      id: e.id,
      hardware: machineText({ cpuModel: e.cpuModel, cores: e.cores, gpus: e.gpus }),
      os: e.os,
      targets: inLoad
        .filter((c) => c.serving.kind === 'environment' && c.serving.environmentId === e.id)
        .map(labelOf)
        .sort(),
      price: e.price,
    })),
    endpoints: [...endpointTargets.values()].sort((a, b) =>
      a.targetName < b.targetName ? -1 : a.targetName > b.targetName ? 1 : 0,
    ),
    recommendation: recommend(
      ranked,
      query.rank,
      slo,
      model === ANY_MODEL ? null : modelName(models, model),
      model === ANY_MODEL && new Set(ranked.map((r) => r.model.key)).size > 1,
    ),
  }
}

/** The SLO's bounds that are set, as goodput takes them. */
function boundsOf(slo: ProcurementSlo): Slo {
  return {
    ...(slo.ttftMs !== null ? { ttftMs: slo.ttftMs } : {}),
    ...(slo.tpotMs !== null ? { tpotMs: slo.tpotMs } : {}),
    ...(slo.e2eMs !== null ? { e2eMs: slo.e2eMs } : {}),
  }
}

function modelName(models: readonly ModelOption[], key: string | null): string | null {
  return models.find((m) => m.key === key)?.name ?? null
}

/** Models of the workload's targets, most targets first, then by name. */
function modelsOf(inLoad: readonly ProcurementCandidate[]): Omit<ModelOption, 'best'>[] {
  const byKey = new Map<string, Omit<ModelOption, 'best'>>()
  for (const c of inLoad) {
    const entry = byKey.get(c.model.key)
    if (entry) entry.targets++
    else byKey.set(c.model.key, { ...c.model, targets: 1 })
  }
  return [...byKey.values()].sort(
    (a, b) => b.targets - a.targets || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  )
}

/**
 * The model compared: the one asked for (`*`: every model together), else the one the ticked targets
 * share, else the one with the most targets. Ticked targets of several models without `model=*` are
 * refused: ranking across models compares different models, which the reader must ask for.
 */
function chooseModel(
  models: readonly Omit<ModelOption, 'best'>[],
  picked: readonly ProcurementCandidate[],
  asked: string | undefined,
): string | null {
  if (asked === ANY_MODEL) return ANY_MODEL
  if (asked !== undefined) {
    if (!models.some((m) => m.key === asked))
      throw new NotFoundError(
        `model: no target of this load serves "${asked}"; choose one of ${models.map((m) => `"${m.key}"`).join(', ')}, or ${ANY_MODEL} for every model`,
      )
    return asked
  }
  const pickedKeys = new Set(picked.map((c) => c.model.key))
  if (pickedKeys.size === 1) return [...pickedKeys][0] as string
  if (pickedKeys.size > 1 && picked.length < models.reduce((n, m) => n + m.targets, 0))
    throw new BadRequestError([
      `targets: they serve different models (${[...pickedKeys].join(', ')}); compare one model at a time, or set model=${ANY_MODEL} to rank different models together`,
    ])
  return models[0]?.key ?? null
}

/** A native target's machine: `GPU · CPU model · 2 cores` (cores, not sockets: the environment counts cores). */
export function machineText(
  e: { cpuModel: string | null; cores: number | null; gpus: { name: string }[] | null } | undefined,
): string {
  if (!e || e.cpuModel === null) return 'unknown'
  const cores = e.cores === null ? '? cores' : `${e.cores} core${e.cores === 1 ? '' : 's'}`
  const cpu = `${e.cpuModel} · ${cores}`
  return e.gpus && e.gpus.length > 0 ? `${e.gpus.map((g) => g.name).join(' + ')} · ${cpu}` : cpu
}

/** An endpoint's serving identity in words: `2× NVIDIA L4 · AWS g6.12xlarge`, `2 GPUs · on-prem box`. */
export function servingText(s: { hardware: string; gpu: string | null; gpuCount: number | null }): string {
  if (s.gpu === null)
    return s.gpuCount === null
      ? s.hardware
      : `${s.gpuCount} GPU${s.gpuCount === 1 ? '' : 's'} · ${s.hardware}`
  return `${s.gpuCount !== null ? `${s.gpuCount}× ` : ''}${s.gpu} · ${s.hardware}`
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

function sloOf(query: ProcurementQuery, scenario: Slo): ProcurementSlo {
  if (query.sloTtftMs !== undefined || query.sloTpotMs !== undefined || query.sloE2eMs !== undefined)
    return {
      ttftMs: query.sloTtftMs ?? null,
      tpotMs: query.sloTpotMs ?? null,
      e2eMs: query.sloE2eMs ?? null,
      source: 'query',
    }
  if (scenario.ttftMs !== undefined || scenario.tpotMs !== undefined || scenario.e2eMs !== undefined)
    return {
      ttftMs: scenario.ttftMs ?? null,
      tpotMs: scenario.tpotMs ?? null,
      e2eMs: scenario.e2eMs ?? null,
      source: 'scenario',
    }
  return { ...DEFAULT_SLO, e2eMs: null, source: 'default' }
}

/** `ttftMs ≤ 500 ms and tpotMs ≤ 50 ms`. */
export function sloText(slo: ProcurementSlo): string {
  const bounds = [
    slo.ttftMs !== null ? `ttftMs ≤ ${slo.ttftMs} ms` : '',
    slo.tpotMs !== null ? `tpotMs ≤ ${slo.tpotMs} ms` : '',
    slo.e2eMs !== null ? `e2eMs ≤ ${slo.e2eMs} ms` : '',
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
  /** The model compared (its name); null when every model is ranked together or none is known. */
  model: string | null = null,
  /** Rows of different models are ranked together (model=*): said, so no one reads it as like with like. */
  mixedModels = false,
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
    const forModel = model === null ? '' : ` for model ${model}`
    let sentence = `By ${info.title}${atSlo}${forModel}, choose ${best.label}: ${say(best.value, unit)}`
    if (objective === 'cost-efficiency' && best.figures.outputTokensPerUsd !== null)
      sentence += ` (${say(best.figures.outputTokensPerUsd, 'output tokens per dollar')} at $${best.figures.usdPerHour}/h)`
    if (next && next.value !== null)
      sentence +=
        next.value > 0
          ? `, ${(best.value / next.value).toLocaleString('en-US', { maximumFractionDigits: 2 })}× the next, ${next.label} (${say(next.value, unit)})`
          : `, ahead of ${next.label} (${say(next.value, unit)})`
    parts.push(`${sentence}.`)
  } else parts.push(`No target can be ranked by ${info.title}${atSlo}.`)
  if (mixedModels)
    parts.push('These are different models ranked together (model=*): their outputs are not alike.')
  if (unranked.length > 0)
    parts.push(
      `Not ranked, listed last: ${unranked.map((r) => `${r.label} (${r.unrankedReason})`).join('; ')}.`,
    )
  return {
    best: best && best.value !== null ? { runId: best.runId, label: best.label, value: best.value } : null,
    text: parts.join(' '),
  }
}
