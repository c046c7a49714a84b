/**
 * What the leaderboard and history show by default, and the marks on rows whose figures should not be
 * read as the best: the default branch (BENCH_DEFAULT_BRANCH, else main) plus runs that recorded no
 * branch, ordinary runs only (no `bench gate --confirm` re-runs), unless the query asks for more; and a
 * run that is client-saturated or lost more than 1 % of its requests is marked and never picked as best.
 * @module
 */
import type { BranchScope, RunRole } from '../../db/queries/scope.ts'
import { DEFAULT_MAX_ERROR_RATE } from '../../harness/config/schema.ts'
import { ANY_BRANCH, defaultBranch, type RoleFilter } from '../params.ts'

export interface BranchView {
  /** The branch shown; null: every branch. */
  branch: string | null
  /** The configured default branch (BENCH_DEFAULT_BRANCH, else main). */
  defaultBranch: string
  /** Runs that recorded no git branch are shown beside `branch` (the default view only). */
  unbranchedIncluded: boolean
  /** No branch was asked for and the default branch has no runs here: every branch is shown instead. */
  fellBack: boolean
  /** Which run roles are shown (`run`: confirmation re-runs left out). */
  role: RoleFilter
}

/** The view a query's `branch` and `role` ask for, before knowing whether the default branch has runs. */
export function branchView(branch: string | undefined, role: RoleFilter): BranchView {
  const fallback = defaultBranch()
  if (branch === ANY_BRANCH)
    return { branch: null, defaultBranch: fallback, unbranchedIncluded: false, fellBack: false, role }
  if (branch !== undefined)
    return { branch, defaultBranch: fallback, unbranchedIncluded: false, fellBack: false, role }
  return { branch: fallback, defaultBranch: fallback, unbranchedIncluded: true, fellBack: false, role }
}

/** The same view showing every branch, because the default one had nothing (said on the page). */
export function fallBackToEveryBranch(view: BranchView): BranchView {
  return { ...view, branch: null, unbranchedIncluded: false, fellBack: true }
}

/** Whether an empty result of `view` should be retried on every branch: only the implicit default. */
export function mayFallBack(view: BranchView, requested: string | undefined): boolean {
  return requested === undefined && view.branch !== null
}

/** The query options a view stands for. */
export function scopeOptions(view: BranchView): { branches?: BranchScope; roles?: RunRole[] } {
  return {
    ...(view.branch !== null
      ? { branches: { branch: view.branch, orUnbranched: view.unbranchedIncluded } }
      : {}),
    ...(view.role === 'any' ? {} : { roles: [view.role] }),
  }
}

/** "branch main (and runs without a branch)", "every branch", for headings and notices. */
export function describeBranchView(view: BranchView): string {
  const branch =
    view.branch === null
      ? 'every branch'
      : `branch ${view.branch}${view.unbranchedIncluded ? ' (and runs that recorded no branch)' : ''}`
  const role =
    view.role === 'run'
      ? ', confirmation re-runs left out'
      : view.role === 'confirm'
        ? ', confirmation re-runs only'
        : ', confirmation re-runs included'
  return `${branch}${role}`
}

/**
 * Error rate above which a run is never shown as a page's best: DEFAULT_MAX_ERROR_RATE (1 %, what
 * `bench run` fails a run at unless the scenario or --max-error-rate allows more). A run over its own
 * threshold is `failed` and never on the leaderboard at all; this catches a scenario that allowed more
 * (fault injection, `maxErrorRate: 0.15`), whose fast failures otherwise win "best throughput". ratio.
 */
export const BEST_MAX_ERROR_RATE = DEFAULT_MAX_ERROR_RATE

/** Why a row's figures are not a best: the client limited them, or too many requests failed. */
export type RunFlag = 'client-saturated' | 'errors-over-threshold'

/** Figures the flags read; a list asking for figures must include them. */
export const FLAG_METRICS = ['clientSaturated', 'errorRate'] as const

/** The flags of a run from its stored figures (clientSaturated 1/0, errorRate ratio). */
export function runFlags(metrics: Readonly<Record<string, { value: number } | undefined>>): RunFlag[] {
  const flags: RunFlag[] = []
  if ((metrics.clientSaturated?.value ?? 0) >= 1) flags.push('client-saturated')
  if ((metrics.errorRate?.value ?? 0) > BEST_MAX_ERROR_RATE) flags.push('errors-over-threshold')
  return flags
}

/** A flag in words, with the run's own error rate (ratio): "client-saturated", "errors 4.7 % > 1 %". */
export function flagText(flag: RunFlag, errorRate: number | undefined): string {
  if (flag === 'client-saturated') return 'client-saturated'
  return `errors ${errorRate === undefined ? '?' : percent(errorRate)} > ${percent(BEST_MAX_ERROR_RATE)}`
}

/** Why a flag matters, for a tooltip. */
export function flagReason(flag: RunFlag): string {
  return flag === 'client-saturated'
    ? 'The load-generating client was saturated (event-loop delay or schedule lag past its threshold): these figures describe the client, not the server. Never picked as best.'
    : `More than ${percent(BEST_MAX_ERROR_RATE)} of the requests failed (the default maxErrorRate; this scenario allowed more): fast failures flatter the figures. Never picked as best.`
}

function percent(ratio: number): string {
  const pct = ratio * 100
  return `${pct >= 10 || Number.isInteger(pct) ? pct.toFixed(0) : pct.toFixed(1)} %`
}
