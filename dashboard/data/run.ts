/**
 * The run page and /api/runs/:id: the run in full (db/queries getRunDetail), its percentiles as a table,
 * and the series its charts draw (run-series.ts; cached once the run is final): TTFT and TPOT CDFs and
 * output tokens per second. Errors by kind and HTTP status, and the SLO goodput was measured under.
 * @module
 */
import type { Db } from '../../db/client.ts'
import { hardwareLabel } from '../../db/queries/facets.ts'
import { getRunDetail, type RunDetail, runDimensions } from '../../db/queries/index.ts'
import { type ErrorGroup, errorGroups } from '../../db/queries/run-detail.ts'
import { readServerMetrics } from '../../db/server-metrics.ts'
import { DISTRIBUTION_STATS, type DistributionStat, metricInfo } from '../../harness/metrics/catalogue.ts'
import type { ServerMetricsRecord } from '../../harness/server-metrics/session.ts'
import { NotFoundError } from '../errors.ts'
import type { ReadCache } from './cache.ts'
import { type HttpLoadSeries, httpLoadSeries } from './http-load.ts'
import { type RunSeries, runSeries } from './run-series.ts'

export interface PercentileRow {
  /** Distribution name, e.g. `ttftMs`. */
  name: string
  unit: string
  description: string
  n: number
  stats: Partial<Record<DistributionStat, number>>
}

export interface ScalarRow {
  name: string
  value: number
  unit: string
  direction: string
  n: number
  description: string | null
}

/** Bounds of the scenario's SLO as run, ms (harness/config sloSchema); a request meeting all is good. */
export interface RunSlo {
  ttftMs?: number
  tpotMs?: number
  e2eMs?: number
}

export interface RunModel extends RunSeries {
  detail: RunDetail
  /** Errors by kind and HTTP status, most frequent first (aborted requests are not errors). */
  errors: ErrorGroup[]
  /** The SLO goodputRequestsPerS and goodFraction were computed under; null when the scenario had none. */
  slo: RunSlo | null
  /** Dimension → value (model, engine, options.*, load, scenario, environment). */
  dimensions: Record<string, string>
  hardware: string
  percentiles: PercentileRow[]
  scalars: ScalarRow[]
  /** What the serving engine's /metrics said over the run (db/server-metrics.ts); absent: none read. */
  serverMetrics?: ServerMetricsRecord
  /** A `bench load` run's latency CDF (load_kind 'http-load' only; data/http-load.ts). */
  httpLoad?: HttpLoadSeries
}

/** Runs in these states have all their requests written: their series never change. */
const FINAL_STATES = new Set(['completed', 'failed'])

/**
 * The run's model; with a cache, reused until the data version changes (a label, a run started or
 * finished, an import), except while the run is still running (its requests come in without changing the
 * version). 50 clients on one run page then cost one set of queries, as on the leaderboard.
 */
export async function loadRun(db: Db, runId: number, cache?: ReadCache): Promise<RunModel> {
  if (!cache) return computeRun(db, runId)
  return cache.get(
    `run:${runId}`,
    () => computeRun(db, runId, cache),
    (model) => FINAL_STATES.has(model.detail.run.state) || model.detail.run.state === 'interrupted',
  )
}

async function computeRun(db: Db, runId: number, cache?: ReadCache): Promise<RunModel> {
  const [detail, errors, serverMetrics] = await Promise.all([
    getRunDetail(db, runId),
    errorGroups(db, runId),
    readServerMetrics(db, runId),
  ])
  if (!detail) throw new NotFoundError(`no run with id ${runId}`)
  const series =
    cache && FINAL_STATES.has(detail.run.state)
      ? await cache.getImmutable(`run-series:${runId}`, () => runSeries(db, runId))
      : await runSeries(db, runId)
  const { run, variant, environment } = detail
  const httpLoad = run.loadKind === 'http-load' ? await httpLoadSeries(db, runId) : undefined
  const dimensions = runDimensions({
    engineKind: run.engineKind,
    engineVersion: run.engineVersion,
    engineModel: run.engineModel,
    engineOptions: run.engineOptions,
    load: run.load,
    scenarioHash: run.scenarioHash,
    environmentHash: environment?.hash ?? null,
    cpuModel: environment?.cpuModel ?? null,
    cores: environment?.cores ?? null,
    variantName: variant?.name ?? null,
    quantLabel: variant?.quantLabel ?? null,
    variantSha256: variant?.sha256 ?? null,
  })
  const percentiles = new Map<string, PercentileRow>()
  const scalars: ScalarRow[] = []
  for (const m of detail.metrics) {
    const info = metricInfo(m.name)
    if (info?.stat) {
      const row = percentiles.get(info.base) ?? {
        name: info.base,
        unit: m.unit,
        description: info.description.replace(/^[^:]*: /, ''),
        n: m.n,
        stats: {},
      }
      row.stats[info.stat] = m.value
      percentiles.set(info.base, row)
    } else {
      scalars.push({
        name: m.name,
        value: m.value,
        unit: m.unit,
        direction: m.direction,
        n: m.n,
        description: info?.description ?? null,
      })
    }
  }
  return {
    ...series,
    detail,
    errors,
    slo: sloOf(run.scenario),
    dimensions: Object.fromEntries(dimensions),
    hardware: hardwareLabel(
      environment?.cpuModel ?? null,
      environment?.cores ?? null,
      environment?.gpus ?? null,
    ),
    // Catalogue order (Mean, Sd, Min, Max, P50 …), not the stored rows' name order.
    percentiles: [...percentiles.values()].map((row) => ({
      ...row,
      stats: Object.fromEntries(
        DISTRIBUTION_STATS.flatMap((stat) =>
          row.stats[stat] === undefined ? [] : [[stat, row.stats[stat]]],
        ),
      ),
    })),
    scalars,
    ...(serverMetrics !== undefined ? { serverMetrics } : {}),
    ...(httpLoad !== undefined ? { httpLoad } : {}),
  }
}

/** Stat columns of the percentiles table, in catalogue order. */
export const PERCENTILE_COLUMNS: readonly DistributionStat[] = DISTRIBUTION_STATS

/**
 * The SLO in the scenario as run (`scenario.slo`: ttftMs, tpotMs, e2eMs, each optional, ms); null when it
 * has none or the stored document (an imported run's) has no usable bound.
 */
export function sloOf(scenario: unknown): RunSlo | null {
  const slo = (scenario as { slo?: unknown } | null)?.slo
  if (typeof slo !== 'object' || slo === null) return null
  const out: RunSlo = {}
  for (const key of ['ttftMs', 'tpotMs', 'e2eMs'] as const) {
    const v = (slo as Record<string, unknown>)[key]
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = v
  }
  return Object.keys(out).length > 0 ? out : null
}
