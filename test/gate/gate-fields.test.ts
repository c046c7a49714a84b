/**
 * A refusal's differing fields, on the database side: runs written through the real sink (PGlite, and
 * PostgreSQL with DATABASE_URL) that differ in a nested engine option, the workload, another load step of
 * the scenario and the environment; incomparableBecause names each leaf, baseline first, and nothing that
 * agrees — not the engine options or the scenario as whole objects.
 */
import { describe, expect, it } from 'vitest'
import { findCandidateRuns, incomparableBecause } from '../../db/gate/runs.ts'
import type { EnvironmentInfo, RunMeta } from '../../harness/results.ts'
import { seedRuns } from '../db/fixtures/seed.ts'
import { createTestDatabase, dbBackends } from '../helpers/db.ts'

const environment: EnvironmentInfo = {
  cpuModel: 'AMD EPYC',
  cores: 2,
  ramBytes: 8e9,
  gpus: [],
  os: 'Linux x64',
  nodeVersion: 'v20.20.2',
  engineVersions: { 'node-llama-cpp': '3.21.1' },
}

function meta(o: {
  itlMs: number
  outputTokens: number
  otherConcurrency: number
  hash: string
  env: EnvironmentInfo
  branch: string
}): Partial<RunMeta> {
  const step: RunMeta['load'] = { kind: 'sequential', requests: 10 }
  const loads = [step, { kind: 'concurrent', concurrency: o.otherConcurrency, requests: 10 }]
  return {
    scenario: {
      name: 'fields',
      hash: o.hash,
      source: {
        name: 'fields',
        description: `${o.branch}: not part of the workload`,
        prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: o.outputTokens },
        loads,
        targets: [{ name: 'mock', engine: { kind: 'openai', model: 'mock-model' } }],
      },
    },
    engineOptions: {
      kind: 'openai',
      model: 'mock-model',
      api: 'chat',
      mock: { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: o.itlMs } },
    },
    load: step,
    loadIndex: 0,
    environment: o.env,
    git: { branch: o.branch, commit: `${o.branch}-commit` },
  }
}

describe.each(dbBackends())('a refusal names each differing field (%s)', (backend) => {
  it('leaf paths, baseline first; the run’s own step as its load; nothing that agrees', async () => {
    const t = await createTestDatabase(backend)
    try {
      const [mainRun] = await seedRuns(t.db, [
        {
          tag: 20,
          startedAtIso: '2026-11-25T10:00:00.000Z',
          meta: meta({
            itlMs: 3,
            outputTokens: 4,
            otherConcurrency: 4,
            hash: 'h-main',
            env: environment,
            branch: 'main',
          }),
        },
      ])
      await seedRuns(t.db, [
        {
          tag: 20,
          startedAtIso: '2026-11-25T10:05:00.000Z',
          meta: meta({
            itlMs: 2,
            outputTokens: 8,
            otherConcurrency: 8,
            hash: 'h-pr',
            env: { ...environment, cores: 8, engineVersions: { 'node-llama-cpp': '3.22.0' } },
            branch: 'pr',
          }),
        },
      ])
      const [candidate] = await findCandidateRuns(t.db, { commit: 'pr-commit' })
      if (!candidate) throw new Error('candidate missing')
      const why = await incomparableBecause(t.db, candidate, 'main')
      expect(why?.runId, 'against the main run').toBe(mainRun)
      expect(why?.differences.map((d) => `${d.field}: ${d.baseline} vs ${d.candidate}`).sort()).toEqual(
        [
          'mock.itl.ms: 3 vs 2',
          'scenario.prompts.outputTokens: 4 vs 8',
          'scenario.loads[1].concurrency: 4 vs 8',
          'environment.cores: 2 vs 8',
          'environment.engineVersions.node-llama-cpp: 3.21.1 vs 3.22.0',
        ].sort(),
      )
    } finally {
      await t.dispose()
    }
  })
})
