/**
 * A scenario's serving identity reaches the database with the run: a real runScenario against the built-in
 * mock (an openai target) through the real sink stores `targets[].serving` in the run's scenario, the
 * procurement query reads it back as the endpoint's price (never the client environment's), and it is in
 * no fingerprint (the same target without it continues the same series). Bad serving fields are refused
 * before anything runs, naming the field and the fix.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setEnvironmentPrice } from '../../db/prices.ts'
import { procurementCandidates, procurementRows } from '../../db/queries/procurement.ts'
import { runs } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { parseScenario } from '../../harness/config/index.ts'
import { ScenarioError } from '../../harness/errors.ts'
import { runScenario } from '../../harness/runner.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'

const SERVING = { hardware: 'AWS g6.xlarge', gpu: 'NVIDIA L4', gpuCount: 1, pricePerHour: 0.8 }

function scenario(serving?: typeof SERVING) {
  return parseScenario({
    name: 'serving-e2e',
    prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
    targets: [
      {
        name: 'endpoint',
        engine: {
          kind: 'openai',
          model: 'mock-model',
          mock: { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 1 } },
        },
        ...(serving ? { serving } : {}),
      },
    ],
    loads: [{ kind: 'sequential', requests: 3 }],
    warmupRequests: 0,
  })
}

describe('targets[].serving validation', () => {
  const problems = (target: Record<string, unknown>) => {
    try {
      parseScenario({
        name: 's',
        prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
        targets: [target],
        loads: [{ kind: 'sequential', requests: 1 }],
      })
      return []
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err
      return err.issues.map((i) => `${i.path}: ${i.message}`)
    }
  }
  const endpoint = { name: 'e', engine: { kind: 'openai', model: 'm', baseUrl: 'http://127.0.0.1:1/v1' } }

  it('refuses bad fields and a native target with a serving identity, naming the field', () => {
    expect(problems({ ...endpoint, serving: SERVING }), 'valid').toEqual([])
    expect(problems({ ...endpoint, serving: { hardware: ' ', pricePerHour: -1 } })).toEqual([
      'targets[0].serving.hardware: describe the serving machine, e.g. hardware: "AWS g6.xlarge" (got "")',
      'targets[0].serving.pricePerHour: must be > 0, got -1',
    ])
    expect(problems({ ...endpoint, serving: { hardware: 'x', gpus: 2 } }), 'unknown key').toEqual([
      'targets[0].serving.gpus: unknown field "gpus"; remove it or check its spelling',
    ])
    expect(
      problems({ name: 'n', engine: { kind: 'llama-cpp', model: 'm.gguf' }, serving: SERVING }),
      'native target',
    ).toEqual([
      "targets[0].serving: a llama-cpp target is served by the machine that runs bench (its environment): remove serving and price that environment on the dashboard's procurement page; serving describes a remote endpoint (openai targets)",
    ])
  })
})

describe.each(dbBackends())('serving identity stored with the run on %s', (backend) => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase(backend)
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it('keeps the scenario serving in the run, prices the endpoint by it and leaves fingerprints alone', async () => {
    const sink = createPostgresSink(t.db)
    const first = await runScenario({ scenario: scenario(SERVING), baseDir: '.', sink })
    const second = await runScenario({ scenario: scenario(), baseDir: '.', sink })
    await sink.close()
    expect([first.state, second.state], 'both runs completed').toEqual(['completed', 'completed'])

    const stored = await t.db
      .select({
        id: runs.id,
        scenario: runs.scenario,
        fingerprint: runs.fingerprint,
        env: runs.environmentId,
      })
      .from(runs)
      .where(eq(runs.scenarioName, 'serving-e2e'))
      .orderBy(runs.id)
    expect(stored, 'two runs').toHaveLength(2)
    const [withServing, without] = stored as [(typeof stored)[0], (typeof stored)[0]]
    expect(
      (withServing.scenario as { targets: { serving?: unknown }[] }).targets[0]?.serving,
      'serving stored in the run’s scenario',
    ).toEqual(SERVING)
    expect(without.fingerprint, 'serving is in no fingerprint').toBe(withServing.fingerprint)

    // The client machine (the run's environment) gets a price: it must not become the endpoint's.
    await setEnvironmentPrice(t.db, withServing.env!, { usdPerHour: 0.1 })
    // Of the first run alone: the latest run (the second, without serving) is the leaderboard's row.
    const [candidate] = await procurementCandidates(t.db, 'serving-e2e')
    expect(candidate?.runId, 'latest run').toBe(without.id)
    expect(candidate?.serving, 'the latest run declared none: unpriced').toEqual({
      kind: 'endpoint',
      identity: null,
    })
    await t.db.delete(runs).where(eq(runs.id, without.id))
    const [priced] = await procurementCandidates(t.db, 'serving-e2e')
    expect(priced?.serving, 'the endpoint’s identity, from the stored scenario').toEqual({
      kind: 'endpoint',
      identity: {
        source: 'scenario',
        hardware: 'AWS g6.xlarge',
        gpu: 'NVIDIA L4',
        gpuCount: 1,
        usdPerHour: 0.8,
        note: null,
        updatedBy: null,
        updatedAt: null,
        overrides: null,
      },
    })
    const [row] = await procurementRows(t.db, [priced!], {})
    expect(row?.figures.usdPerHour, 'priced at $0.8/h, not the client’s $0.1/h').toBe(0.8)
    expect(row?.figures.outputTokensPerSPerUsdHour, 'tokens/s per $/h').toBeCloseTo(
      row!.figures.outputTokensPerS! / 0.8,
      12,
    )
  })
})
