/**
 * Which runs a report shows. Either the run ids given, as they are (any state: the report says each one's),
 * or a scenario: the dashboard's honest scope (dashboard/data/scope.ts — the default branch and runs that
 * recorded no branch unless a branch is asked, confirmation re-runs left out, every branch with a notice
 * when the default one has none) and, per target, every completed run of its latest invocation — the
 * latency loads, accuracy and quality runs one `bench run` made, which the variant table joins.
 * @module
 */
import type { Db } from '../../db/client.ts'
import { getRunDetail, listRuns, type RunDetail, type RunListItem } from '../../db/queries/index.ts'
import {
  type BranchView,
  branchView,
  describeBranchView,
  fallBackToEveryBranch,
  mayFallBack,
} from '../data/scope.ts'

export type ReportSelection =
  | { kind: 'runs'; runIds: readonly number[] }
  /** `branch`: a branch name, or `*` for every branch; absent: the default branch. */
  | { kind: 'scenario'; scenario: string; branch?: string }

/** The selection names something the database does not have: one line naming it. */
export class ReportSelectionError extends Error {
  override name = 'ReportSelectionError'
}

export interface SelectedRuns {
  details: RunDetail[]
  /** What was selected, in words, for the report's header. */
  description: string
  /** Set for a scenario selection: which branch and roles the runs come from. */
  view?: BranchView
}

/** Listing bound for a scenario: its newest runs (the latest invocation of each target is among them). */
const SCENARIO_RUNS_LIMIT = 10_000
/** Runs of one target's invocation at most (load steps + accuracy + quality); a guard, not a figure. */
const MAX_RUNS_PER_INVOCATION = 256

export async function selectRuns(db: Db, selection: ReportSelection): Promise<SelectedRuns> {
  if (selection.kind === 'runs') {
    const ids = [...new Set(selection.runIds)]
    const details = await Promise.all(ids.map((id) => getRunDetail(db, id)))
    const missing = ids.filter((_, i) => details[i] === undefined)
    if (missing.length > 0)
      throw new ReportSelectionError(
        `${missing.length === 1 ? 'run' : 'runs'} ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist`,
      )
    return {
      details: details as RunDetail[],
      description: `run${ids.length === 1 ? '' : 's'} ${ids.join(', ')}`,
    }
  }
  return selectScenario(db, selection.scenario, selection.branch)
}

async function selectScenario(db: Db, scenario: string, branch: string | undefined): Promise<SelectedRuns> {
  const listed = await listRuns(db, { scenario, state: 'completed', limit: SCENARIO_RUNS_LIMIT })
  if (listed.length === 0) throw new ReportSelectionError(`no completed runs of scenario "${scenario}"`)
  let view = branchView(branch, 'run')
  const inView = (v: BranchView) =>
    listed.filter(
      (r) =>
        r.role === 'run' &&
        (v.branch === null || r.gitBranch === v.branch || (v.unbranchedIncluded && r.gitBranch === null)),
    )
  let scoped = inView(view)
  if (scoped.length === 0 && mayFallBack(view, branch)) {
    view = fallBackToEveryBranch(view)
    scoped = inView(view)
  }
  if (scoped.length === 0) {
    const branches = [...new Set(listed.map((r) => r.gitBranch ?? '(none)'))].sort()
    throw new ReportSelectionError(
      `scenario "${scenario}" has no completed runs on ${describeBranchView(view)} (its branches: ${branches.join(', ')})`,
    )
  }
  // Newest first (listRuns' order): each target's first row is its latest run.
  const byTarget = new Map<string, RunListItem[]>()
  for (const r of scoped) byTarget.set(r.targetName, [...(byTarget.get(r.targetName) ?? []), r])
  const details: RunDetail[] = []
  for (const runs of byTarget.values()) details.push(...(await latestInvocation(db, runs)))
  details.sort((a, b) => a.run.startedAt.getTime() - b.run.startedAt.getTime() || a.run.id - b.run.id)
  return {
    details,
    description: `scenario ${scenario}, ${describeBranchView(view)}${view.fellBack ? ` (the default branch ${view.defaultBranch} has no completed run of it)` : ''}; per target, the completed runs of its latest invocation`,
    view,
  }
}

/**
 * The target's newest run and the runs before it of the same invocation (one `bench run`: its load steps,
 * accuracy and quality runs follow each other). A run without an invocation id (imported) stands alone.
 */
async function latestInvocation(db: Db, newestFirst: readonly RunListItem[]): Promise<RunDetail[]> {
  const out: RunDetail[] = []
  for (const item of newestFirst.slice(0, MAX_RUNS_PER_INVOCATION)) {
    const detail = await getRunDetail(db, item.id)
    if (!detail) continue
    const invocation = out[0]?.run.invocationId
    if (out.length > 0 && (invocation === null || detail.run.invocationId !== invocation)) break
    out.push(detail)
  }
  return out
}
