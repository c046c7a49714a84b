/**
 * A report's model: the selected runs (select.ts) with what each is and ran on, the variant table joined from
 * their stored figures (variant-rows.ts), the CDFs of their latency runs — TTFT and TPOT as the run page has
 * them (dashboard/data/run-series.ts), chunk gaps (vLLM's ITL) pooled over each run's requests — and the
 * definitions of the figures shown. Plain data: render.ts turns it into the one HTML file.
 * @module
 */
import type { Db } from '../../db/client.ts'
import { hardwareLabel } from '../../db/queries/facets.ts'
import { describeStoredLoad, listRunRequests, type RunDetail } from '../../db/queries/index.ts'
import { empiricalCdf } from '../charts/cdf.ts'
import { CDF_POINTS, runSeries } from '../data/run-series.ts'
import { type RunFlag, runFlags } from '../data/scope.ts'
import { type MetricDefinition, metricDefinitions } from './definitions.ts'
import { type ReportSelection, selectRuns } from './select.ts'
import { isLatencyRun, type StoredRun, type VariantRow, variantRows } from './variant-rows.ts'

export interface ReportRun {
  id: number
  scenarioName: string
  targetName: string
  /** The load in words (`concurrent 4`, `accuracy` …). */
  load: string
  loadKind: string
  state: string
  error: string | null
  startedAt: Date
  gitBranch: string | null
  gitCommit: string | null
  role: string
  label: string | null
  /** Engine kind and version. */
  engine: string
  /** Index into ReportModel.environments; null when the run stored none (an imported run). */
  environment: number | null
  requests: { ok: number; errors: number }
  flags: RunFlag[]
  errorRate: number | null
}

export interface ReportEnvironment {
  /** `E1`, `E2` … in order of first use. */
  key: string
  hardware: string
  cpuModel: string
  cores: number
  ramBytes: number
  gpus: { name: string; vramBytes?: number }[]
  os: string
  nodeVersion: string
  /** Engine package → version, as the run recorded them (node-llama-cpp, onnxruntime-node …). */
  engineVersions: Record<string, string>
  runIds: number[]
}

export interface CdfLine {
  runId: number
  label: string
  points: { x: number; y: number }[]
}

export interface ReportModel {
  generatedAt: Date
  /** What was selected, in words (run ids, or scenario and branch). */
  selection: string
  runIds: number[]
  scenarios: string[]
  /** Git branches of the selected runs (`(none)` for runs that recorded none). */
  branches: string[]
  variants: VariantRow[]
  runs: ReportRun[]
  environments: ReportEnvironment[]
  /** TTFT, TPOT (per request) and chunk gaps (pooled over a run's requests: vLLM's ITL) per latency run. */
  cdf: { ttftMs: CdfLine[]; tpotMs: CdfLine[]; chunkGapsMs: CdfLine[] }
  definitions: MetricDefinition[]
}

/** Figures the report shows, whose definitions its footnote gives (METRICS.md names). */
export const DEFINED_METRICS = [
  'ttftMs',
  'tpotMs',
  'chunkGapsMs',
  'outputTokensPerS',
  'peakRssBytes',
  'modelBytes',
  'errorRate',
  'clientSaturated',
  'acc',
  'accStderr',
  'klDivergence',
  'top1Agreement',
] as const

export async function loadReport(
  db: Db,
  selection: ReportSelection,
  now: Date = new Date(),
): Promise<ReportModel> {
  const selected = await selectRuns(db, selection)
  const details = selected.details
  const stored = details.map(toStoredRun)
  const environments: ReportEnvironment[] = []
  const envIndex = new Map<number, number>()
  for (const d of details) {
    const e = d.environment
    if (!e) continue
    const known = envIndex.get(e.id)
    if (known !== undefined) {
      environments[known]!.runIds.push(d.run.id)
      continue
    }
    envIndex.set(e.id, environments.length)
    environments.push({
      key: `E${environments.length + 1}`,
      hardware: hardwareLabel(e.cpuModel, e.cores, e.gpus),
      cpuModel: e.cpuModel,
      cores: e.cores,
      ramBytes: e.ramBytes,
      gpus: e.gpus,
      os: e.os,
      nodeVersion: e.nodeVersion,
      engineVersions: e.engineVersions,
      runIds: [d.run.id],
    })
  }
  const runs = details.map((d, i): ReportRun => {
    const metrics = stored[i]!.metrics
    const { run } = d
    return {
      id: run.id,
      scenarioName: run.scenarioName,
      targetName: run.targetName,
      load: isLatencyRun(run) ? describeStoredLoad(run.load) : run.loadKind,
      loadKind: run.loadKind,
      state: run.state,
      error: run.error,
      startedAt: run.startedAt,
      gitBranch: run.gitBranch,
      gitCommit: run.gitCommit,
      role: run.role,
      label: run.label,
      engine: run.engineVersion ? `${run.engineKind} ${run.engineVersion}` : run.engineKind,
      environment: d.environment ? (envIndex.get(d.environment.id) ?? null) : null,
      requests: { ok: d.requests.ok, errors: d.requests.errors },
      flags: runFlags(Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, { value: v }]))),
      errorRate: metrics.errorRate ?? null,
    }
  })
  const ttftMs: CdfLine[] = []
  const tpotMs: CdfLine[] = []
  const chunkGapsMs: CdfLine[] = []
  for (const r of runs) {
    if (!isLatencyRun(r) || r.requests.ok === 0) continue
    const series = await runSeries(db, r.id)
    const label = `${r.targetName} · ${r.load} (run ${r.id})`
    if (series.ttftCdf.length > 0) ttftMs.push({ runId: r.id, label, points: series.ttftCdf })
    if (series.tpotCdf.length > 0) tpotMs.push({ runId: r.id, label, points: series.tpotCdf })
    const gaps = await chunkGapSamples(db, r.id, r.requests.ok)
    if (gaps.values.length > 0)
      chunkGapsMs.push({
        runId: r.id,
        label: gaps.ofRequests < r.requests.ok ? `${label}, first ${gaps.ofRequests} requests` : label,
        points: empiricalCdf(gaps.values, CDF_POINTS),
      })
  }
  const distinct = (values: string[]) => [...new Set(values)]
  return {
    generatedAt: now,
    selection: selected.description,
    runIds: runs.map((r) => r.id),
    scenarios: distinct(runs.map((r) => r.scenarioName)),
    branches: distinct(runs.map((r) => r.gitBranch ?? '(none)')),
    variants: variantRows(stored),
    runs,
    environments,
    cdf: { ttftMs, tpotMs, chunkGapsMs },
    definitions: metricDefinitions(DEFINED_METRICS),
  }
}

/**
 * Requests whose chunk gaps a report reads per run, at most: a run of 100 k requests would otherwise decode
 * every gap it stored (tens of MB) for one line of 200 points. Past it the line says which requests it shows.
 */
export const CHUNK_GAP_REQUESTS = 20_000

/** Chunk gaps (ms) of a run's ok requests, pooled, from the first CHUNK_GAP_REQUESTS requests. */
async function chunkGapSamples(
  db: Db,
  runId: number,
  okRequests: number,
): Promise<{ values: number[]; ofRequests: number }> {
  const rows = await listRunRequests(db, runId, { state: 'ok', limit: CHUNK_GAP_REQUESTS })
  const values: number[] = []
  for (const r of rows) for (const g of r.chunkGapsMs ?? []) values.push(g)
  return { values, ofRequests: Math.min(rows.length, okRequests) }
}

function toStoredRun(d: RunDetail): StoredRun {
  const { run, variant } = d
  return {
    id: run.id,
    targetName: run.targetName,
    scenarioName: run.scenarioName,
    loadKind: run.loadKind,
    loadIndex: run.loadIndex,
    startedAt: run.startedAt,
    invocationId: run.invocationId,
    engineKind: run.engineKind,
    engineVersion: run.engineVersion,
    environmentId: run.environmentId,
    variant: variant
      ? {
          id: variant.id,
          name: variant.name,
          method: variant.method,
          quantLabel: variant.quantLabel,
          bits: variant.bits,
          sizeBytes: variant.sizeBytes,
        }
      : null,
    metrics: Object.fromEntries(d.metrics.map((m) => [m.name, m.value])),
  }
}
