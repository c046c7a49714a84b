/**
 * `bench report`: the selected runs as one self-contained HTML file (select.ts → model.ts → render.ts, with
 * the inlined assets of assets.ts). The CLI (harness/cli/actions/report.ts) writes what this returns.
 * @module
 */
import type { Db } from '../../db/client.ts'
import { reportAssets } from './assets.ts'
import { loadReport, type ReportModel } from './model.ts'
import { renderReport } from './render.ts'
import type { ReportSelection } from './select.ts'

export { type ReportSelection, ReportSelectionError } from './select.ts'
export type { ReportModel }

/** The report's HTML and the model it shows. `now`: the time the header gives as generated. */
export async function buildReport(
  db: Db,
  selection: ReportSelection,
  now: Date = new Date(),
): Promise<{ html: string; model: ReportModel }> {
  const [model, assets] = await Promise.all([loadReport(db, selection, now), reportAssets()])
  return { html: renderReport(model, assets), model }
}
