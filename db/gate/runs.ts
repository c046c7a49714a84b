/**
 * The runs a gate reads: the candidate (named runs, an invocation, or the latest invocation of a commit or
 * branch), its baseline history under start-point semantics, and what to say when nothing is comparable.
 *
 * Start point (as Bencher's `--start-point` with the merge-base hash): the baseline of a candidate on
 * branch B with merge-base M is the completed runs of the baseline branch (default main) with the SAME
 * fingerprint whose start time is at or before the latest baseline-branch run of commit M (any
 * fingerprint, so a commit measured for another target still marks the point). Runs of main measured
 * after the fork therefore never leak into a PR's baseline. When M was never measured on the baseline
 * branch (or the candidate has no merge-base) the history started before the candidate is used, and the
 * report says so. A candidate on the baseline branch itself is compared with the runs before it.
 * Confirmation re-runs (runs.role = 'confirm') are never part of a baseline.
 * @module
 */
import { and, desc, eq, inArray, lt, lte, ne, notInArray, sql } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { type DimensionSource, differingDimensions, dimensionColumns } from '../queries/dimensions.ts'
import { accuracyItems, environments, runMetrics, runs, variants } from '../schema.ts'

export interface GateRun {
  id: number
  invocationId: string | null
  scenarioName: string
  targetName: string
  loadIndex: number
  fingerprint: string
  gitCommit: string | null
  gitBranch: string | null
  gitMergeBase: string | null
  startedAt: Date
  label: string | null
  /** `accuracy` for an accuracy run (gated on its items), else the latency load's kind. */
  loadKind: string
}

const gateRunColumns = {
  id: runs.id,
  invocationId: runs.invocationId,
  scenarioName: runs.scenarioName,
  targetName: runs.targetName,
  loadIndex: runs.loadIndex,
  fingerprint: runs.fingerprint,
  gitCommit: runs.gitCommit,
  gitBranch: runs.gitBranch,
  gitMergeBase: runs.gitMergeBase,
  startedAt: runs.startedAt,
  label: runs.label,
  loadKind: runs.loadKind,
}

export interface CandidateSelection {
  /** These runs exactly. */
  runIds?: readonly number[]
  /** Every completed run of this `bench run` invocation. */
  invocationId?: string
  /** Otherwise: the latest invocation that measured this commit (prefix match) … */
  commit?: string
  /** … or, without a commit, this branch; with neither, the latest invocation of all. */
  branch?: string
  /** Only runs of this scenario name. */
  scenario?: string
  /**
   * Accuracy runs (load kind 'accuracy'): left out (latency metrics only), included beside the latency
   * runs (both kinds gated), or the only runs read (accuracy metrics only). @default 'exclude'
   */
  accuracy?: 'exclude' | 'include' | 'only'
}

/** Completed candidate runs, oldest first; empty when nothing matches. */
/** Load kinds of runs that measure something other than latency (no latency figures to gate). */
const NOT_LATENCY_LOAD_KINDS = ['accuracy', 'quality']

export async function findCandidateRuns(db: Db, sel: CandidateSelection): Promise<GateRun[]> {
  const scenario = sel.scenario !== undefined ? eq(runs.scenarioName, sel.scenario) : undefined
  // Latency metrics only: an invocation's accuracy runs (no latency figures) would read "insufficient
  // data" and fail --require-baseline; accuracy metrics only: its latency runs likewise.
  // Quality runs (KLD against a reference) are never gated here.
  const kind =
    sel.accuracy === 'only'
      ? eq(runs.loadKind, 'accuracy')
      : sel.accuracy === 'include'
        ? ne(runs.loadKind, 'quality')
        : notInArray(runs.loadKind, NOT_LATENCY_LOAD_KINDS)
  const completed = and(eq(runs.state, 'completed'), kind)
  const ordered = (where: ReturnType<typeof and>) =>
    db.select(gateRunColumns).from(runs).where(where).orderBy(runs.startedAt, runs.id)
  if (sel.runIds && sel.runIds.length > 0) return ordered(and(inArray(runs.id, [...sel.runIds]), completed))
  let invocationId = sel.invocationId
  if (invocationId === undefined) {
    const latest = await db
      .select({ id: runs.id, invocationId: runs.invocationId })
      .from(runs)
      .where(
        and(
          completed,
          eq(runs.role, 'run'),
          scenario,
          sel.commit !== undefined
            ? sql`${runs.gitCommit} like ${`${escapeLike(sel.commit)}%`}`
            : sel.branch !== undefined
              ? eq(runs.gitBranch, sel.branch)
              : undefined,
        ),
      )
      .orderBy(desc(runs.startedAt), desc(runs.id))
      .limit(1)
    const row = latest[0]
    if (!row) return []
    if (row.invocationId === null) return ordered(eq(runs.id, row.id))
    invocationId = row.invocationId
  }
  return ordered(and(eq(runs.invocationId, invocationId), completed, scenario))
}

/** These runs (completed, any kind), oldest first. */
export function gateRuns(db: Db, ids: readonly number[]): Promise<GateRun[]> {
  if (ids.length === 0) return Promise.resolve([])
  return db
    .select(gateRunColumns)
    .from(runs)
    .where(and(inArray(runs.id, [...ids]), eq(runs.state, 'completed')))
    .orderBy(runs.startedAt, runs.id)
}

export interface BaselineQuery {
  /** @default 'main' */
  branch: string
  /** The most recent points to use. */
  maxSamples: number
  /** Runs never to use (the candidate and its confirmations). */
  excludeIds: readonly number[]
}

export interface BaselineHistory {
  /** Oldest first. */
  runs: GateRun[]
  /** How the history was cut, in words (printed under the table). */
  startPoint: string
}

export async function baselineHistory(
  db: Db,
  candidate: GateRun,
  q: BaselineQuery,
): Promise<BaselineHistory> {
  let cutoff: { op: 'lt' | 'lte'; at: Date }
  let startPoint: string
  const mergeBase = candidate.gitMergeBase
  if (candidate.gitBranch === q.branch) {
    cutoff = { op: 'lt', at: candidate.startedAt }
    startPoint = `${q.branch} history before the candidate`
  } else {
    const marker =
      mergeBase === null
        ? undefined
        : (
            await db
              .select({ startedAt: runs.startedAt })
              .from(runs)
              .where(
                and(
                  eq(runs.gitBranch, q.branch),
                  eq(runs.state, 'completed'),
                  eq(runs.role, 'run'),
                  sql`${runs.gitCommit} like ${`${escapeLike(mergeBase)}%`}`,
                ),
              )
              .orderBy(desc(runs.startedAt))
              .limit(1)
          )[0]
    if (marker) {
      cutoff = { op: 'lte', at: marker.startedAt }
      startPoint = `${q.branch} up to the merge-base ${mergeBase?.slice(0, 12)}`
    } else {
      cutoff = { op: 'lt', at: candidate.startedAt }
      startPoint =
        mergeBase === null
          ? `${q.branch} history before the candidate (the candidate has no merge-base)`
          : `${q.branch} history before the candidate (merge-base ${mergeBase.slice(0, 12)} was never measured on ${q.branch})`
    }
  }
  const rows = await db
    .select(gateRunColumns)
    .from(runs)
    .where(
      and(
        eq(runs.fingerprint, candidate.fingerprint),
        eq(runs.gitBranch, q.branch),
        eq(runs.state, 'completed'),
        eq(runs.role, 'run'),
        cutoff.op === 'lt' ? lt(runs.startedAt, cutoff.at) : lte(runs.startedAt, cutoff.at),
        q.excludeIds.length > 0 ? notInArray(runs.id, [...q.excludeIds]) : undefined,
      ),
    )
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(Math.max(1, q.maxSamples))
  return { runs: rows.reverse(), startPoint }
}

/**
 * Why a candidate with no comparable baseline is not comparable: the dimensions in which it differs from
 * the latest completed run of the same scenario, target and load step on the baseline branch. Undefined
 * when the baseline branch has no such run at all (then there is simply no history yet).
 */
export async function incomparableBecause(
  db: Db,
  candidate: GateRun,
  branch: string,
): Promise<{ runId: number; differences: string[] } | undefined> {
  const other = (
    await db
      .select({ id: runs.id })
      .from(runs)
      .where(
        and(
          eq(runs.gitBranch, branch),
          eq(runs.state, 'completed'),
          eq(runs.role, 'run'),
          eq(runs.scenarioName, candidate.scenarioName),
          eq(runs.targetName, candidate.targetName),
          eq(runs.loadIndex, candidate.loadIndex),
          sql`${runs.fingerprint} <> ${candidate.fingerprint}`,
        ),
      )
      .orderBy(desc(runs.startedAt), desc(runs.id))
      .limit(1)
  )[0]
  if (!other) return undefined
  const sources = await dimensionSources(db, [candidate.id, other.id])
  const mine = sources.get(candidate.id)
  const theirs = sources.get(other.id)
  if (!mine || !theirs) return undefined
  const [candidateParts = [], baselineParts = []] = differingDimensions([mine, theirs])
  const differences = candidateParts.map((part, i) => {
    const name = part.slice(0, part.indexOf(': '))
    return `${name}: ${part.slice(name.length + 2)} (candidate) vs ${baselineParts[i]?.slice(name.length + 2) ?? '?'} (${branch})`
  })
  return {
    runId: other.id,
    differences:
      differences.length > 0
        ? differences
        : ['a dimension not shown (engine options or environment details)'],
  }
}

async function dimensionSources(db: Db, ids: number[]): Promise<Map<number, DimensionSource>> {
  const rows = await db
    .select({
      id: runs.id,
      ...dimensionColumns,
    })
    .from(runs)
    .leftJoin(environments, eq(environments.id, runs.environmentId))
    .leftJoin(variants, eq(variants.id, runs.variantId))
    .where(inArray(runs.id, ids))
  return new Map(rows.map(({ id, ...source }) => [id, source]))
}

/** runId → metric → value, for the named metrics of the given runs. */
export async function metricValues(
  db: Db,
  runIds: readonly number[],
  metrics: readonly string[],
): Promise<Map<number, Map<string, number>>> {
  const out = new Map<number, Map<string, number>>()
  if (runIds.length === 0 || metrics.length === 0) return out
  const rows = await db
    .select({ runId: runMetrics.runId, name: runMetrics.name, value: runMetrics.value })
    .from(runMetrics)
    .where(and(inArray(runMetrics.runId, [...runIds]), inArray(runMetrics.name, [...metrics])))
  for (const r of rows) {
    const m = out.get(r.runId) ?? new Map<string, number>()
    out.set(r.runId, m)
    m.set(r.name, r.value)
  }
  return out
}

/** One item of an accuracy run as the gate reads it (accuracy_items). */
export interface GateItem {
  itemId: string
  subject: string
  answer: number
  /** null when the item failed (not scored). */
  correct: boolean | null
  predictedNorm: number | null
}

/** runId → its accuracy items, in scoring order. */
export async function accuracyItemsOf(db: Db, runIds: readonly number[]): Promise<Map<number, GateItem[]>> {
  const out = new Map<number, GateItem[]>(runIds.map((id) => [id, []]))
  if (runIds.length === 0) return out
  const rows = await db
    .select({
      runId: accuracyItems.runId,
      itemId: accuracyItems.itemId,
      subject: accuracyItems.subject,
      answer: accuracyItems.answer,
      correct: accuracyItems.correct,
      predictedNorm: accuracyItems.predictedNorm,
    })
    .from(accuracyItems)
    .where(inArray(accuracyItems.runId, [...runIds]))
    .orderBy(accuracyItems.runId, accuracyItems.seq)
  for (const { runId, ...item } of rows) out.get(runId)?.push(item)
  return out
}

/** Marks runs as confirmation re-runs, so no baseline ever reads them. */
export async function markConfirmRuns(db: Db, label: string): Promise<number[]> {
  const rows = await db
    .update(runs)
    .set({ role: 'confirm' })
    .where(eq(runs.label, label))
    .returning({ id: runs.id })
  return rows.map((r) => r.id)
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`)
}
