/**
 * `bench spec-endpoints` through the real CLI against mock llama-servers on loopback: the target without
 * speculation and with it at K = 3 (the mock's speculative option: α = 0.8), the key from --api-key-env's
 * variable never printed; a bad study file names each wrong field. The same study against a real
 * llama-server is test/real-server/llama-server-speculative.test.ts (library level).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { specEndpointK, specStudies, specStudyPositions } from '../../db/schema.ts'
import { readStudy } from '../../db/studies/store.ts'
import type { MockServerHandle } from '../../harness/mock-server/server.ts'
import { startMockServerInWorker } from '../../harness/mock-server/worker.ts'
import { runCli } from '../helpers/cli.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

const KEY = 'sk-spec-endpoints-0123456789abcdef'
const fast = { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 0 } } as const

describe('bench spec-endpoints', () => {
  let dir: string
  let off: MockServerHandle
  let on: MockServerHandle
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-spec-endpoints-'))
    off = await startMockServerInWorker({ personality: 'llama-server', apiKey: KEY, ...fast })
    on = await startMockServerInWorker({
      personality: 'llama-server',
      apiKey: KEY,
      ...fast,
      speculative: { draftMax: 3, acceptance: 0.8 },
    })
  })
  afterAll(async () => {
    await off?.close()
    await on?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const study = (extra: Record<string, unknown> = {}) => ({
    name: 'mock-spec',
    model: 'mock-model',
    apiKeyEnv: 'SPEC_KEY',
    off: off.url,
    on: [{ k: 3, url: on.url }],
    c: 0.05,
    prompts: Array.from({ length: 6 }, (_, i) => `prompt ${i} of the study`),
    maxTokens: 300,
    ...extra,
  })

  it('prints per K the servers’ acceptance, τ, α̂, measured vs predicted speedup; the key stays out', async () => {
    const file = join(dir, 'study.json')
    writeFileSync(file, JSON.stringify(study()))
    const r = await runCli(['spec-endpoints', file, '--json', '--no-db'], { env: { SPEC_KEY: KEY } })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).not.toContain(KEY)
    const out = JSON.parse(r.stdout) as {
      name: string
      c: { value: number; source: string }
      rows: {
        k: number
        sameOutput: boolean
        alphaHat: number
        predictedSpeedup: number
        measuredSpeedup: number
      }[]
    }
    expect(out.name).toBe('mock-spec')
    expect(out.c).toEqual({ value: 0.05, source: 'given' })
    const row = out.rows[0]!
    expect(row.k).toBe(3)
    expect(row.sameOutput).toBe(true)
    // ~600 verification steps at α = 0.8: α̂ within a few hundredths.
    expect(Math.abs(row.alphaHat - 0.8)).toBeLessThan(0.05)
    expect(row.predictedSpeedup).toBeGreaterThan(2)
    // The table (without --json) is the stored run's output, in the next case.
  })

  it('stores the study (--db, --label) and prints its table: bench study list and export show it; the key is nowhere', async () => {
    const t: TestDatabase = await createTestDatabase('pglite')
    try {
      const dataDir = String(t.options.dataDir)
      const file = join(dir, 'stored.json')
      writeFileSync(file, JSON.stringify(study()))
      const r = await runCli(['spec-endpoints', file, '--db', dataDir, '--label', 'mock <run>'], {
        env: { SPEC_KEY: KEY },
      })
      expect(r.code, r.stderr).toBe(0)
      // The table, as without --db: stored or not, stdout is the same.
      expect(r.stdout).toMatch(/^without speculation: [\d.]+ decode tok\/s \(server timings\)\n/)
      expect(r.stdout).toMatch(/\n3 +0\.\d{3} +\d\.\d\d +0\.\d{3} .* yes\n?$/)
      expect(r.stderr).toMatch(/bench spec-endpoints: study \d+ stored in .* \(dashboard: \/studies\/\d+\)/)
      const id = Number(/study (\d+) stored/.exec(r.stderr)?.[1])
      const stored = await readStudy(t.db, id)
      expect(stored?.study).toMatchObject({ kind: 'endpoint', state: 'completed', label: 'mock <run>' })
      const row = stored!.endpointK[0]!
      expect(row).toMatchObject({ k: 3, sameOutput: true, countersSource: 'metrics', costRatio: 0.05 })
      expect(row.error).toBeCloseTo(row.measuredSpeedup - row.predictedSpeedup!, 12)
      expect(Math.abs(row.alphaHat! - 0.8)).toBeLessThan(0.1)
      // The mock serves llama-server's per-position counters: K positions, the first kept most.
      expect(row.positions.map((p) => p.position)).toEqual([1, 2, 3])
      expect(row.positions[0]!.rate).toBeGreaterThan(row.positions[2]!.rate)

      // Both read through this process's connection (t.db hosts the directory): side by side.
      const exported = join(dir, 'export.json')
      const [list, ex] = await Promise.all([
        runCli(['study', 'list', '--db', dataDir]),
        runCli(['study', 'export', String(id), '--out', exported, '--db', dataDir]),
      ])
      expect(list.code, list.stderr).toBe(0)
      expect(list.stdout).toMatch(new RegExp(`^${id}\tmock-spec\tendpoint\tcompleted\tK 3\t`, 'm'))
      expect(ex.code, ex.stderr).toBe(0)
      const doc = readFileSync(exported, 'utf8')
      expect(JSON.parse(doc)).toMatchObject({
        version: 2,
        study: { kind: 'endpoint' },
        endpointK: [{ k: 3 }],
      })

      // The key: not in any stored row, not in the export, not on the pages or their JSON.
      const rows = JSON.stringify(
        await Promise.all([
          t.db.select().from(specStudies),
          t.db.select().from(specEndpointK),
          t.db.select().from(specStudyPositions),
        ]),
      )
      expect(rows).toContain('SPEC_KEY')
      // The pages through the app itself (no socket left open in this worker).
      const app = createApp({ db: t.db, auth: { token: 'spec-endpoints-dashboard-token' }, cache: false })
      const pages = await Promise.all(
        [`/studies/${id}`, `/api/studies/${id}`, '/studies', '/api/studies'].map(async (route) => {
          const res = await app.request(route)
          expect(res.status, route).toBe(200)
          return res.text()
        }),
      )
      expect(pages[0]).toContain('mock &lt;run&gt;')
      expect(pages[0]).toContain('data-study-kind="endpoint"')
      for (const text of [rows, doc, r.stdout, r.stderr, list.stdout, ...pages])
        expect(text).not.toContain(KEY)
    } finally {
      await t.dispose()
    }
  }, 60_000)

  it('a bad study names each wrong field; a missing key variable is one line', async () => {
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify(study({ on: [], maxTokens: 1, off: 'ftp://x' })))
    const r = await runCli(['spec-endpoints', bad, '--no-db'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/- off: /)
    expect(r.stderr).toMatch(/- on: /)
    expect(r.stderr).toMatch(/- maxTokens: /)
    const good = join(dir, 'good.json')
    writeFileSync(good, JSON.stringify(study()))
    const unset = await runCli(['spec-endpoints', good, '--no-db'], { env: { SPEC_KEY: '' } })
    expect(unset.code).toBe(1)
    expect(unset.stderr).toMatch(/apiKeyEnv: the environment variable SPEC_KEY is not set or empty/)
  })
})
