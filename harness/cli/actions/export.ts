/**
 * `bench export`: one run streamed to a file (mode 0600) or stdout.
 * @module
 */
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { createDb } from '../../../db/client.ts'
import { type ExportFormat, exportRun, RunNotFoundError } from '../../../db/export.ts'
import { HarnessError } from '../../errors.ts'
import { dbOptions } from '../commands/db.ts'

export interface ExportFlags {
  format: ExportFormat
  out?: string
  db?: string
}

export async function exportCommand(runId: number, opts: ExportFlags): Promise<undefined> {
  const database = await createDb(dbOptions(opts.db))
  const out: Writable = opts.out ? createWriteStream(opts.out, { mode: 0o600 }) : process.stdout
  const failed = opts.out ? once(out, 'error').then(([e]) => Promise.reject(e as Error)) : undefined
  failed?.catch(() => {})
  try {
    const write = async (chunk: string) => {
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), ...(failed ? [failed] : [])])
    }
    const { requests, items } = await exportRun(database, runId, { format: opts.format, write })
    if (opts.out) {
      out.end()
      await Promise.race([once(out, 'finish'), failed])
      process.stderr.write(
        `run ${runId}: ${items > 0 ? `${items} accuracy items` : `${requests} requests`} written to ${opts.out}\n`,
      )
    }
  } catch (err) {
    if (err instanceof RunNotFoundError)
      throw new HarnessError(`run ${runId} does not exist in ${database.location}`)
    if (opts.out && (err as NodeJS.ErrnoException).syscall)
      throw new HarnessError(`cannot write ${opts.out}: ${(err as Error).message}`)
    throw err
  } finally {
    if (opts.out) out.destroy()
    await database.close()
  }
  return undefined
}
