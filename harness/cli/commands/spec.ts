/**
 * `bench spec <study>`: runs a speculative-decoding acceptance study (harness/speculative/README.md) — the
 * native draft/verify loop per K with exact counts, the logprob α, node-llama-cpp's own draft predictor —
 * and prints the per-K table (α measured, τ, speedup measured vs predicted) or, with --json, the whole
 * record. The study code (node-llama-cpp) is imported only when the command runs.
 * @module
 */
import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { action } from '../action.ts'

interface SpecCommandOptions {
  json?: boolean
  out?: string
  quiet?: boolean
  /** false = keep no result in a database (--no-db). */
  db?: string | false
  label?: string
}

export function registerSpecCommand(program: Command): void {
  program
    .command('spec')
    .description(
      'speculative-decoding acceptance study: draft/verify per K with exact counts, logprob α, predicted vs measured speedup',
    )
    .argument(
      '<study>',
      'study file (.ts with a default export, or .json): target, draft, prompts, ks, mode …',
    )
    .option('--json', 'print the whole result record as JSON instead of the tables')
    .option('--out <file>', 'also write the result record as JSON to this file')
    .option('--quiet', 'no progress lines on stderr')
    .option(
      '--db <path|url>',
      'store the study in this embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .option('--no-db', 'store nothing (print only, or --out)')
    .option('--label <text>', 'free text stored with the study')
    .action(
      action(async (file: string, opts: SpecCommandOptions) => {
        const { loadStudies } = await import('../../speculative/study-file.ts')
        const { runStudy } = await import('../../speculative/study.ts')
        const { formatStudy, formatStudySet } = await import('../../speculative/format.ts')
        // One study, or a set (one target against several drafts): each run, stored and printed in turn.
        const studies = await loadStudies(file)
        const results = []
        let failed = false
        for (const study of studies) {
          const result = await runStudy(study, {
            onProgress: opts.quiet
              ? () => {}
              : (m) => process.stderr.write(`bench spec: ${study.name}: ${m}\n`),
          })
          results.push(result)
          if (opts.db !== false) {
            const { storeSpecStudy } = await import('../actions/spec-db.ts')
            const where = await storeSpecStudy(result, { db: opts.db, source: file, label: opts.label })
            process.stderr.write(`bench spec: ${where}\n`)
          }
          if (!opts.json) process.stdout.write(`${formatStudy(result)}\n`)
          // A greedy run whose output differs from the target's is a wrong result, not a slow one.
          const mismatch = result.perK.filter((r) => r.matchesTarget === false).map((r) => r.k)
          if (mismatch.length > 0) {
            process.stderr.write(
              `bench spec: ${study.name}: greedy speculative output differs from the target's at K = ${mismatch.join(', ')}\n`,
            )
            failed = true
          }
        }
        const json = `${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`
        if (opts.out) await writeFile(opts.out, json)
        if (opts.json) process.stdout.write(json)
        else if (results.length > 1) process.stdout.write(`\n${formatStudySet(results)}\n`)
        if (failed) return 1
        return 0
      }),
    )
}

/**
 * `bench spec-endpoints <study>`: the study against deployed endpoints (harness/speculative/endpoints): the
 * same greedy prompts to the target without and with speculation per K (and the draft alone, for c);
 * prints per K the acceptance, τ and α̂ the servers report, decode speed, measured vs predicted speedup and
 * whether the output stayed the same, and stores it (db/studies/endpoint-store.ts; --db, --no-db, --label
 * as `bench spec`). Exit 1 when greedy output changed, or when an endpoint's counters say it did not
 * speculate (or `off` did): the record's problems, one line each naming the field (stored as the study's error).
 */
export function registerSpecEndpointsCommand(program: Command): void {
  program
    .command('spec-endpoints')
    .description(
      'speculative decoding on deployed endpoints: without vs with a draft per K, server-reported acceptance, measured vs predicted speedup',
    )
    .argument(
      '<study>',
      'endpoint study file (.ts default export or .json): model, off, on [{k, url}], draftAlone …',
    )
    .option('--json', 'print the whole result record as JSON instead of the table')
    .option(
      '--db <path|url>',
      'store the study in this embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .option('--no-db', 'store nothing (print only)')
    .option('--label <text>', 'free text stored with the study')
    .action(
      action(async (file: string, opts: { json?: boolean; db?: string | false; label?: string }) => {
        const { loadEndpointStudy } = await import('../../speculative/endpoints/study-file.ts')
        const { endpointStudyLoadLine, runEndpointStudyRecord } = await import(
          '../../speculative/endpoints/run-file.ts'
        )
        const { formatEndpointStudy } = await import('../../speculative/endpoints/study.ts')
        const study = await loadEndpointStudy(file)
        // Each pass on stderr as `bench spec` does its phases (a pass on a real server can take minutes).
        const record = await runEndpointStudyRecord(study, {
          onProgress: (m) => process.stderr.write(`bench spec-endpoints: ${study.name}: ${m}\n`),
        })
        const { result } = record
        process.stderr.write(`bench spec-endpoints: ${endpointStudyLoadLine(record)}\n`)
        // Printed first: a database that refuses the study does not lose what was measured.
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ name: study.name, ...result }, null, 2)}\n`
            : `${formatEndpointStudy(result)}\n`,
        )
        if (opts.db !== false) {
          const { storeEndpointStudy } = await import('../actions/spec-db.ts')
          const where = await storeEndpointStudy(record, { db: opts.db, source: file, label: opts.label })
          process.stderr.write(`bench spec-endpoints: ${where}\n`)
        }
        let failed = false
        // An endpoint that does not speculate (or an `off` one that does): its figures measure nothing.
        for (const problem of record.problems ?? []) {
          process.stderr.write(`bench spec-endpoints: ${problem}\n`)
          failed = true
        }
        const changed = result.rows.filter((r) => !r.sameOutput).map((r) => r.k)
        if (changed.length > 0) {
          process.stderr.write(
            `bench spec-endpoints: greedy output with speculation differs from the output without it at K = ${changed.join(', ')}\n`,
          )
          failed = true
        }
        return failed ? 1 : 0
      }),
    )
}
