/**
 * An endpoint study launched from the dashboard (POST /api/studies, the token) runs through the job queue
 * (the `spec-study` kind, an in-process worker on PGlite) against mock llama-servers — the target without
 * speculation and with it at K = 2 and 3 (the mock's speculative option, α = 0.8, the API key required) —
 * reporting progress per pass (without speculation, then each K), and is stored with its per-K rows; the
 * key, from the worker's environment, is in no stored row. A study file whose URL carries a password is
 * refused at launch (a queued study is stored as it is).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { installQueue, queueConnection } from '../../db/queue/connection.ts'
import { registerJobKind } from '../../db/queue/kinds.ts'
import { startWorker, type WorkerHandle } from '../../db/queue/worker.ts'
import { specEndpointK, specStudies } from '../../db/schema.ts'
import { specStudyKind } from '../../db/studies/queue.ts'
import { readStudy } from '../../db/studies/store.ts'
import { detectEnvironment } from '../../harness/environment.ts'
import type { MockServerHandle } from '../../harness/mock-server/server.ts'
import { startMockServerInWorker } from '../../harness/mock-server/worker.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

const TOKEN = 'endpoint-queue-token'
const KEY = 'sk-queued-endpoint-study-0123456789'
const KEY_ENV = 'BENCH_TEST_QUEUED_SPEC_KEY'
// 5 ms between tokens: each pass takes ~0.5 s, long enough to see its progress.
const paced = { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 5 } } as const

registerJobKind(specStudyKind)

describe('an endpoint study launched from the dashboard runs through the queue', () => {
  let t: TestDatabase
  let worker: WorkerHandle
  // The dashboard's launchable study files (BENCH_STUDIES_DIR): this test's two.
  const studiesDir = mkdtempSync(join(tmpdir(), 'bench-endpoint-studies-'))
  const savedDir = process.env.BENCH_STUDIES_DIR
  const mocks: MockServerHandle[] = []
  const savedKey = process.env[KEY_ENV]

  beforeAll(async () => {
    process.env[KEY_ENV] = KEY
    process.env.BENCH_STUDIES_DIR = studiesDir
    t = await createTestDatabase('pglite')
    const connection = queueConnection(t.db, t.options)
    await installQueue(connection)
    const started = await Promise.all([
      startMockServerInWorker({ personality: 'llama-server', apiKey: KEY, ...paced }),
      ...[2, 3].map((k) =>
        startMockServerInWorker({
          personality: 'llama-server',
          apiKey: KEY,
          ...paced,
          speculative: { draftMax: k, acceptance: 0.8 },
        }),
      ),
    ])
    mocks.push(...started)
    const [off, k2, k3] = started
    const study = (name: string, offUrl: string) => ({
      name,
      model: 'mock-model',
      apiKeyEnv: KEY_ENV,
      off: offUrl,
      on: [
        { k: 2, url: k2!.url },
        { k: 3, url: k3!.url },
      ],
      c: 0.05,
      prompts: ['one prompt', 'another <prompt>'],
      maxTokens: 40,
    })
    writeFileSync(
      join(studiesDir, 'spec-mock-endpoints.json'),
      JSON.stringify(study('mock-queued', off!.url)),
    )
    const withPassword = off!.url.replace('http://', 'http://user:hunter2@')
    writeFileSync(
      join(studiesDir, 'spec-mock-password.json'),
      JSON.stringify(study('mock-password', withPassword)),
    )
    worker = await startWorker({ db: t.db, connection, environment: await detectEnvironment() })
  }, 60_000)

  afterAll(async () => {
    await worker?.stop()
    await Promise.all(mocks.map((m) => m.close()))
    await t?.dispose()
    rmSync(studiesDir, { recursive: true, force: true })
    if (savedDir === undefined) delete process.env.BENCH_STUDIES_DIR
    else process.env.BENCH_STUDIES_DIR = savedDir
    if (savedKey === undefined) delete process.env[KEY_ENV]
    else process.env[KEY_ENV] = savedKey
  })

  const app = () => createApp({ db: t.db, auth: { token: TOKEN }, cache: false })
  const launch = (study: string) =>
    app().request('/api/studies', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ study, label: 'queued' }),
    })

  it('the page offers it; launched, it reports each pass and is stored with its K rows', async () => {
    const page = await (await app().request('/studies')).text()
    expect(page).toContain(
      '<option value="spec-mock-endpoints.json">spec-mock-endpoints.json — mock-queued (endpoints)</option>',
    )
    const res = await launch('spec-mock-endpoints.json')
    expect(res.status, await res.clone().text()).toBe(201)
    const id = ((await res.json()) as { study: { id: number } }).study.id
    const seen: { progress: number; message: string | null }[] = []
    const deadline = Date.now() + 45_000
    for (;;) {
      const s = (await readStudy(t.db, id))?.study
      const last = seen.at(-1)
      if (s && (last?.progress !== s.progress || last?.message !== s.progressMessage))
        seen.push({ progress: s.progress, message: s.progressMessage })
      if (s?.state === 'completed' || s?.state === 'failed') break
      if (Date.now() > deadline) throw new Error('the study did not finish within 45 s')
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const stored = await readStudy(t.db, id)
    expect(stored?.study.error).toBeNull()
    expect(stored?.study).toMatchObject({
      kind: 'endpoint',
      state: 'completed',
      progress: 1,
      label: 'queued',
    })
    // Three passes: without speculation (0), K = 2 (1/3), K = 3 (2/3); the poll sees some of them.
    const running = seen.filter((p) => p.message !== null)
    expect(running.length, JSON.stringify(seen)).toBeGreaterThan(0)
    for (const p of running)
      expect([
        ['without speculation', 0],
        ['K = 2', 1 / 3],
        ['K = 3', 2 / 3],
      ]).toContainEqual([p.message, expect.closeTo(p.progress, 6)])
    expect(stored?.endpointK.map((r) => [r.k, r.sameOutput, r.countersSource])).toEqual([
      [2, true, 'metrics'],
      [3, true, 'metrics'],
    ])
    for (const r of stored!.endpointK) {
      expect(r.error).toBeCloseTo(r.measuredSpeedup - r.predictedSpeedup!, 12)
      expect(r.positions.map((p) => p.position)).toEqual(Array.from({ length: r.k }, (_, i) => i + 1))
    }
    const rows = JSON.stringify(
      await Promise.all([t.db.select().from(specStudies), t.db.select().from(specEndpointK)]),
    )
    expect(rows).toContain(KEY_ENV)
    expect(rows).not.toContain(KEY)
  }, 60_000)

  it('a study file with a password in a URL is refused at launch, pointing at apiKeyEnv', async () => {
    const res = await launch('spec-mock-password.json')
    expect(res.status).toBe(409)
    const body = await res.text()
    expect(body).toMatch(/carries a user or password.*apiKeyEnv/)
    expect(body).not.toContain('hunter2')
  })
})
