/**
 * `bench gate`: the CI gate. Compares the candidate's stored runs (named runs, an invocation, or the
 * latest invocation of the current commit) with the baseline branch's history up to the merge-base
 * (db/gate/runs.ts), an explicit baseline run, or a values file, and exits 2 on a regression, 0 otherwise,
 * 1 on an error — including a candidate whose fingerprint differs from the baseline branch's runs of the
 * same scenario and target (refused, listing each differing field: `mock.itl.ms: 3 vs 2`).
 *
 * No comparable history at all (a new scenario or target): the verdict is insufficient-data, a WARNING
 * line goes to stderr and the gate passes (exit 0), so adding a benchmark never breaks the build;
 * `--require-baseline` makes it exit 1 instead.
 *
 * Accuracy figures (`--metric acc`, `accNorm`, `acc/<subject>`) are judged on the invocation's accuracy
 * runs with a proportion test item by item (db/gate/gate.ts, harness/regression/accuracy.ts), latency
 * figures on its other runs; exit 2 on a regression of either.
 *
 * `--confirm N`: only when the first verdict has a latency regression, the scenario is run N more times (stored
 * with runs.role = 'confirm', never a baseline) and the verdict is taken again on the mean of all the
 * candidate's repetitions — harness/regression measured that one run cannot hold 1 % false positives and
 * 95 % detection on a 5 % noisy runner while a mean of about six can.
 * @module
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { appendFile } from 'node:fs/promises'
import { createDb, type Database } from '../../../db/client.ts'
import { createAlerts, saveRunLimits } from '../../../db/gate/alerts.ts'
import { formatGateReport, type GateFormat, refusalFields, refusalHead } from '../../../db/gate/format.ts'
import { accuracyMetricOf, type GateReport, gateStoredRuns, gateValues } from '../../../db/gate/gate.ts'
import { findCandidateRuns, type GateRun, markConfirmRuns } from '../../../db/gate/runs.ts'
import { readValuesFile } from '../../../db/gate/values-file.ts'
import { loadScenario } from '../../config/index.ts'
import { detectGit } from '../../environment.ts'
import { HarnessError } from '../../errors.ts'
import type { EvaluateOptions, GateMethod } from '../../regression/index.ts'
import { EXIT_ERROR, EXIT_OK, EXIT_REGRESSION } from '../action.ts'
import { dbOptions } from '../commands/db.ts'
import { coverSecretsIn, outputRedactor } from '../output.ts'

export interface GateCommandOptions {
  db?: string | false
  scenario?: string
  run?: number[]
  invocation?: string
  commit?: string
  branch?: string
  metric: string[]
  method: GateMethod
  confidence: number
  minEffect: number
  minSamples: number
  maxSamples: number
  baselineBranch: string
  baselineRef?: string
  baselineRun?: number[]
  baselineFile?: string
  candidateFile?: string
  confirm: number
  format: GateFormat
  requireBaseline?: boolean
}

export async function gateCommand(o: GateCommandOptions): Promise<number> {
  const evaluateOptions: EvaluateOptions = {
    method: o.method,
    confidence: o.confidence,
    minEffect: o.minEffect,
    minSamples: o.minSamples,
    maxSamples: o.maxSamples,
  }
  const baselineValues = o.baselineFile ? await readValuesFile(o.baselineFile) : undefined
  let report: GateReport
  if (o.db === false) {
    if (!baselineValues || !o.candidateFile)
      throw new HarnessError('--no-db needs --baseline-file and --candidate-file')
    if (o.confirm > 0) throw new HarnessError('--confirm needs the database (re-runs are stored there)')
    report = gateValues(o.metric, baselineValues, await readValuesFile(o.candidateFile), evaluateOptions)
  } else {
    const scenarioFile = o.scenario !== undefined && existsSync(o.scenario) ? o.scenario : undefined
    const loaded = scenarioFile ? await loadScenario(scenarioFile) : undefined
    if (loaded) coverSecretsIn([loaded.scenario])
    const scenarioName = loaded ? loaded.scenario.name : o.scenario
    if (o.confirm > 0 && !scenarioFile)
      throw new HarnessError('--confirm needs --scenario <file> (the scenario to re-run)')
    const database = await createDb(dbOptions(o.db))
    try {
      report = await gateDatabase(database, o, evaluateOptions, baselineValues, scenarioName, scenarioFile)
    } finally {
      await database.close()
    }
  }
  const text = formatGateReport(report, o.format)
  process.stdout.write(`${text}\n`)
  const summary = process.env.GITHUB_STEP_SUMMARY
  if (summary)
    await appendFile(
      summary,
      outputRedactor().text(`### bench gate\n\n${formatGateReport(report, 'md')}\n\n`),
    )
  for (const r of report.refused)
    process.stderr.write(
      `bench: ${refusalHead(r)}:\n${refusalFields(r)
        .map((f) => `  ${f}\n`)
        .join('')}`,
    )
  const insufficient = report.rows.filter((r) => r.verdict.verdict === 'insufficient-data')
  for (const r of insufficient)
    process.stderr.write(
      `WARNING: ${r.series} ${r.metric}: insufficient data (${r.verdict.reason}); ` +
        `${o.requireBaseline ? 'failing (--require-baseline)' : 'not gated (use --require-baseline to fail)'}\n`,
    )
  const regressions = report.rows.filter((r) => r.verdict.verdict === 'regression')
  if (report.refused.length > 0) return EXIT_ERROR
  if (regressions.length > 0) {
    process.stderr.write(
      `bench: regression in ${regressions.map((r) => `${r.series} ${r.metric}`).join(', ')}\n`,
    )
    return EXIT_REGRESSION
  }
  if (report.rows.length === 0) {
    process.stderr.write('WARNING: no candidate runs matched: nothing was gated\n')
    return o.requireBaseline ? EXIT_ERROR : EXIT_OK
  }
  if (o.requireBaseline && insufficient.length > 0) return EXIT_ERROR
  return EXIT_OK
}

async function gateDatabase(
  db: Database,
  o: GateCommandOptions,
  evaluateOptions: EvaluateOptions,
  baselineValues: Map<string, number[]> | undefined,
  scenarioName: string | undefined,
  scenarioFile: string | undefined,
): Promise<GateReport> {
  const git =
    o.run || o.invocation || o.branch
      ? undefined
      : await detectGit({ overrides: o.commit ? { commit: o.commit } : {} })
  const commit = o.commit ?? git?.commit
  const accuracyMetrics = o.metric.filter((m) => accuracyMetricOf(m) !== undefined).length
  const accuracy =
    accuracyMetrics === 0 ? 'exclude' : accuracyMetrics === o.metric.length ? 'only' : 'include'
  let candidates = await findCandidateRuns(db, {
    accuracy,
    ...(o.run ? { runIds: o.run } : {}),
    ...(o.invocation !== undefined ? { invocationId: o.invocation } : {}),
    ...(commit !== undefined && !o.branch ? { commit } : {}),
    ...(o.branch !== undefined ? { branch: o.branch } : {}),
    ...(scenarioName !== undefined ? { scenario: scenarioName } : {}),
  })
  if (candidates.length === 0)
    throw new HarnessError(
      `no completed candidate runs found${scenarioName ? ` of scenario ${scenarioName}` : ''}` +
        (o.run
          ? ` among runs ${o.run.join(', ')}`
          : o.invocation
            ? ` in invocation ${o.invocation}`
            : commit
              ? ` for commit ${commit}`
              : ''),
    )
  const gateOptions = {
    metrics: o.metric,
    evaluate: evaluateOptions,
    baselineBranch: o.baselineBranch,
    maxSamples: o.maxSamples,
    ...(o.baselineRun ? { baselineRunIds: o.baselineRun } : {}),
    ...(baselineValues ? { baselineValues } : {}),
    ...(o.baselineRef !== undefined ? { mergeBaseOf: await mergeBasesWith(o.baselineRef, candidates) } : {}),
    isAncestor,
  }
  let report = await gateStoredRuns(db, candidates, gateOptions)
  // Re-running the same items adds no evidence to an accuracy verdict: only a latency one is confirmed.
  const regressed = report.rows.some(
    (r) => r.verdict.verdict === 'regression' && accuracyMetricOf(r.metric) === undefined,
  )
  if (regressed && o.confirm > 0 && scenarioFile && report.refused.length === 0) {
    const label = `bench gate --confirm ${randomUUID()}`
    const first = candidates[0]
    for (let i = 0; i < o.confirm; i++) {
      process.stderr.write(`regression: confirming, re-run ${i + 1}/${o.confirm} of ${scenarioFile}\n`)
      await rerun(scenarioFile, label, o.db, first)
    }
    const confirmIds = await markConfirmRuns(db, label)
    candidates = await findCandidateRuns(db, {
      runIds: [...candidates.map((c) => c.id), ...confirmIds],
      accuracy,
    })
    report = await gateStoredRuns(db, candidates, gateOptions)
    report.notes.push(`confirmed with ${confirmIds.length} re-run(s) (runs ${confirmIds.join(', ')}), pooled`)
  }
  const gated = report.rows.flatMap((r) =>
    r.runId === null ? [] : [{ runId: r.runId, metric: r.metric, verdict: r.verdict }],
  )
  await saveRunLimits(db, gated)
  const alertIds = await createAlerts(db, gated)
  if (alertIds.length > 0)
    report.notes.push(`alerts opened: ${alertIds.length} (id ${alertIds.join(', ')}; bench alerts list)`)
  return report
}

/** git's stdout in the working directory, trimmed; undefined when git fails or is missing. */
function git(...args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { timeout: 10_000, windowsHide: true }, (err, stdout) =>
      resolve(err ? undefined : stdout.trim()),
    )
  })
}

/** Whether `ancestor` is an ancestor of `of` in this clone; undefined when git cannot tell. */
async function isAncestor(ancestor: string, of: string): Promise<boolean | undefined> {
  if ((await git('cat-file', '-e', `${ancestor}^{commit}`)) === undefined) return undefined
  if ((await git('cat-file', '-e', `${of}^{commit}`)) === undefined) return undefined
  return (await git('merge-base', '--is-ancestor', ancestor, of)) !== undefined
}

/**
 * `--baseline-ref REF`: each candidate commit → its merge-base with REF in this clone, the start point
 * instead of the merge-base bench run stored (taken against origin/main, which may lack local commits).
 */
async function mergeBasesWith(ref: string, candidates: readonly GateRun[]): Promise<Map<string, string>> {
  if ((await git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`)) === undefined)
    throw new HarnessError(
      `--baseline-ref ${ref}: no such commit, branch or tag in this clone (${process.cwd()}); ` +
        `fetch it (git fetch origin ${ref}) or name one that exists`,
    )
  const out = new Map<string, string>()
  for (const c of candidates) {
    if (c.gitCommit === null)
      throw new HarnessError(
        `--baseline-ref: candidate run ${c.id} has no git commit stored; record one with bench run --commit`,
      )
    if (out.has(c.gitCommit)) continue
    const base = await git('merge-base', c.gitCommit, ref)
    if (base === undefined)
      throw new HarnessError(
        `--baseline-ref ${ref}: no merge-base with the candidate commit ${c.gitCommit.slice(0, 12)} (run ${c.id}) ` +
          'in this clone: fetch that commit (a shallow clone needs fetch-depth: 0) or run the gate where it was measured',
      )
    out.set(c.gitCommit, base)
  }
  return out
}

/** One `bench run` of the scenario as a child process, with the candidate's git identity and a label. */
function rerun(file: string, label: string, db: string | false | undefined, like: GateRun | undefined) {
  const bin = process.argv[1]
  if (!bin) throw new HarnessError('cannot find the bench entry point to re-run the scenario')
  const args = [bin, 'run', file, '--label', label, '--no-progress', '--format', 'json']
  if (typeof db === 'string') args.push('--db', db)
  if (like?.gitCommit) args.push('--commit', like.gitCommit)
  if (like?.gitBranch) args.push('--branch', like.gitBranch)
  if (like?.gitMergeBase) args.push('--merge-base', like.gitMergeBase)
  return new Promise<void>((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(new HarnessError(`confirmation re-run failed: ${stderr.trim() || err.message}`))
      else resolve()
    })
  })
}
