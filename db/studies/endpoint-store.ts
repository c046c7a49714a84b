/**
 * Endpoint studies in the database (issue 20: "stores predicted vs measured speedup per K with the error …
 * for llama-server with a draft model"): what `bench spec-endpoints` measured (harness/speculative/endpoints
 * study.ts EndpointStudyResult) as one `spec_studies` row of kind `endpoint`, one `spec_endpoint_k` row per
 * K and, when the server counts acceptance per draft position, `spec_study_positions` rows (rate = accepted
 * at that position ÷ drafts, the native table's meaning). A figure a server does not report stays null.
 *
 * Never stored: the API key (the study file names only its environment variable, and the key travels only
 * in request headers), a password or user in an endpoint URL (replaced by `***`), the generated texts.
 * Read back through store.ts readStudy (its `endpointK`), listed by listStudies. Types only from
 * harness/speculative: this module loads no engine.
 * @module
 */
import { eq, sql } from 'drizzle-orm'
import type { EndpointStudyRecord } from '../../harness/speculative/endpoints/run-file.ts'
import type { ServerSpeculation } from '../../harness/speculative/endpoints/server-counters.ts'
import type { EndpointPass, EndpointStudyResult } from '../../harness/speculative/endpoints/study.ts'
import type { EndpointStudy } from '../../harness/speculative/endpoints/study-file.ts'
import type { Db } from '../client.ts'
import { specEndpointK, specStudies, specStudyPositions } from '../schema.ts'
import { finiteOrNull, insertStudy } from './store.ts'

export type { EndpointStudyRecord }

/** `http://user:pass@host/v1` → `http://***@host/v1`: credentials in a URL are not the study's figures. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.username === '' && u.password === '') return url
    u.username = '***'
    u.password = ''
    return u.toString()
  } catch {
    return url
  }
}

/** The study as stored: every endpoint URL without credentials. */
export function storableEndpointStudy(study: EndpointStudy): EndpointStudy {
  return {
    ...study,
    off: redactUrl(study.off),
    on: study.on.map((o) => ({ k: o.k, url: redactUrl(o.url) })),
    ...(study.draftAlone !== undefined ? { draftAlone: redactUrl(study.draftAlone) } : {}),
  }
}

/** JSON (jsonb) cannot hold NaN or ±Infinity: null in their place, at any depth. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'number') return finiteOrNull(value)
  if (Array.isArray(value)) return value.map(jsonSafe)
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]))
  return value
}

/** A counter as an integer column: Prometheus serves counters as floats; null when absent or not finite. */
function count(v: number | undefined): number | null {
  return v === undefined || !Number.isFinite(v) ? null : Math.round(v)
}

function num(v: number | undefined): number | null {
  return v === undefined ? null : finiteOrNull(v)
}

/** A figure a NOT NULL column needs: a non-finite one (0 tokens decoded) is a broken pass, said so. */
function required(v: number, what: string): number {
  if (!Number.isFinite(v))
    throw new Error(
      `${what} is ${v}: a pass decoded no token after the first (maxTokens ≥ 2 and a server that streams them)`,
    )
  return v
}

/** A pass without its texts (outputs are compared, not kept). */
function passSummary(p: EndpointPass): Record<string, unknown> {
  return {
    decodeTokensPerS: p.decodeTokensPerS,
    decodeSource: p.decodeSource,
    ...(p.speculation ? { speculation: p.speculation } : {}),
  }
}

function speculationDetails(s: ServerSpeculation | undefined): Record<string, unknown> {
  if (!s) return {}
  const { source, window } = s
  return { countersDescription: source, countersWindow: window }
}

/** The best predicted K (what the model would pick from the servers' α̂ and c), or null without predictions. */
function bestPredicted(result: EndpointStudyResult): { k: number; speedup: number } | null {
  let best: { k: number; speedup: number } | null = null
  for (const r of result.rows)
    if (r.predictedSpeedup !== undefined && Number.isFinite(r.predictedSpeedup))
      if (best === null || r.predictedSpeedup > best.speedup) best = { k: r.k, speedup: r.predictedSpeedup }
  return best
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

/** Writes the K rows and completes study `id`, inside the caller's transaction; an earlier attempt's rows go. */
async function writeEndpointResult(tx: Tx, id: number, record: EndpointStudyRecord): Promise<void> {
  const { result } = record
  await tx.delete(specEndpointK).where(eq(specEndpointK.studyId, id))
  await tx.delete(specStudyPositions).where(eq(specStudyPositions.studyId, id))
  const c = result.c?.value
  if (result.rows.length > 0)
    await tx.insert(specEndpointK).values(
      result.rows.map((r) => {
        const s = r.pass.speculation
        const predicted = num(r.predictedSpeedup)
        const measured = required(r.measuredSpeedup, `K = ${r.k}: measured speedup`)
        return {
          studyId: id,
          k: r.k,
          drafted: count(s?.draftTokens),
          accepted: count(s?.acceptedTokens),
          drafts: count(s?.drafts),
          acceptanceRate: num(r.acceptanceRate),
          meanAcceptanceLength: num(r.meanAcceptanceLength),
          alphaHat: num(r.alphaHat),
          tokensPerS: required(r.pass.decodeTokensPerS, `K = ${r.k}: decode tokens/s`),
          baselineTokensPerS: required(result.off.decodeTokensPerS, 'decode tokens/s without speculation'),
          costRatio: num(c),
          measuredSpeedup: measured,
          predictedSpeedup: predicted,
          error: predicted === null ? null : measured - predicted,
          relativeError: num(r.relativeError),
          sameOutput: r.sameOutput,
          countersSource: s?.counters ?? null,
          details: jsonSafe({
            decodeSource: r.pass.decodeSource,
            ...speculationDetails(s),
            // llama-server's per-response counts beside its /metrics deltas: the two must agree.
            ...(r.pass.timingsSpeculation && r.pass.timingsSpeculation !== s
              ? { timings: r.pass.timingsSpeculation }
              : {}),
          }) as Record<string, unknown>,
        }
      }),
    )
  const positions = result.rows.flatMap((r) => {
    const s = r.pass.speculation
    if (!s?.acceptedAtPosition || !s.perPositionRate) return []
    return s.acceptedAtPosition.flatMap((accepted, i) => {
      const rate = s.perPositionRate?.[i]
      return rate === undefined || !Number.isFinite(rate)
        ? []
        : [{ studyId: id, k: r.k, position: i + 1, accepted: Math.round(accepted), rate }]
    })
  })
  if (positions.length > 0) await tx.insert(specStudyPositions).values(positions)
  const best = bestPredicted(result)
  await tx
    .update(specStudies)
    .set({
      state: 'completed',
      // Completed, with what makes some of its figures meaningless (an endpoint that did not speculate).
      error: record.problems?.length ? record.problems.join('\n') : null,
      progress: 1,
      progressMessage: null,
      study: storableEndpointStudy(record.study),
      environment: jsonSafe(record.environment),
      costRatio: num(c),
      alphaUsed: null,
      optimalK: best?.k ?? null,
      optimalSpeedup: best?.speedup ?? null,
      worthwhile: best === null ? null : best.speedup > 1,
      details: jsonSafe({
        off: passSummary(result.off),
        c: result.c ?? null,
        ...(result.draftAlone ? { draftAlone: passSummary(result.draftAlone) } : {}),
        startedAt: record.startedAt,
      }),
      durationMs: finiteOrNull(record.durationMs),
      finishedAt: sql`now()`,
    })
    .where(eq(specStudies.id, id))
}

/**
 * Stores a finished endpoint study — its row, K rows and position rows — in one transaction (a reader sees
 * it whole or not at all); returns its id.
 */
export async function saveEndpointStudy(
  db: Db,
  record: EndpointStudyRecord,
  o: { source?: string; label?: string } = {},
): Promise<number> {
  return db.transaction(async (tx) => {
    const id = await insertStudy(tx as unknown as Db, {
      kind: 'endpoint',
      study: storableEndpointStudy(record.study),
      source: o.source ?? null,
      baseDir: process.cwd(),
      label: o.label ?? null,
      state: 'running',
    })
    await tx
      .update(specStudies)
      .set({ startedAt: new Date(record.startedAt) })
      .where(eq(specStudies.id, id))
    await writeEndpointResult(tx, id, record)
    return id
  })
}

/** Completes an endpoint study already inserted (queued or running, e.g. by a queue job), in one transaction. */
export async function saveEndpointStudyResult(
  db: Db,
  id: number,
  record: EndpointStudyRecord,
): Promise<void> {
  await db.transaction((tx) => writeEndpointResult(tx, id, record))
}
