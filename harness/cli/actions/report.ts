/**
 * `bench report`: checks the selection and --out before opening the database, builds the report
 * (dashboard/report) and writes it whole: to a temporary file beside --out created with mode 0600 (files we
 * create are private to the user), then renamed over it, so a reader never sees half a report and an
 * existing file ends up 0600 too.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { defaultBranch } from '../../../dashboard/params.ts'
import { createDb } from '../../../db/client.ts'
import { HarnessError } from '../../errors.ts'
import { dbOptions } from '../commands/db.ts'

export interface ReportFlags {
  scenario?: string
  branch?: string
  out?: string
  db?: string
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f]/

const USAGE = 'bench report <run ids…> | --scenario NAME [--branch B] --out report.html'

/** The selection the arguments ask for; a HarnessError naming the problem and the fix otherwise. */
export function reportSelection(
  runs: readonly string[],
  opts: ReportFlags,
): { kind: 'runs'; runIds: number[] } | { kind: 'scenario'; scenario: string; branch?: string } {
  if (opts.out === undefined || opts.out.trim() === '')
    throw new HarnessError(`--out is required: the HTML file to write (${USAGE})`)
  if (runs.length > 0 && opts.scenario !== undefined)
    throw new HarnessError(`give run ids or --scenario, not both (${USAGE})`)
  if (opts.branch !== undefined && opts.scenario === undefined)
    throw new HarnessError(`--branch selects runs of a --scenario; with run ids, leave it out (${USAGE})`)
  if (opts.scenario !== undefined) {
    if (opts.scenario.trim() === '') throw new HarnessError('--scenario: give a scenario name')
    for (const [flag, value] of [
      ['--scenario', opts.scenario],
      ['--branch', opts.branch],
    ] as const)
      if (value !== undefined && CONTROL.test(value))
        throw new HarnessError(
          `${flag}: control characters are not part of a name; give it as shown by bench runs list`,
        )
    if (opts.branch === undefined) {
      // The default branch the selection falls to: a bad BENCH_DEFAULT_BRANCH is one line here, not later.
      try {
        defaultBranch()
      } catch (err) {
        throw new HarnessError((err as Error).message)
      }
    }
    return {
      kind: 'scenario',
      scenario: opts.scenario,
      ...(opts.branch !== undefined ? { branch: opts.branch } : {}),
    }
  }
  if (runs.length === 0) throw new HarnessError(`give run ids or --scenario NAME (${USAGE})`)
  const runIds = runs.map((raw) => {
    const n = Number(raw)
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1)
      throw new HarnessError(`run id "${raw}" is not a positive integer`)
    return n
  })
  return { kind: 'runs', runIds }
}

export async function reportCommand(runs: string[], opts: ReportFlags): Promise<undefined> {
  const selection = reportSelection(runs, opts)
  const out = opts.out!
  const { buildReport, ReportSelectionError } = await import('../../../dashboard/report/index.ts')
  const database = await createDb(dbOptions(opts.db))
  let html: string
  let model: Awaited<ReturnType<typeof buildReport>>['model']
  try {
    ;({ html, model } = await buildReport(database, selection))
  } catch (err) {
    if (err instanceof ReportSelectionError) throw new HarnessError(`${err.message} in ${database.location}`)
    throw err
  } finally {
    await database.close()
  }
  const tmp = path.join(
    path.dirname(out),
    `.${path.basename(out)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  )
  try {
    await writeFile(tmp, html, { mode: 0o600, flag: 'wx' })
    await rename(tmp, out)
  } catch (err) {
    await rm(tmp, { force: true })
    throw new HarnessError(`cannot write ${out}: ${(err as Error).message}`)
  }
  process.stderr.write(
    `report: ${model.runs.length} run${model.runs.length === 1 ? '' : 's'}, ${model.variants.length} target${model.variants.length === 1 ? '' : 's'} written to ${out} (${Math.round(html.length / 1024)} KiB)\n`,
  )
  return undefined
}
