/**
 * Table cells the alerts page and the history page's gate tables share: an alert's state, its p-value, and
 * the decision limits it was judged against.
 * @module
 */
import { formatValue } from './format.ts'
import { type Html, h } from './html.ts'

/** `active` red, `acknowledged` amber, `dismissed` grey (style.css `.state-…`). */
export function alertState(state: string): Html {
  return h`<span class="state state-${state}" data-field="state">${state}</span>`
}

/** Two significant digits; tiny values as `< 0.0001` (the t-test's tails say nothing useful below). */
export function formatPValue(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return '–'
  return p < 0.0001 ? '< 0.0001' : p.toPrecision(2)
}

/** `lower … upper` with units; `–` for a side the method does not bound. */
export function formatLimits(lower: number | null, upper: number | null, unit: string | null | undefined) {
  return `${formatValue(lower, unit)} … ${formatValue(upper, unit)}`
}
