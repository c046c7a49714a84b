/**
 * Counts the navigation shows next to a link (active alerts), read once per page request by
 * routes/pages.ts and handed to views/layout.ts through async context, so no page's loader or view has to
 * carry them. Outside a page request (an error page, a test rendering a view) there are none.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'

export interface NavCounts {
  /** Alerts in state active. */
  activeAlerts?: number
}

export const navCounts = new AsyncLocalStorage<NavCounts>()

/** Tooltip of each count. */
export const NAV_COUNT_TITLES: Readonly<Record<keyof NavCounts, string>> = {
  activeAlerts: 'active alerts: regressions nobody has acknowledged or dismissed yet',
}
