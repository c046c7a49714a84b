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
import { canonicalJson } from '../identity.ts'
import { describeStoredLoad, dimensionColumns, runDimensions } from '../queries/dimensions.ts'
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
  /** The load step (or accuracy / quality spec) as stored: names the series (`mock · concurrent 4`). */
  load: unknown
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
  load: runs.load,
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
const NOT_LATENCY_LOAD_KINDS = ['accuracy', 'quality', 'checklist', 'micro']

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
  /**
   * The start point's commit instead of the candidate's stored merge-base (`bench gate --baseline-ref`:
   * the merge-base of the candidate commit with that ref, found by git when the gate runs).
   */
  mergeBase?: string
  /**
   * Whether commit `ancestor` is an ancestor of commit `of` in the clone the gate runs in; undefined when
   * git cannot tell (no clone, unknown commit). Only words the explanation of an empty history.
   */
  isAncestor?: (ancestor: string, of: string) => Promise<boolean | undefined>
}

export interface BaselineHistory {
  /** Oldest first. */
  runs: GateRun[]
  /** How the history was cut, in words (printed under the table). */
  startPoint: string
  /**
   * When no run is left but the baseline branch does have runs with the candidate's fingerprint (all
   * after the cut): why, in words, and what to do — push, fetch, or --baseline-ref.
   */
  emptyBecause?: string
}

export async function baselineHistory(
  db: Db,
  candidate: GateRun,
  q: BaselineQuery,
): Promise<BaselineHistory> {
  let cutoff: { op: 'lt' | 'lte'; at: Date }
  let startPoint: string
  const mergeBase = q.mergeBase ?? candidate.gitMergeBase
  const from = q.mergeBase !== undefined ? ' (--baseline-ref)' : ''
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
      startPoint = `${q.branch} up to the merge-base ${mergeBase?.slice(0, 12)}${from}`
    } else {
      cutoff = { op: 'lt', at: candidate.startedAt }
      startPoint =
        mergeBase === null
          ? `${q.branch} history before the candidate (the candidate has no merge-base: ${noMergeBase(q.branch)})`
          : `${q.branch} history before the candidate (merge-base ${mergeBase.slice(0, 12)}${from} was never measured on ${q.branch})`
    }
  }
  const comparable = and(
    eq(runs.fingerprint, candidate.fingerprint),
    eq(runs.gitBranch, q.branch),
    eq(runs.state, 'completed'),
    eq(runs.role, 'run'),
    q.excludeIds.length > 0 ? notInArray(runs.id, [...q.excludeIds]) : undefined,
  )
  const rows = await db
    .select(gateRunColumns)
    .from(runs)
    .where(
      and(comparable, cutoff.op === 'lt' ? lt(runs.startedAt, cutoff.at) : lte(runs.startedAt, cutoff.at)),
    )
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(Math.max(1, q.maxSamples))
  if (rows.length > 0) return { runs: rows.reverse(), startPoint }
  // Nothing before the cut: say why when the branch does have comparable runs (all after it).
  const after = await db
    .select({ gitCommit: runs.gitCommit })
    .from(runs)
    .where(comparable)
    .orderBy(runs.startedAt, runs.id)
  if (after.length === 0) return { runs: [], startPoint }
  const emptyBecause = await whyEmpty(candidate, q, {
    runs: after.length,
    commits: [...new Set(after.flatMap((r) => (r.gitCommit === null ? [] : [r.gitCommit])))],
    mergeBase,
    measuredMergeBase: cutoff.op === 'lte',
  })
  return { runs: [], startPoint, emptyBecause }
}

/** What to do about a candidate stored without a merge-base. */
function noMergeBase(branch: string): string {
  return (
    `bench run found no base ref (origin/HEAD, origin/${branch}, ${branch}) in its clone — fetch ` +
    `${branch} (git fetch origin ${branch}; a shallow CI checkout needs fetch-depth: 0) and run bench again, ` +
    `or gate with --baseline-ref ${branch}`
  )
}

/**
 * Why the baseline branch's runs with the candidate's fingerprint all fall after the start point, and what
 * to do. The usual cause: the branch's runs were measured on commits that are not on the ref bench run took
 * the merge-base against (origin/main: local commits not pushed, or not fetched), so the merge-base is an
 * older commit measured before them — or none was found at all (a shallow clone, no origin/main).
 */
async function whyEmpty(
  candidate: GateRun,
  q: BaselineQuery,
  found: { runs: number; commits: string[]; mergeBase: string | null; measuredMergeBase: boolean },
): Promise<string> {
  const b = q.branch
  const short = (c: string) => c.slice(0, 12)
  const commits = found.commits.slice(-3).map(short).join(', ')
  const has = `${b} has ${found.runs} run(s) with the candidate's fingerprint (commit${found.commits.length === 1 ? '' : 's'} ${commits}${found.commits.length > 3 ? ', …' : ''})`
  if (candidate.gitBranch === b) return `${has}, all started after the candidate`
  const retry = `--baseline-ref ${b} (the merge-base with ${b} as this clone has it)`
  if (found.mergeBase === null)
    return `${has}, all started after the candidate, which has no merge-base: ${noMergeBase(b)}`
  // Measured commits that the candidate's own history contains: on the branch, yet not before its merge-base.
  const head = candidate.gitCommit
  const answers =
    head && q.isAncestor ? await Promise.all(found.commits.map((c) => q.isAncestor?.(c, head))) : []
  // true: one is in the candidate's history; false: git says none is; undefined: git could not tell.
  const local = answers.some((a) => a === true)
    ? true
    : answers.length > 0 && answers.every((a) => a === false)
      ? false
      : undefined
  const point = found.measuredMergeBase
    ? `all after its merge-base ${short(found.mergeBase)} was measured on ${b}`
    : `all started after the candidate (its merge-base ${short(found.mergeBase)} was never measured on ${b})`
  if (local === false)
    return (
      `${has}, ${point}: ${b} moved on after the candidate forked and nothing comparable was measured up to ` +
      `the fork. Rebase onto ${b}, or gate with --baseline-run <id> to name a baseline`
    )
  if (q.mergeBase !== undefined)
    return `${has}, ${point}: those commits are not ancestors of the merge-base with --baseline-ref; name a ref that contains them`
  return (
    `${has}, ${point}: ${local ? "those commits are in the candidate's history but" : 'those commits are'} ` +
    `not ancestors of the merge-base — local commits not on origin/${b} when bench run took it. ` +
    `Push ${b} (git push origin ${b}) and fetch, or gate with ${retry}`
  )
}

/** One field in which two runs' fingerprinted identity differs, as printed: `path: baseline vs candidate`. */
export interface FieldDifference {
  /** `mock.itl.ms` (an engine option), `model`, `engine`, `load`, `scenario.prompts.outputTokens`, `environment.cores`. */
  field: string
  baseline: string
  candidate: string
}

/**
 * Why a candidate with no comparable baseline is not comparable: the fields in which it differs from the
 * latest completed run of the same scenario, target and load step on the baseline branch — each leaf of the
 * engine options, load, workload and environment that differs, not the whole objects. Undefined when the
 * baseline branch has no such run at all (then there is simply no history yet).
 */
export async function incomparableBecause(
  db: Db,
  candidate: GateRun,
  branch: string,
): Promise<{ runId: number; differences: FieldDifference[] } | undefined> {
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
  const fields = await identityFields(db, [candidate.id, other.id])
  const mine = fields.get(candidate.id)
  const theirs = fields.get(other.id)
  if (!mine || !theirs) return undefined
  const differences: FieldDifference[] = []
  for (const field of new Set([...theirs.keys(), ...mine.keys()])) {
    const baseline = theirs.get(field) ?? '(unset)'
    const cand = mine.get(field) ?? '(unset)'
    if (baseline !== cand) differences.push({ field, baseline, candidate: cand })
  }
  // Custom header values count in the fingerprint through a digest that is never stored (db/identity.ts).
  const hidden = { field: 'headers', baseline: 'one value', candidate: 'another (stored redacted)' }
  return { runId: other.id, differences: differences.length > 0 ? differences : [hidden] }
}

/** Workload fields of a stored scenario that are not part of its hash (harness/config scenarioHash). */
const NOT_WORKLOAD = new Set(['targets', 'description', 'maxErrorRate', 'measure', 'accuracy', 'quality'])

/**
 * Every fingerprinted field of each run, flattened to leaf paths in a fixed order: model, engine, each
 * engine option (`mock.itl.ms`, `api`), the load (in words, its leaves when the words agree), the
 * workload (`scenario.prompts.outputTokens`), the environment (`environment.cores`).
 */
async function identityFields(db: Db, ids: number[]): Promise<Map<number, Map<string, string>>> {
  const rows = await db
    .select({
      id: runs.id,
      ...dimensionColumns,
      loadIndex: runs.loadIndex,
      scenario: runs.scenario,
      ramBytes: environments.ramBytes,
      gpus: environments.gpus,
      os: environments.os,
      nodeVersion: environments.nodeVersion,
      engineVersions: environments.engineVersions,
    })
    .from(runs)
    .leftJoin(environments, eq(environments.id, runs.environmentId))
    .leftJoin(variants, eq(variants.id, runs.variantId))
    .where(inArray(runs.id, ids))
  const loads = new Set(rows.map((r) => describeStoredLoad(r.load)))
  return new Map(
    rows.map((r) => {
      const out = new Map<string, string>()
      const dims = runDimensions(r)
      out.set('model', dims.get('model') ?? '?')
      out.set('engine', dims.get('engine') ?? '?')
      leaves(r.engineOptions, '', out)
      if (loads.size > 1) out.set('load', describeStoredLoad(r.load))
      else leaves(r.load, 'load', out)
      const scenario = r.scenario !== null && typeof r.scenario === 'object' ? r.scenario : {}
      for (const [k, v] of Object.entries(scenario)) if (!NOT_WORKLOAD.has(k)) leaves(v, `scenario.${k}`, out)
      // This run's own step is the `load` above; the scenario's other steps stay (they change its hash).
      for (const k of [...out.keys()]) if (k.startsWith(`scenario.loads[${r.loadIndex}]`)) out.delete(k)
      if (r.environmentHash === null) out.set('environment', 'unknown')
      else
        leaves(
          {
            cpuModel: r.cpuModel,
            cores: r.cores,
            ramBytes: r.ramBytes,
            gpus: r.gpus,
            os: r.os,
            nodeVersion: r.nodeVersion,
            engineVersions: r.engineVersions,
          },
          'environment',
          out,
        )
      return [r.id, out] as const
    }),
  )
}

/** Leaf values of a JSON value under dotted paths (`a.b[2].c`); scalars as canonical JSON. */
function leaves(value: unknown, at: string, out: Map<string, string>): void {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(at, '[]')
    for (const [i, v] of value.entries()) leaves(v, `${at}[${i}]`, out)
    return
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))
    for (const [k, v] of entries) leaves(v, at === '' ? k : `${at}.${k}`, out)
    return
  }
  if (value === undefined) return
  out.set(at, typeof value === 'string' ? value : (canonicalJson(value) ?? String(value)))
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
