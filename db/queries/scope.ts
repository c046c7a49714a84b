/**
 * Which runs a summary reads, beyond scenario and state: git branches (the dashboard shows the default
 * branch unless asked) and run roles (confirmation re-runs of `bench gate --confirm` are left out unless
 * asked). Shared by the leaderboard and history queries so both pages mean the same by "branch main".
 * @module
 */
import { eq, inArray, isNull, notInArray, or, type SQL } from 'drizzle-orm'
import { type runRoles, runs } from '../schema.ts'

export type RunRole = (typeof runRoles)[number]

/**
 * `{ branch }`: only runs of that git branch; with `orUnbranched`, also runs that recorded no branch (run
 * outside a git checkout, or on a detached HEAD without CI variables): they belong to no other branch.
 */
export interface BranchScope {
  branch: string
  orUnbranched?: boolean
}

/** The WHERE term of a branch scope; undefined (no condition) for every branch. */
export function branchCondition(scope: BranchScope | undefined): SQL | undefined {
  if (scope === undefined) return undefined
  return scope.orUnbranched
    ? or(eq(runs.gitBranch, scope.branch), isNull(runs.gitBranch))
    : eq(runs.gitBranch, scope.branch)
}

/** The WHERE term of a role list; undefined (no condition) for every role. */
export function roleCondition(roles: readonly RunRole[] | undefined): SQL | undefined {
  return roles === undefined ? undefined : inArray(runs.role, [...roles])
}

/**
 * Load kinds whose runs rank nothing: micro runs (tinybench tasks, harness/micro) measure no request, and
 * `bench checklist` runs (harness/checklist) check an endpoint's readiness rather than benchmark it (scenario
 * `checklist`, PASS/WARN/FAIL figures). Leaderboards, procurement, the variant table and their scenario
 * pickers leave them out; the runs list, the run page and history keep them.
 */
export const UNRANKED_LOAD_KINDS = ['micro', 'checklist'] as const

/** The WHERE term of runs that may rank (not UNRANKED_LOAD_KINDS). */
export function rankedCondition(): SQL {
  return notInArray(runs.loadKind, [...UNRANKED_LOAD_KINDS])
}
