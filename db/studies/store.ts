/**
 * Speculative-decoding studies in the database (issue 20 item 5): a study row from the moment it is
 * queued or started, its progress while it runs, and its result — the record `runStudy` returns
 * (harness/speculative/study.ts SpecStudyResult) as one `spec_studies` row, one `spec_study_k` row per K,
 * one `spec_study_prompts` row per (K, prompt) and one `spec_study_positions` row per (K, drafted
 * position) — written in one transaction, and read back as the same shapes for the CLI, the dashboard and
 * export. Types only from harness/speculative: this module loads no native engine.
 * @module
 */
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm'
import type { EndpointStudy } from '../../harness/speculative/endpoints/study-file.ts'
import type { SpecStudyResult } from '../../harness/speculative/study.ts'
import type { Study } from '../../harness/speculative/study-file.ts'
import type { Db } from '../client.ts'
import {
  matrixJobs,
  type SpecStudy,
  specEndpointK,
  specStudies,
  specStudyK,
  specStudyPositions,
  specStudyPrompts,
  type specStudyStates,
} from '../schema.ts'

export type SpecStudyState = (typeof specStudyStates)[number]

/** native: our draft/verify loop (SpecStudyResult); endpoint: deployed servers (EndpointStudyResult). */
export type SpecStudyKind = 'native' | 'endpoint'

export type NewStudyRow = NewStudyRowBase &
  ({ kind?: 'native'; study: Study } | { kind: 'endpoint'; study: EndpointStudy })

interface NewStudyRowBase {
  /** The study file as given. */
  source?: string | null
  /** Where relative model paths resolve on the worker (the launcher's working directory). */
  baseDir?: string | null
  label?: string | null
  state: 'queued' | 'running'
  matrixId?: number | null
  matrixJobId?: number | null
}

/** Inserts a study that is about to run (`bench spec`) or waits in the queue; returns its id. */
export async function insertStudy(db: Db, row: NewStudyRow): Promise<number> {
  const [inserted] = await db
    .insert(specStudies)
    .values({
      name: row.study.name,
      kind: row.kind ?? 'native',
      study: row.study,
      source: row.source ?? null,
      baseDir: row.baseDir ?? null,
      label: row.label ?? null,
      state: row.state,
      matrixId: row.matrixId ?? null,
      matrixJobId: row.matrixJobId ?? null,
      ...(row.state === 'running' ? { startedAt: sql`now()` } : {}),
    })
    .returning({ id: specStudies.id })
  if (!inserted) throw new Error('insert into spec_studies returned no row')
  return inserted.id
}

/** Marks a study running (a queue attempt starting it again clears the last attempt's error). */
export async function markStudyRunning(db: Db, id: number): Promise<void> {
  await db
    .update(specStudies)
    .set({ state: 'running', error: null, progress: 0, progressMessage: null, startedAt: sql`now()` })
    .where(eq(specStudies.id, id))
}

/** Progress of a running study: `fraction` of its phases done (0..1) and the phase now running. */
export async function setStudyProgress(db: Db, id: number, fraction: number, message: string): Promise<void> {
  await db
    .update(specStudies)
    .set({ progress: Math.min(1, Math.max(0, fraction)), progressMessage: message })
    .where(and(eq(specStudies.id, id), eq(specStudies.state, 'running')))
}

/** A study that ended without a result: `failed` with its error, or back to `queued` for a retry. */
export async function markStudyFailed(
  db: Db,
  id: number,
  error: string,
  state: 'failed' | 'queued' | 'cancelled' = 'failed',
): Promise<void> {
  await db
    .update(specStudies)
    .set({ state, error, finishedAt: state === 'queued' ? null : sql`now()` })
    .where(eq(specStudies.id, id))
}

/** JSON cannot hold NaN or ±Infinity (a conditional α after a zero rate is NaN): null instead. */
export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null
}

/**
 * Stores a study's result: the study row completed with its summary, and its per-K, per-prompt and
 * per-position rows, in one transaction (a reader never sees half a study). Rows of an earlier attempt
 * are replaced.
 */
export async function saveStudyResult(db: Db, id: number, result: SpecStudyResult): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(specStudyK).where(eq(specStudyK.studyId, id))
    await tx.delete(specStudyPrompts).where(eq(specStudyPrompts.studyId, id))
    await tx.delete(specStudyPositions).where(eq(specStudyPositions.studyId, id))
    if (result.perK.length > 0)
      await tx.insert(specStudyK).values(
        result.perK.map((r) => ({
          studyId: id,
          k: r.k,
          drafted: r.counts.drafted,
          accepted: r.counts.accepted,
          verifySteps: r.counts.verifySteps,
          emitted: r.counts.emitted,
          acceptanceRate: r.metrics.draftAcceptanceRate,
          meanAcceptanceLength: r.metrics.meanAcceptanceLength,
          alphaHat: r.metrics.alphaHat,
          acceptLengths: r.counts.acceptLengths,
          tokensPerS: r.tokensPerS,
          baselineTokensPerS: r.baselineTokensPerS,
          costRatio: r.costRatio,
          measuredSpeedup: r.measuredSpeedup,
          predictedSpeedup: r.predictedSpeedup,
          error: r.error,
          predictedFromTau: r.predictedFromTau,
          verifyCostRatio: r.verifyCostRatio,
          matchesTarget: r.matchesTarget ?? null,
          details: {
            draftMsPerToken: r.draftMsPerToken,
            verifyMsPerStep: r.verifyMsPerStep,
            predictedFromMeasuredCosts: r.predictedFromMeasuredCosts,
            conditionalAlpha: r.metrics.conditionalAlpha.map(finiteOrNull),
            ...(r.nodeLlamaCpp
              ? {
                  nodeLlamaCpp: {
                    ...r.nodeLlamaCpp,
                    acceptanceRate: finiteOrNull(r.nodeLlamaCpp.acceptanceRate),
                  },
                }
              : {}),
          },
        })),
      )
    if (result.perPrompt.length > 0)
      await tx.insert(specStudyPrompts).values(
        result.perPrompt.map((p) => ({
          studyId: id,
          k: p.k,
          prompt: p.prompt,
          drafted: p.counts.drafted,
          accepted: p.counts.accepted,
          verifySteps: p.counts.verifySteps,
          emitted: p.counts.emitted,
          acceptLengths: p.counts.acceptLengths,
          meanAcceptanceLength: p.metrics.meanAcceptanceLength,
          tokensPerS: p.tokensPerS,
          baselineTokensPerS: p.baselineTokensPerS,
          matchesTarget: p.matchesTarget ?? null,
        })),
      )
    const positions = result.perK.flatMap((r) =>
      r.counts.acceptedAtPosition.map((accepted, i) => ({
        studyId: id,
        k: r.k,
        position: i + 1,
        accepted,
        rate: r.metrics.perPositionRate[i] ?? 0,
      })),
    )
    if (positions.length > 0) await tx.insert(specStudyPositions).values(positions)
    await tx
      .update(specStudies)
      .set({
        state: 'completed',
        error: null,
        progress: 1,
        progressMessage: null,
        study: result.study,
        environment: result.environment,
        costRatio: result.costRatio,
        alphaUsed: result.alphaForPrediction,
        optimalK: result.optimal.k,
        optimalSpeedup: result.optimal.speedup,
        worthwhile: result.optimal.worthwhile,
        details: {
          promptTokens: result.promptTokens,
          baseline: result.baseline,
          logprob: result.logprob,
          table: result.table,
          startedAt: result.startedAt,
        },
        durationMs: result.durationMs,
        finishedAt: sql`now()`,
      })
      .where(eq(specStudies.id, id))
  })
}

/** `bench spec`'s store: one completed study row with its rows; returns its id. */
export async function storeStudyResult(
  db: Db,
  result: SpecStudyResult,
  o: { source?: string; label?: string } = {},
): Promise<number> {
  const id = await insertStudy(db, {
    study: result.study,
    source: o.source ?? null,
    baseDir: process.cwd(),
    label: o.label ?? null,
    state: 'running',
  })
  await saveStudyResult(db, id, result)
  return id
}

export interface StudyKRow {
  k: number
  drafted: number
  accepted: number
  verifySteps: number
  emitted: number
  acceptanceRate: number
  meanAcceptanceLength: number
  alphaHat: number
  acceptLengths: number[]
  tokensPerS: number
  baselineTokensPerS: number
  costRatio: number
  measuredSpeedup: number
  predictedSpeedup: number
  error: number
  predictedFromTau: number
  verifyCostRatio: number
  matchesTarget: boolean | null
  details: Record<string, unknown>
  /** rate at drafted position 1..K. */
  positions: { position: number; accepted: number; rate: number }[]
}

export interface StudyPromptRow {
  k: number
  prompt: number
  drafted: number
  accepted: number
  verifySteps: number
  emitted: number
  acceptLengths: number[]
  meanAcceptanceLength: number
  tokensPerS: number
  baselineTokensPerS: number
  matchesTarget: boolean | null
}

/**
 * The study rows with their state as the queue knows it: a study whose worker was killed on its last
 * attempt stays `running` (or `queued`) in its own row — the reaper (db/queue/worker.ts) marks only the
 * matrix job `dead` — so a dead job's study reads as failed, with the job's last error.
 */
async function studyRows(
  db: Db,
  where: ReturnType<typeof eq> | undefined,
  limit?: number,
): Promise<SpecStudy[]> {
  const query = db
    .select({ study: specStudies, jobState: matrixJobs.state, jobError: matrixJobs.lastError })
    .from(specStudies)
    .leftJoin(matrixJobs, eq(matrixJobs.id, specStudies.matrixJobId))
    .where(where)
    .orderBy(desc(specStudies.id))
  const rows = limit === undefined ? await query : await query.limit(limit)
  return rows.map(({ study, jobState, jobError }) =>
    jobState === 'dead' && (study.state === 'queued' || study.state === 'running')
      ? { ...study, state: 'failed', error: jobError ?? study.error ?? 'its queue job is dead' }
      : study,
  )
}

/** One K of an endpoint study (spec_endpoint_k with its per-position rows); null: the server did not say. */
export interface EndpointKRow {
  k: number
  drafted: number | null
  accepted: number | null
  drafts: number | null
  acceptanceRate: number | null
  meanAcceptanceLength: number | null
  alphaHat: number | null
  tokensPerS: number
  baselineTokensPerS: number
  costRatio: number | null
  measuredSpeedup: number
  predictedSpeedup: number | null
  /** measured − predicted. */
  error: number | null
  /** (measured − predicted) / predicted. */
  relativeError: number | null
  sameOutput: boolean
  countersSource: string | null
  details: Record<string, unknown>
  /** rate at drafted position 1..K (accepted there ÷ drafts), when the server counts per position. */
  positions: { position: number; accepted: number; rate: number }[]
}

export interface StoredStudy {
  study: SpecStudy
  /** A native study's rows (empty for an endpoint study). */
  perK: StudyKRow[]
  perPrompt: StudyPromptRow[]
  /** An endpoint study's rows (empty for a native study). */
  endpointK: EndpointKRow[]
}

/** One study with its rows (K ascending, then prompt); undefined when there is no such study. */
export async function readStudy(db: Db, id: number): Promise<StoredStudy | undefined> {
  const [study] = await studyRows(db, eq(specStudies.id, id))
  if (!study) return undefined
  const [ks, prompts, positions, endpointKs] = await Promise.all([
    db.select().from(specStudyK).where(eq(specStudyK.studyId, id)).orderBy(asc(specStudyK.k)),
    db
      .select()
      .from(specStudyPrompts)
      .where(eq(specStudyPrompts.studyId, id))
      .orderBy(asc(specStudyPrompts.k), asc(specStudyPrompts.prompt)),
    db
      .select()
      .from(specStudyPositions)
      .where(eq(specStudyPositions.studyId, id))
      .orderBy(asc(specStudyPositions.k), asc(specStudyPositions.position)),
    db.select().from(specEndpointK).where(eq(specEndpointK.studyId, id)).orderBy(asc(specEndpointK.k)),
  ])
  const positionsOf = (k: number) =>
    positions
      .filter((p) => p.k === k)
      .map((p) => ({ position: p.position, accepted: p.accepted, rate: p.rate }))
  return {
    study,
    perK: ks.map(({ studyId: _s, details, ...r }) => ({
      ...r,
      details: details as Record<string, unknown>,
      positions: positionsOf(r.k),
    })),
    perPrompt: prompts.map(({ studyId: _s, ...p }) => p),
    endpointK: endpointKs.map(({ studyId: _s, details, ...r }) => ({
      ...r,
      details: details as Record<string, unknown>,
      positions: positionsOf(r.k),
    })),
  }
}

export interface StudySummary {
  id: number
  name: string
  kind: string
  label: string | null
  state: SpecStudyState
  error: string | null
  progress: number
  progressMessage: string | null
  ks: number[]
  costRatio: number | null
  alphaUsed: number | null
  optimalK: number | null
  optimalSpeedup: number | null
  /** The K with the highest measured speedup and that speedup (null before any K is stored). */
  bestMeasured: { k: number; speedup: number } | null
  matrixId: number | null
  createdAt: Date
  startedAt: Date | null
  finishedAt: Date | null
}

/** The K values a study measures: a native study's `ks`, an endpoint study's `on[].k`. */
function studyKs(r: SpecStudy): number[] {
  const study = r.study as { ks?: number[]; on?: { k: number }[] }
  return r.kind === 'endpoint' ? (study.on ?? []).map((o) => o.k) : (study.ks ?? []).slice()
}

/** The latest studies, newest first. */
export async function listStudies(db: Db, limit = 50): Promise<StudySummary[]> {
  const rows = await studyRows(db, undefined, limit)
  const ids = rows.map((r) => r.id)
  const best = new Map<number, { k: number; speedup: number }>()
  if (ids.length > 0) {
    const ks = await db
      .select({ studyId: specStudyK.studyId, k: specStudyK.k, speedup: specStudyK.measuredSpeedup })
      .from(specStudyK)
      .where(inArray(specStudyK.studyId, ids))
    const endpointKs = await db
      .select({ studyId: specEndpointK.studyId, k: specEndpointK.k, speedup: specEndpointK.measuredSpeedup })
      .from(specEndpointK)
      .where(inArray(specEndpointK.studyId, ids))
    for (const r of [...ks, ...endpointKs]) {
      const b = best.get(r.studyId)
      if (!b || r.speedup > b.speedup) best.set(r.studyId, { k: r.k, speedup: r.speedup })
    }
  }
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    kind: r.kind,
    label: r.label,
    state: r.state,
    error: r.error,
    progress: r.progress,
    progressMessage: r.progressMessage,
    ks: studyKs(r),
    costRatio: r.costRatio,
    alphaUsed: r.alphaUsed,
    optimalK: r.optimalK,
    optimalSpeedup: r.optimalSpeedup,
    bestMeasured: best.get(r.id) ?? null,
    matrixId: r.matrixId,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  }))
}

/** The study a queue job runs (spec_studies.matrix_job_id). */
export async function studyOfJob(db: Db, matrixJobId: number): Promise<SpecStudy | undefined> {
  const [row] = await db.select().from(specStudies).where(eq(specStudies.matrixJobId, matrixJobId))
  return row
}
