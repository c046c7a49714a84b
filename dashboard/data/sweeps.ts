/**
 * The sweeps pages and their /api twins: `bench sweep` results (db/queries/sweeps.ts) — the list newest
 * first, and one sweep with its steps judged against its SLO as `bench sweep` judged them
 * (harness/sweep/sweep.ts judgeStep, here from the stored figures): a step passes when its run completed,
 * dropped no arrival, and every SLO percentile is at or under its bound.
 * @module
 */
import type { Db } from '../../db/client.ts'
import type { MetricValues } from '../../db/queries/metrics-of.ts'
import {
  getSweep,
  listSweeps,
  type SweepListItem,
  type SweepRow,
  type SweepStepRun,
  sweepSteps,
} from '../../db/queries/sweeps.ts'
import type { SweepChartSlo } from '../charts/sweep.ts'
import { NotFoundError } from '../errors.ts'
import type { ReadCache } from './cache.ts'

/** Figures every step shows (run_metrics names); the SLO's own names are added per sweep. */
export const STEP_FIGURES = [
  'requestsPerS',
  'outputTokensPerS',
  'ttftMsP95',
  'tpotMsP95',
  'goodputRequestsPerS',
] as const
/** Read too, for the verdict and its marks: arrivals dropped, and whether the client was the limit. */
const VERDICT_FIGURES = ['droppedRequests', 'clientSaturated', 'errorRate'] as const

export type StepVerdict = 'pass' | 'fail' | 'running'

export interface SweepStepModel {
  runId: number
  /** 0-based, in the order run (the page shows it 1-based, as `bench sweep` prints it). */
  step: number
  /** Offered arrival rate, requests/s (the run's load.ratePerS); null if the load has none. */
  ratePerS: number | null
  state: SweepStepRun['state']
  verdict: StepVerdict
  /** Why the step failed: its run's error (e.g. `stopped early: over-saturated …`) or the bound missed. */
  reason: string | null
  /** The runner found the client, not the server, the limit of this step (clientSaturated = 1). */
  clientSaturated: boolean
  /** STEP_FIGURES and the SLO's names; null where the run has none. */
  figures: Record<string, number | null>
}

export interface SweepModel {
  sweep: Omit<SweepRow, 'slo'>
  /**
   * The row still says running but its last step was interrupted: the `bench sweep` process ended (killed,
   * crashed) before recording how the search ended, so no knee was recorded; the steps are what it measured.
   */
  orphaned: boolean
  /** The bounds the steps were judged by (sweeps.slo). */
  slo: SweepChartSlo[]
  steps: SweepStepModel[]
}

export interface SweepListEntry extends Omit<SweepListItem, 'slo'> {
  slo: SweepChartSlo[]
  /** As SweepModel.orphaned: stored running, its last step interrupted. */
  orphaned: boolean
}

export interface SweepsModel {
  query: SweepsPage
  sweeps: SweepListEntry[]
  /** A further page exists. */
  hasMore: boolean
}

export interface SweepsPage {
  /** @default 50 */
  limit: number
  /** @default 0 */
  offset: number
}

/**
 * The SLO bounds stored with a sweep (`[{ name, metric, percentile, maxMs }]`, harness/sweep/slo.ts);
 * entries of another shape are left out rather than drawn wrong.
 */
export function parseSweepSlo(value: unknown): SweepChartSlo[] {
  if (!Array.isArray(value)) return []
  return value.flatMap((v): SweepChartSlo[] => {
    if (v === null || typeof v !== 'object') return []
    const { name, metric, percentile, maxMs } = v as Record<string, unknown>
    return typeof name === 'string' &&
      typeof metric === 'string' &&
      typeof percentile === 'number' &&
      typeof maxMs === 'number' &&
      Number.isFinite(maxMs)
      ? [{ name, metric, percentile, maxMs }]
      : []
  })
}

/** The offered rate of a stored load (`ratePerS` of a constant-rate or poisson load), requests/s. */
export function offeredRate(load: unknown): number | null {
  const rate =
    load !== null && typeof load === 'object' ? (load as { ratePerS?: unknown }).ratePerS : undefined
  return typeof rate === 'number' && Number.isFinite(rate) ? rate : null
}

/** A step's verdict and reason from its stored run, by `bench sweep`'s rule (harness/sweep judgeStep). */
export function judgeStoredStep(
  run: { state: SweepStepRun['state']; error: string | null; metrics: MetricValues },
  slo: readonly SweepChartSlo[],
): { verdict: StepVerdict; reason: string | null } {
  const fail = (reason: string) => ({ verdict: 'fail' as const, reason })
  if (run.state === 'running') return { verdict: 'running', reason: null }
  if (run.state !== 'completed') return fail(run.error ?? `run ${run.state}`)
  const dropped = run.metrics.droppedRequests?.value ?? 0
  if (dropped > 0) return fail(`${dropped} arrivals dropped (too many requests in flight)`)
  for (const s of slo) {
    const v = run.metrics[s.name]?.value
    if (v === undefined) return fail(`${s.name}: no successful request`)
    if (v > s.maxMs) return fail(`${s.name} ${v.toFixed(1)} ms > ${s.maxMs} ms`)
  }
  return { verdict: 'pass', reason: null }
}

export async function loadSweep(db: Db, id: number, cache?: ReadCache): Promise<SweepModel> {
  if (!cache) return computeSweep(db, id)
  // A sweep still running gains steps and its knee without a new data version: not kept until it ends.
  return cache.get(
    `sweep:${id}`,
    () => computeSweep(db, id),
    (m) => (m.sweep.state !== 'running' || m.orphaned) && m.steps.every((s) => s.state !== 'running'),
  )
}

async function computeSweep(db: Db, id: number): Promise<SweepModel> {
  const row = await getSweep(db, id)
  if (!row) throw new NotFoundError(`no sweep with id ${id}`)
  const { slo: stored, ...sweep } = row
  const slo = parseSweepSlo(stored)
  const names = [...new Set([...STEP_FIGURES, ...slo.map((s) => s.name)])]
  const runs = await sweepSteps(db, id, [...names, ...VERDICT_FIGURES])
  return {
    sweep,
    orphaned: sweep.state === 'running' && runs.at(-1)?.state === 'interrupted',
    slo,
    steps: runs.map((r) => ({
      runId: r.runId,
      step: r.step,
      ratePerS: offeredRate(r.load),
      state: r.state,
      ...judgeStoredStep(r, slo),
      clientSaturated: (r.metrics.clientSaturated?.value ?? 0) > 0,
      figures: Object.fromEntries(names.map((n) => [n, r.metrics[n]?.value ?? null])),
    })),
  }
}

export async function loadSweeps(db: Db, query: SweepsPage, cache?: ReadCache): Promise<SweepsModel> {
  const compute = async (): Promise<SweepsModel> => {
    // One more than asked tells whether there is a next page.
    const rows = await listSweeps(db, { limit: query.limit + 1, offset: query.offset })
    return {
      query,
      sweeps: rows.slice(0, query.limit).map((r) => ({
        ...r,
        slo: parseSweepSlo(r.slo),
        orphaned: r.state === 'running' && r.lastStepState === 'interrupted',
      })),
      hasMore: rows.length > query.limit,
    }
  }
  if (!cache) return compute()
  return cache.get(`sweeps:${JSON.stringify(query)}`, compute, (m) =>
    m.sweeps.every((s) => s.state !== 'running' || s.orphaned),
  )
}
