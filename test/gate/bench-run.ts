/**
 * What `bench run <file> [--commit C] [--branch B] [--merge-base M] [--repeat N]` stores, made in the test's
 * own process: the same calls as harness/cli/actions/run.ts (loadScenario, detectEnvironment, detectGit in
 * `cwd`, one invocation id, runScenario into the Postgres sink), without a CLI start per run (~2 s of CPU
 * each on 2 cores). The gate tests seed their baselines and candidates with it and start the real CLI for
 * the command they assert on (`bench gate`); one real `bench run --repeat` stays in gate-messages.test.ts.
 *
 * One difference: a `mock:` target's mock server runs in this process, one per distinct options until
 * closeMocks(), not in a worker thread per run as createTargetEngine starts it — a worker in a vitest fork
 * registers tsx and loads the server from source, ~0.85 s of CPU each (measured, load 8). The engine gets
 * its URL and stores the mock's options exactly as harness/target-engine.ts does, so a run made here and
 * one made by the CLI have one fingerprint: gate-messages.test.ts gates in-process runs against CLI ones.
 * @module
 */
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import type { Db } from '../../db/client.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { loadScenario } from '../../harness/config/index.ts'
import type { EngineConfig, TargetConfig } from '../../harness/config/schema.ts'
import type { CreatedEngine } from '../../harness/engines/definition.ts'
import { requireEngineDefinition } from '../../harness/engines/registry.ts'
import { detectEnvironment, detectGit } from '../../harness/environment.ts'
import type { MockOptions } from '../../harness/mock-server/options.ts'
import { type MockServerHandle, startMockServer } from '../../harness/mock-server/server.ts'
import type { EnvironmentInfo } from '../../harness/results.ts'
import { runScenario } from '../../harness/runner.ts'
import { createTargetEngine } from '../../harness/target-engine.ts'

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

/** In-process mock servers by their options (JSON). */
const mocks = new Map<string, Promise<MockServerHandle>>()

/** createTargetEngine with a `mock:` target's server from `mocks` (see the module's comment). */
async function createEngine(target: TargetConfig): Promise<CreatedEngine> {
  const { mock, ...config } = target.engine as EngineConfig & { mock?: MockOptions }
  if (mock === undefined) return createTargetEngine(target.engine)
  if (mock.apiKey !== undefined)
    throw new Error('bench-run.ts: a mock with an apiKey is stored redacted; not done here')
  const key = JSON.stringify(mock)
  let server = mocks.get(key)
  if (server === undefined) {
    server = startMockServer(mock)
    mocks.set(key, server)
  }
  const created = await requireEngineDefinition(config.kind).create(config, {
    env: process.env,
    baseUrl: (await server).url,
  })
  return { ...created, storedOptions: { ...created.storedOptions, mock } }
}

/** Closes the mock servers benchRun started. */
export async function closeMocks(): Promise<void> {
  const servers = [...mocks.values()]
  mocks.clear()
  await Promise.all(servers.map(async (s) => (await s).close()))
}

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
        createEngine,
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
