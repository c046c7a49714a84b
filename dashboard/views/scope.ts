/**
 * The branch and run-role pickers of the leaderboard and history, the sentence saying which runs a page
 * shows, and the marks of flagged rows (client-saturated, errors over 1 %: data/scope.ts).
 * @module
 */
import { raw } from 'hono/html'
import { type BranchView, describeBranchView, flagReason, flagText, type RunFlag } from '../data/scope.ts'
import { ANY_BRANCH, type RoleFilter } from '../params.ts'
import { type Html, h, notice } from './html.ts'

/**
 * A branch `<select>`: the default branch (empty value: the parameter left out), every branch (`*`), then
 * each branch by name. `requested` is the query's own value (undefined for the default).
 */
export function branchSelect(
  view: BranchView,
  branches: readonly string[],
  requested: string | undefined,
): Html {
  const named = branches.filter((b) => b !== view.defaultBranch)
  return h`<label>branch
  <select name="branch" data-autosubmit>
    <option value=""${requested === undefined ? raw(' selected') : ''}>default (${view.defaultBranch})</option>
    <option value="${ANY_BRANCH}"${requested === ANY_BRANCH ? raw(' selected') : ''}>any branch</option>
    ${branches.includes(view.defaultBranch) ? h`<option value="${view.defaultBranch}"${requested === view.defaultBranch ? raw(' selected') : ''}>${view.defaultBranch} only</option>` : ''}
    ${named.map((b) => h`<option value="${b}"${b === requested ? raw(' selected') : ''}>${b}</option>`)}
    ${requested !== undefined && requested !== ANY_BRANCH && !branches.includes(requested) ? h`<option value="${requested}" selected>${requested}</option>` : ''}
  </select>
</label>`
}

const ROLE_LABELS: Record<RoleFilter, string> = {
  run: 'runs (no confirm re-runs)',
  confirm: 'confirm re-runs only',
  any: 'runs and confirm re-runs',
}

export function roleSelect(role: RoleFilter): Html {
  return h`<label>runs
  <select name="role" data-autosubmit>
    ${(Object.keys(ROLE_LABELS) as RoleFilter[]).map((r) => h`<option value="${r === 'run' ? '' : r}"${r === role ? raw(' selected') : ''}>${ROLE_LABELS[r]}</option>`)}
  </select>
</label>`
}

/** "Showing branch main (…)" and, after a fallback, why every branch is shown. */
export function scopeLine(view: BranchView): Html {
  if (view.fellBack)
    return notice(
      h`No run here on the default branch <code>${view.defaultBranch}</code>: showing ${describeBranchView(view)}. Set <code>BENCH_DEFAULT_BRANCH</code> to your default branch when it is not ${view.defaultBranch}.`,
      'warn',
    )
  return h`<p class="scope" id="scope">Showing ${describeBranchView(view)}.</p>`
}

/** The marks of a flagged row, each with why it matters as a tooltip; '' for a clean row. */
export function flagTags(flags: readonly RunFlag[], errorRate: number | undefined): Html | '' {
  if (flags.length === 0) return ''
  return h`${flags.map((f) => h` <span class="tag flag flag-${f}" title="${flagReason(f)}">${flagText(f, errorRate)}</span>`)}`
}
