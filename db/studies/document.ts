/**
 * A stored study as one versioned JSON document (`format: "bench-study"`), for `bench study export` and
 * `bench study import`: the study row (without database ids or its queue job, which exist only in the
 * database it came from) and its per-K (with per-position) and per-prompt rows, exactly as store.ts reads
 * them. Version 2 adds endpoint studies (`study.kind: "endpoint"`, their rows in `endpointK`); a version 1
 * document (native only, no `endpointK`) still imports. Import validates the whole document first (zod: every problem with its path) and stores it as a
 * new study in one transaction; only a finished study (completed, failed, cancelled) is taken — a queued
 * or running one has no worker in the database it would land in.
 * @module
 */
import { z } from 'zod'
import { toConfigIssues } from '../../harness/config/index.ts'
import { type ConfigIssue, HarnessError } from '../../harness/errors.ts'
import { type EndpointStudy, endpointStudySchema } from '../../harness/speculative/endpoints/study-file.ts'
import { type Study, studySchema } from '../../harness/speculative/study-file.ts'
import type { Db } from '../client.ts'
import { specEndpointK, specStudies, specStudyK, specStudyPositions, specStudyPrompts } from '../schema.ts'
import { readStudy } from './store.ts'

export const STUDY_DOCUMENT_FORMAT = 'bench-study'
/** 1: native studies; 2: also endpoint studies (`endpointK`). */
export const STUDY_DOCUMENT_VERSION = 2

const count = z.int().min(0)
const figure = z.number()
const time = z.iso.datetime({ offset: true }).nullable()

const kRow = z.strictObject({
  k: z.int().min(1),
  drafted: count,
  accepted: count,
  verifySteps: count,
  emitted: count,
  acceptanceRate: figure,
  meanAcceptanceLength: figure,
  alphaHat: figure,
  acceptLengths: z.array(count),
  tokensPerS: figure,
  baselineTokensPerS: figure,
  costRatio: figure,
  measuredSpeedup: figure,
  predictedSpeedup: figure,
  error: figure,
  predictedFromTau: figure,
  verifyCostRatio: figure,
  matchesTarget: z.boolean().nullable(),
  details: z.record(z.string(), z.unknown()),
  positions: z.array(z.strictObject({ position: z.int().min(1), accepted: count, rate: figure })),
})

const optionalCount = count.nullable()
const optionalFigure = figure.nullable()

const endpointKRow = z.strictObject({
  k: z.int().min(1),
  drafted: optionalCount,
  accepted: optionalCount,
  drafts: optionalCount,
  acceptanceRate: optionalFigure,
  meanAcceptanceLength: optionalFigure,
  alphaHat: optionalFigure,
  tokensPerS: figure,
  baselineTokensPerS: figure,
  costRatio: optionalFigure,
  measuredSpeedup: figure,
  predictedSpeedup: optionalFigure,
  error: optionalFigure,
  relativeError: optionalFigure,
  sameOutput: z.boolean(),
  countersSource: z.enum(['metrics', 'timings', 'gauges']).nullable(),
  details: z.record(z.string(), z.unknown()),
  positions: z.array(z.strictObject({ position: z.int().min(1), accepted: count, rate: figure })),
})

const promptRow = z.strictObject({
  k: z.int().min(1),
  prompt: z.int().min(0),
  drafted: count,
  accepted: count,
  verifySteps: count,
  emitted: count,
  acceptLengths: z.array(count),
  meanAcceptanceLength: figure,
  tokensPerS: figure,
  baselineTokensPerS: figure,
  matchesTarget: z.boolean().nullable(),
})

const studyRow = {
  name: z.string().min(1),
  source: z.string().nullable(),
  label: z.string().nullable(),
  state: z.enum(['completed', 'failed', 'cancelled'], {
    message: 'only a finished study (completed, failed or cancelled) can be imported',
  }),
  error: z.string().nullable(),
  environment: z.record(z.string(), z.unknown()).nullable(),
  costRatio: figure.nullable(),
  alphaUsed: figure.nullable(),
  optimalK: z.int().nullable(),
  optimalSpeedup: figure.nullable(),
  worthwhile: z.boolean().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  durationMs: figure.nullable(),
  createdAt: time,
  startedAt: time,
  finishedAt: time,
}

export const studyDocumentSchema = z
  .strictObject({
    format: z.literal(STUDY_DOCUMENT_FORMAT),
    version: z.union([z.literal(1), z.literal(STUDY_DOCUMENT_VERSION)], {
      message: `a version this bench reads: 1 or ${STUDY_DOCUMENT_VERSION}`,
    }),
    study: z.discriminatedUnion(
      'kind',
      [
        z.strictObject({ ...studyRow, kind: z.literal('native'), study: studySchema }),
        z.strictObject({ ...studyRow, kind: z.literal('endpoint'), study: endpointStudySchema }),
      ],
      { message: "kind: 'native' or 'endpoint'" },
    ),
    perK: z.array(kRow),
    perPrompt: z.array(promptRow),
    /** Version 2; a version 1 document has none. */
    endpointK: z.array(endpointKRow).default([]),
  })
  .superRefine((doc, ctx) => {
    if (doc.version === 1 && doc.study.kind === 'endpoint')
      ctx.addIssue({
        code: 'custom',
        path: ['version'],
        message: `an endpoint study is a version ${STUDY_DOCUMENT_VERSION} document`,
      })
  })

export type StudyDocument = z.output<typeof studyDocumentSchema>

/** What a document holds, for `bench study export`'s line: an endpoint study's K rows are in endpointK. */
export function studyDocumentRows(
  doc: Pick<StudyDocument, 'study' | 'perK' | 'perPrompt' | 'endpointK'>,
): string {
  return doc.study.kind === 'endpoint'
    ? `endpoint study, ${doc.endpointK.length} K rows`
    : `native study, ${doc.perK.length} K rows, ${doc.perPrompt.length} prompt rows`
}

export class StudyDocumentError extends HarnessError {
  override name = 'StudyDocumentError'
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `${source} is not a bench-study document:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    )
  }
}

/** The document of stored study `id`; undefined when there is none. */
export async function exportStudy(db: Db, id: number): Promise<StudyDocument | undefined> {
  const stored = await readStudy(db, id)
  if (!stored) return undefined
  const s = stored.study
  const iso = (d: Date | null) => (d === null ? null : d.toISOString())
  // One of the union's two members (Pick of a union would not keep kind and study paired).
  const kind: { kind: 'native'; study: Study } | { kind: 'endpoint'; study: EndpointStudy } =
    s.kind === 'endpoint'
      ? { kind: 'endpoint', study: endpointStudySchema.parse(s.study) }
      : { kind: 'native', study: studySchema.parse(s.study) }
  return {
    format: STUDY_DOCUMENT_FORMAT,
    version: STUDY_DOCUMENT_VERSION,
    study: {
      name: s.name,
      ...kind,
      source: s.source,
      label: s.label,
      state: s.state as 'completed' | 'failed' | 'cancelled',
      error: s.error,
      environment: s.environment as Record<string, unknown> | null,
      costRatio: s.costRatio,
      alphaUsed: s.alphaUsed,
      optimalK: s.optimalK,
      optimalSpeedup: s.optimalSpeedup,
      worthwhile: s.worthwhile,
      details: s.details as Record<string, unknown> | null,
      durationMs: s.durationMs,
      createdAt: iso(s.createdAt),
      startedAt: iso(s.startedAt),
      finishedAt: iso(s.finishedAt),
    },
    perK: stored.perK,
    perPrompt: stored.perPrompt,
    endpointK: stored.endpointK.map((r) => ({
      ...r,
      countersSource: r.countersSource as 'metrics' | 'timings' | 'gauges' | null,
    })),
  }
}

/** Validates `input` as a bench-study document and stores it as a new study; returns its id. */
export async function importStudy(db: Db, input: unknown, source = 'document'): Promise<number> {
  const parsed = studyDocumentSchema.safeParse(input, { reportInput: true })
  if (!parsed.success) throw new StudyDocumentError(source, toConfigIssues(parsed.error.issues))
  const doc = parsed.data
  const s = doc.study
  const date = (v: string | null) => (v === null ? null : new Date(v))
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(specStudies)
      .values({
        name: s.name,
        kind: s.kind,
        study: s.study,
        source: s.source,
        baseDir: null,
        label: s.label,
        state: s.state,
        error: s.error,
        progress: s.state === 'completed' ? 1 : 0,
        environment: s.environment,
        costRatio: s.costRatio,
        alphaUsed: s.alphaUsed,
        optimalK: s.optimalK,
        optimalSpeedup: s.optimalSpeedup,
        worthwhile: s.worthwhile,
        details: s.details,
        durationMs: s.durationMs,
        ...(s.createdAt !== null ? { createdAt: new Date(s.createdAt) } : {}),
        startedAt: date(s.startedAt),
        finishedAt: date(s.finishedAt),
      })
      .returning({ id: specStudies.id })
    if (!row) throw new Error('insert into spec_studies returned no row')
    const studyId = row.id
    if (doc.perK.length > 0)
      await tx.insert(specStudyK).values(doc.perK.map(({ positions: _p, ...r }) => ({ studyId, ...r })))
    if (doc.endpointK.length > 0)
      await tx
        .insert(specEndpointK)
        .values(doc.endpointK.map(({ positions: _p, ...r }) => ({ studyId, ...r })))
    const positions = [...doc.perK, ...doc.endpointK].flatMap((r) =>
      r.positions.map((p) => ({ studyId, k: r.k, ...p })),
    )
    if (positions.length > 0) await tx.insert(specStudyPositions).values(positions)
    if (doc.perPrompt.length > 0)
      await tx.insert(specStudyPrompts).values(doc.perPrompt.map((p) => ({ studyId, ...p })))
    return studyId
  })
}
