/**
 * `bench export <run> --format json|csv [--out FILE]`: one run out of the results database — JSON with the
 * run, its identity, metrics and requests, or CSV with one row per request — to a file or stdout.
 * @module
 */
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { type Command, Option } from 'commander'
import { createDb } from '../../../db/client.ts'
import { type ExportFormat, exportRun, RunNotFoundError } from '../../../db/export.ts'
import { HarnessError } from '../../errors.ts'
import { action, parseNumberFlag } from '../action.ts'
import { dbOptions } from './db.ts'

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write one run as JSON (run, metrics, requests) or CSV (one row per request)')
    .argument('<run>', 'run id', parseNumberFlag('<run>', 'int', 1))
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv']).default('json'))
    .option('--out <file>', 'write to this file instead of stdout')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .action(
      action(async (runId: number, opts: { format: ExportFormat; out?: string; db?: string }) => {
        const database = await createDb(dbOptions(opts.db))
        const out: Writable = opts.out ? createWriteStream(opts.out, { mode: 0o600 }) : process.stdout
        const failed = opts.out ? once(out, 'error').then(([e]) => Promise.reject(e as Error)) : undefined
        failed?.catch(() => {})
        try {
          const write = async (chunk: string) => {
            if (!out.write(chunk)) await Promise.race([once(out, 'drain'), ...(failed ? [failed] : [])])
          }
          const { requests } = await exportRun(database, runId, { format: opts.format, write })
          if (opts.out) {
            out.end()
            await Promise.race([once(out, 'finish'), failed])
            process.stderr.write(`run ${runId}: ${requests} requests written to ${opts.out}\n`)
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
      }),
    )
}
