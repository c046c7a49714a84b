/**
 * The variant × engine table (/variants, /api/variants): what a person opens to choose a variant. For one
 * scenario and one load step (sequential and concurrent figures are never ranked together; default: the
 * scenario's first step), rows are variants — method, quant, bits, size, parent — and columns the engines;
 * a cell holds the headline figures of that variant on that engine: output tok/s and TTFT p50 of the load
 * step, peak memory, and acc ± stderr, KLD ± SE and top-1 agreement where measured.
 *
 * The join (the one harness/cli/variant-table.ts makes within one `bench run`, here over the latest runs
 * in scope, default branch by default): a target's accuracy and quality runs are runs of their own; each
 * joins the target's load-step run when it has the same target name, engine kind and variant (or, without
 * a stored variant, the same served model) — the latest such run. Peak memory is the highest over the
 * joined runs (a quality run may load more than the load step). A target with an accuracy or quality run
 * but no run of the chosen load step still gets its cell (figures of that kind only).
 *
 * Rows: a variant's targets on different engines share a row when they are the same variant in another
 * format: same family, method and quant (F32 = FP32), e.g. tiny-f32 (GGUF, llama.cpp) and tiny-onnx-fp32
 * (ONNX, onnxruntime). When two targets of such a group fall on one engine (two pruned F32 variants, 26
 * endpoint targets serving one model id), the group is split, one row per target, named by the target.
 * @module
 */
import type { Db } from '../../db/client.ts'
import type { MetricValues } from '../../db/queries/metrics-of.ts'
import { type ScenarioSummary, scenarioBranches } from '../../db/queries/pickers.ts'
import { type VariantTableRun, variantTableRuns } from '../../db/queries/variant-table.ts'
import { metricInfo } from '../../harness/metrics/catalogue.ts'
import { variantFamily } from '../charts/palette.ts'
import { NotFoundError } from '../errors.ts'
import { VARIANT_FIGURES, type VariantFigure, type VariantSort, type VariantsQuery } from '../params.ts'
import type { ReadCache } from './cache.ts'
import { chooseLoad, isLoadStep, type LoadOption, loadOptions } from './loads.ts'
import { cachedRankedScenarios, unrankedScenarioError } from './pickers.ts'
import {
  type BranchView,
  branchView,
  fallBackToEveryBranch,
  mayFallBack,
  type RunFlag,
  runFlags,
  scopeOptions,
} from './scope.ts'

/** The figures of one cell; absent when not measured. Units: tokens/s, ms, bytes, ratio, nats. */
export type CellFigures = Partial<
  Record<VariantFigure | 'accStderr' | 'klDivergenceSe' | 'qualityTopK', number>
>

export interface VariantCell {
  targetName: string
  /** Engine kind and version (`llama-cpp 3.21.1`). */
  engine: string
  hardware: string
  /** The load step's run; null when the target has only accuracy or quality runs here. */
  runId: number | null
  accuracyRunId: number | null
  qualityRunId: number | null
  /** The variant's name, else the served model id. */
  model: string
  /** The variant's file size, else the runs' `modelBytes`. bytes */
  sizeBytes: number | null
  figures: CellFigures
  /** Of the load step's run (data/scope.ts): its figures are not a best. */
  flags: RunFlag[]
  /** The load step's run's error rate (ratio), shown with the flags. */
  errorRate?: number
}

export interface VariantRow {
  /** Stable key: the variant identity, plus the target when the group was split. */
  key: string
  /** The variants' names (`tiny-f32 / tiny-onnx-fp32`), or the target's name in a split group. */
  label: string
  /** Colour key (charts/palette.ts variantFamily). */
  family: string
  method: string | null
  quant: string | null
  /** Bits per weight: the lowest and highest of the row's variants (differ across formats). */
  bits: { min: number; max: number } | null
  /** File size, bytes: the lowest and highest of the row's cells. */
  sizeBytes: { min: number; max: number } | null
  /** Parent variants' names. */
  parents: string[]
  /** engine kind → cell. */
  cells: Record<string, VariantCell>
  /** Union of the cells' flags. */
  flags: RunFlag[]
}

export interface VariantsModel {
  scenarios: ScenarioSummary[]
  /** The scenario shown; null when the database has no completed run. */
  scenario: string | null
  filters: Pick<VariantsQuery, 'branch'>
  view: BranchView
  /** Every branch with runs of the scenario, for the picker. */
  branches: string[]
  loads: LoadOption[]
  /** The load step shown (a `loads` key); null when the scenario has no load-step run in scope. */
  load: string | null
  /** `asked`: from `load=`; `first-step`: the scenario's first load step (the default). */
  loadChosen: 'asked' | 'first-step' | 'none'
  /** Engine kinds, the columns, A→Z. */
  engines: string[]
  /** Figures any cell has, in VARIANT_FIGURES order. */
  figures: VariantFigure[]
  /** engine kind → the figures its cells have: that engine's sub-columns (an endpoint has no KLD). */
  engineFigures: Record<string, VariantFigure[]>
  sort: VariantSort
  sortEngine: string | null
  dir: 'asc' | 'desc'
  rows: VariantRow[]
  /** Cells whose load-step run is flagged. */
  flaggedCells: number
  /** Accuracy and quality runs joined into cells. */
  joined: { accuracy: number; quality: number }
}

/** The model for `query`; with a cache, reused until a run starts, finishes or is imported. */
export function loadVariants(db: Db, query: VariantsQuery, cache?: ReadCache): Promise<VariantsModel> {
  if (!cache) return computeVariants(db, query)
  return cache.get(`variants:${JSON.stringify(query)}`, () => computeVariants(db, query, cache))
}

/** Higher-is-better figures sort descending by default, the rest (latency, memory, KLD, names) ascending. */
export function defaultVariantDir(sort: VariantSort): 'asc' | 'desc' {
  if (sort === 'variant' || sort === 'bits' || sort === 'sizeBytes') return 'asc'
  if (sort === 'acc') return 'desc'
  return metricInfo(sort)?.direction === 'higher' ? 'desc' : 'asc'
}

async function computeVariants(db: Db, query: VariantsQuery, cache?: ReadCache): Promise<VariantsModel> {
  const scenarios = await cachedRankedScenarios(db, cache)
  const scenario = query.scenario ?? scenarios[0]?.name ?? null
  const sort = query.sort ?? 'outputTokensPerS'
  let view = branchView(query.branch, query.role)
  const empty: VariantsModel = {
    scenarios,
    scenario,
    filters: query.branch !== undefined ? { branch: query.branch } : {},
    view,
    branches: [],
    loads: [],
    load: null,
    loadChosen: 'none',
    engines: [],
    figures: [],
    engineFigures: {},
    sort,
    sortEngine: query.sortEngine ?? null,
    dir: query.dir ?? defaultVariantDir(sort),
    rows: [],
    flaggedCells: 0,
    joined: { accuracy: 0, quality: 0 },
  }
  if (scenario === null) return empty
  if (!scenarios.some((s) => s.name === scenario)) throw await unrankedScenarioError(db, scenario, cache)

  const read = (v: BranchView) => variantTableRuns(db, { scenario, ...scopeOptions(v) })
  let [all, branches] = await Promise.all([read(view), scenarioBranches(db, scenario)])
  if (all.length === 0 && mayFallBack(view, query.branch)) {
    view = fallBackToEveryBranch(view)
    all = await read(view)
  }
  const loads = loadOptions(all)
  const load = chooseLoad(scenario, loads, query.load)
  const cells = joinCells(all, load)
  const engines = [...new Set(cells.map((c) => c.engineKind))].sort()
  if (query.sortEngine !== undefined && !engines.includes(query.sortEngine))
    throw new NotFoundError(
      `sortEngine: no engine column "${query.sortEngine}" here; use one of ${engines.join(', ') || '(none)'}, or leave it out to sort by each row's best`,
    )
  const rows = groupRows(cells)
  const figures = VARIANT_FIGURES.filter((f) =>
    rows.some((r) => Object.values(r.cells).some((c) => c.figures[f] !== undefined)),
  )
  const engineFigures = Object.fromEntries(
    engines.map((e) => [e, figures.filter((f) => rows.some((r) => r.cells[e]?.figures[f] !== undefined))]),
  )
  sortVariantRows(rows, sort, query.sortEngine ?? null, empty.dir)
  return {
    ...empty,
    view,
    branches,
    loads,
    load,
    loadChosen: load === null ? 'none' : query.load !== undefined ? 'asked' : 'first-step',
    engines,
    figures,
    engineFigures,
    rows,
    flaggedCells: cells.filter((c) => c.cell.flags.length > 0).length,
    joined: {
      accuracy: cells.filter((c) => c.cell.accuracyRunId !== null).length,
      quality: cells.filter((c) => c.cell.qualityRunId !== null).length,
    },
  }
}

interface JoinedCell {
  engineKind: string
  /** Row grouping key: the variant in any format (family, method, quant), else the served model. */
  groupKey: string
  variantName: string | null
  family: string
  method: string | null
  quant: string | null
  bits: number | null
  parent: string | null
  /** Tells two cells of one target apart (another machine or engine version). */
  fingerprint: string
  cell: VariantCell
}

/** F32 = FP32, F16 = FP16: one precision, named differently by GGUF and ONNX. */
function normalQuant(quant: string | null): string {
  if (quant === null) return ''
  const q = quant.toUpperCase()
  return /^FP(16|32|64)$/.test(q) ? q.slice(1) : q
}

/** Same target, engine and variant (or served model, without a variant). */
function identity(r: VariantTableRun): string {
  return `${r.targetName}\u0000${r.engineKind}\u0000${r.variant ? `v${r.variant.id}` : `m${r.engineModel}`}`
}

/** Latest first. */
const newest = (a: VariantTableRun, b: VariantTableRun) =>
  b.startedAt.getTime() - a.startedAt.getTime() || b.runId - a.runId

function joinCells(all: readonly VariantTableRun[], load: string | null): JoinedCell[] {
  const accuracy = new Map<string, VariantTableRun>()
  const quality = new Map<string, VariantTableRun>()
  for (const r of [...all].sort(newest)) {
    const into = r.loadKind === 'accuracy' ? accuracy : r.loadKind === 'quality' ? quality : undefined
    if (into && !into.has(identity(r))) into.set(identity(r), r)
  }
  const steps = all.filter((r) => isLoadStep(r) && r.workload === load)
  const stepIdentities = new Set(steps.map(identity))
  // Targets measured only for accuracy or quality here still get a cell: the latest of their runs.
  const alone = new Map<string, VariantTableRun>()
  for (const r of [...accuracy.values(), ...quality.values()].sort(newest))
    if (!stepIdentities.has(identity(r)) && !alone.has(identity(r))) alone.set(identity(r), r)
  return [...steps, ...alone.values()].map((r) => {
    const step = isLoadStep(r) ? r : undefined
    const acc = accuracy.get(identity(r))
    const qual = quality.get(identity(r))
    const joined = [step, acc, qual].filter((x): x is VariantTableRun => x !== undefined)
    const highest = (name: string) =>
      joined.reduce<number | undefined>((top, x) => {
        const v = x.metrics[name]?.value
        return v !== undefined && (top === undefined || v > top) ? v : top
      }, undefined)
    const figures: CellFigures = {}
    const put = (name: keyof CellFigures, from: MetricValues | undefined, metric: string = name) => {
      const v = from?.[metric]?.value
      if (v !== undefined && Number.isFinite(v)) figures[name] = v
    }
    put('outputTokensPerS', step?.metrics)
    put('ttftMsP50', step?.metrics)
    const rss = highest('peakRssBytes')
    if (rss !== undefined) figures.peakRssBytes = rss
    const vram = highest('vramBytes')
    if (vram !== undefined) figures.vramBytes = vram
    put('acc', acc?.metrics)
    put('accStderr', acc?.metrics)
    put('klDivergence', qual?.metrics)
    put('klDivergenceSe', qual?.metrics)
    put('top1Agreement', qual?.metrics)
    put('qualityTopK', qual?.metrics)
    const v = r.variant
    const flags = step ? runFlags(step.metrics) : []
    const errorRate = step?.metrics.errorRate?.value
    return {
      engineKind: r.engineKind,
      groupKey: v
        ? `variant\u0000${v.family ?? ''}\u0000${v.method}\u0000${normalQuant(v.quantLabel)}`
        : `model\u0000${r.engineModel}`,
      variantName: v?.name ?? null,
      family: variantFamily({ family: v?.family, variantName: v?.name, engineModel: r.engineModel }),
      method: v?.method ?? null,
      quant: v?.quantLabel ?? null,
      bits: v?.bits ?? null,
      parent: v?.parent ?? null,
      fingerprint: r.fingerprint,
      cell: {
        targetName: r.targetName,
        engine: r.engineVersion ? `${r.engineKind} ${r.engineVersion}` : r.engineKind,
        hardware: r.hardware,
        runId: step?.runId ?? null,
        accuracyRunId: acc?.runId ?? null,
        qualityRunId: qual?.runId ?? null,
        model: v?.name ?? r.engineModel,
        sizeBytes: v?.sizeBytes ?? highest('modelBytes') ?? null,
        figures,
        flags,
        ...(flags.length > 0 && errorRate !== undefined ? { errorRate } : {}),
      },
    }
  })
}

function range(values: readonly (number | null)[]): { min: number; max: number } | null {
  const present = values.filter((v): v is number => v !== null)
  return present.length === 0 ? null : { min: Math.min(...present), max: Math.max(...present) }
}

function distinct(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))].sort()
}

/** One row per group, or per cell when two cells of the group share an engine. */
function groupRows(cells: readonly JoinedCell[]): VariantRow[] {
  const groups = new Map<string, JoinedCell[]>()
  for (const c of cells) groups.set(c.groupKey, [...(groups.get(c.groupKey) ?? []), c])
  // A target name shared by two cells (another machine, engine version) gets what tells them apart.
  const byTarget = new Map<string, JoinedCell[]>()
  for (const c of cells) byTarget.set(c.cell.targetName, [...(byTarget.get(c.cell.targetName) ?? []), c])
  const targetLabel = (c: JoinedCell) => {
    const same = byTarget.get(c.cell.targetName) ?? []
    if (same.length < 2) return c.cell.targetName
    const hardware = new Set(same.map((s) => s.cell.hardware)).size > 1
    const engine = new Set(same.map((s) => s.cell.engine)).size > 1
    return `${c.cell.targetName} · ${hardware ? c.cell.hardware : engine ? c.cell.engine : c.fingerprint.slice(0, 8)}`
  }
  const rows: VariantRow[] = []
  for (const [key, members] of groups) {
    const engines = members.map((m) => m.engineKind)
    const split = new Set(engines).size < engines.length
    const parts = split ? members.map((m) => [m]) : [members]
    for (const part of parts) {
      const first = part[0]!
      rows.push({
        key: split ? `${key}\u0000${first.cell.targetName}\u0000${first.fingerprint}` : key,
        label: split
          ? targetLabel(first)
          : distinct(part.map((m) => m.variantName ?? m.cell.model)).join(' / '),
        family: first.family,
        method: first.method,
        quant: distinct(part.map((m) => m.quant)).join(' / ') || null,
        bits: range(part.map((m) => m.bits)),
        sizeBytes: range(part.map((m) => m.cell.sizeBytes)),
        parents: distinct(part.map((m) => m.parent)),
        cells: Object.fromEntries(part.map((m) => [m.engineKind, m.cell])),
        flags: [...new Set(part.flatMap((m) => m.cell.flags))],
      })
    }
  }
  return rows
}

/** The value a row sorts by: one engine's cell, else the best of its cells in the figure's direction. */
function sortValue(row: VariantRow, sort: VariantSort, engine: string | null): number | string | undefined {
  if (sort === 'variant') return row.label
  if (sort === 'bits') return row.bits?.min
  if (sort === 'sizeBytes') return row.sizeBytes?.min
  const cells = engine === null ? Object.values(row.cells) : row.cells[engine] ? [row.cells[engine]] : []
  const values = cells.flatMap((c) => (c.figures[sort] !== undefined ? [c.figures[sort]!] : []))
  if (values.length === 0) return undefined
  return defaultVariantDir(sort) === 'desc' ? Math.max(...values) : Math.min(...values)
}

/** In place; rows without the value go last whichever the direction; ties by label. */
export function sortVariantRows(
  rows: VariantRow[],
  sort: VariantSort,
  engine: string | null,
  dir: 'asc' | 'desc',
): void {
  const sign = dir === 'asc' ? 1 : -1
  const byLabel = (a: VariantRow, b: VariantRow) =>
    a.label < b.label ? -1 : a.label > b.label ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0
  rows.sort((a, b) => {
    const va = sortValue(a, sort, engine)
    const vb = sortValue(b, sort, engine)
    if ((va === undefined) !== (vb === undefined)) return va === undefined ? 1 : -1
    if (va !== undefined && vb !== undefined && va !== vb) return sign * (va < vb ? -1 : 1)
    return byLabel(a, b)
  })
}

export type { LoadOption }
export { VARIANT_FIGURES }
