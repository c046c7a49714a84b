/**
 * What `bench run <file> [--commit C] [--branch B] [--merge-base M] [--repeat N]` stores, made in the test's
 * own process: the same calls as harness/cli/actions/run.ts (loadScenario, detectEnvironment, detectGit in
 * `cwd`, one invocation id, runScenario into the Postgres sink), without a CLI start per run (~2 s of CPU
 * each on 2 cores). The gate tests seed their baselines and candidates with it and start the real CLI for
 * the command they assert on (`bench gate`); one real `bench run --repeat` stays in gate-messages.test.ts.
 * @module
 */
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import type { Db } from '../../db/client.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { loadScenario } from '../../harness/config/index.ts'
import { detectEnvironment, detectGit } from '../../harness/environment.ts'
import type { EnvironmentInfo } from '../../harness/results.ts'
import { runScenario } from '../../harness/runner.ts'

export interface BenchRunOptions {
  /** Where git facts come from, as the CLI's working directory. */
  cwd: string
  commit?: string
  branch?: string
  mergeBase?: string
  /** @default 1 */
  repeat?: number
}

let environment: Promise<EnvironmentInfo> | undefined

/** Runs `file` as `bench run` would into `db`; returns the run ids, and throws unless every run completed. */
export async function benchRun(db: Db, file: string, o: BenchRunOptions): Promise<number[]> {
  const loaded = await loadScenario(file)
  environment ??= detectEnvironment()
  const git = await detectGit({
    cwd: o.cwd,
    // As the tests' CLI children: a CI job's GITHUB_SHA is not the commit of the test's clone.
    env: { ...process.env, GITHUB_SHA: '' },
    overrides: {
      ...(o.commit ? { commit: o.commit } : {}),
      ...(o.branch ? { branch: o.branch } : {}),
      ...(o.mergeBase ? { mergeBase: o.mergeBase } : {}),
    },
  })
  const context = { environment: await environment, git, invocationId: randomUUID() }
  const sink = createPostgresSink(db)
  const ids: number[] = []
  try {
    for (let i = 0; i < (o.repeat ?? 1); i++) {
      const result = await runScenario({
        scenario: loaded.scenario,
        baseDir: path.dirname(loaded.file),
        source: loaded.file,
        sink,
        context,
      })
      if (result.state !== 'completed')
        throw new Error(`${file}: ${result.state} (${result.runs.map((r) => r.error).join('; ')})`)
      ids.push(...result.runs.map((r) => Number(r.runId)))
    }
  } finally {
    await sink.close()
  }
  return ids
}
