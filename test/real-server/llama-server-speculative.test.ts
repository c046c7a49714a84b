/**
 * Speculative decoding on a real llama-server (build-llama-cpp.sh), as an endpoint reports it (issue 20
 * item 2): the knowledge teacher (teacher-f32) served without a draft, with itself as the draft (`-md …
 * --spec-type draft-simple`, greedy: every drafted token must be accepted) and with its Q4_0 as the draft
 * at K = 1, 2, 4, plus the Q4_0 served alone (for c). At temperature 0 speculation must not change a
 * single output token; the server's own counters — per-response `timings.draft_n` / `draft_n_accepted`
 * and the `llamacpp:spec_decode_*` counters of /metrics over the same requests — must agree; the study
 * (harness/speculative/endpoints/study.ts) prints measured against predicted speedup per K, and is stored
 * (db/studies/endpoint-store.ts, PGlite) and read back with the per-K error as `bench spec-endpoints` stores it.
 *
 * Skipped with the reason without the cached build; under CI a missing build fails (as llama-server.test.ts).
 */
import os from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { saveEndpointStudy } from '../../db/studies/endpoint-store.ts'
import { readStudy } from '../../db/studies/store.ts'
import type { Engine } from '../../harness/engines/engine.ts'
import { createOpenAIEngine } from '../../harness/engines/openai/openai.ts'
import {
  type EndpointStudyResult,
  formatEndpointStudy,
  runEndpointStudy,
  type StudyEndpoint,
} from '../../harness/speculative/endpoints/study.ts'
import { parseEndpointStudy } from '../../harness/speculative/endpoints/study-file.ts'
import { createTestDatabase } from '../helpers/db.ts'
import { teacherModels } from '../helpers/fixture-models.ts'
import { findLlamaCppTool } from '../helpers/llama-cpp-tools.ts'
import { type LlamaServer, startLlamaServer } from './llama-server.ts'

const ROOT = new URL('../../', import.meta.url).pathname
const tool = findLlamaCppTool(ROOT, 'llama-server')
if (!tool.found && process.env.CI) throw new Error(`CI must build llama-server first: ${tool.reason}`)

/** Questions of the teacher's own layout (harness/fixtures/knowledge), so its continuations are not noise. */
const PROMPTS = [
  'Question: What is 3 + 5?\nAnswer:',
  'Question: What is the capital of Norland?\nAnswer:',
  'The river runs past the city and',
  'Question: What colour is the sky on a clear day?\nAnswer:',
]
const OUTPUT_TOKENS = 24
const KS = [1, 2, 4]

describe.skipIf(!tool.found)(
  `real llama-server speculative decoding${tool.found ? '' : ` (skipped: ${tool.reason})`}`,
  () => {
    const servers: LlamaServer[] = []
    const engines: Engine[] = []
    let self: EndpointStudyResult
    let quantized: EndpointStudyResult
    /** Base URL of each endpoint (the study file's off / on / draftAlone as stored). */
    const urls = new Map<StudyEndpoint, string>()
    let started = 0
    let quantizedFile: ReturnType<typeof parseEndpointStudy>
    beforeAll(async () => {
      if (!tool.found) return
      const models = await teacherModels()
      const target = models.path('teacher-f32')
      const q4 = models.path('teacher-q4_0')
      const serve = async (model: string, draft?: { path: string; k: number }): Promise<StudyEndpoint> => {
        const server = await startLlamaServer({
          binary: tool.path,
          model,
          contextSize: 2048,
          // `-md` alone loads the draft but does not speculate: --spec-type defaults to none (this build).
          args: [
            '--metrics',
            ...(draft
              ? ['-md', draft.path, '--spec-type', 'draft-simple', '--spec-draft-n-max', String(draft.k)]
              : []),
          ],
        })
        servers.push(server)
        const engine = createOpenAIEngine({
          baseUrl: server.url,
          model: 'teacher',
          api: 'completions',
          client: 'http1',
        })
        engines.push(engine)
        await engine.start()
        const endpoint = { engine, metricsUrl: `${server.origin}/metrics` }
        urls.set(endpoint, server.url)
        return endpoint
      }
      // One server at a time answers (the study runs them in turn), so each has the 2 cores to itself.
      const off = await serve(target)
      const common = { off, prompts: PROMPTS, maxTokens: OUTPUT_TOKENS }
      self = await runEndpointStudy({
        ...common,
        on: [{ k: 4, endpoint: await serve(target, { path: target, k: 4 }) }],
        c: 1,
      })
      const on = []
      for (const k of KS) on.push({ k, endpoint: await serve(target, { path: q4, k }) })
      const draftAlone = await serve(q4)
      started = Date.now()
      quantized = await runEndpointStudy({ ...common, on, draftAlone })
      quantizedFile = parseEndpointStudy({
        name: 'teacher-q4-draft',
        model: 'teacher',
        off: urls.get(off),
        on: on.map(({ k, endpoint }) => ({ k, url: urls.get(endpoint) })),
        draftAlone: urls.get(draftAlone),
        prompts: PROMPTS,
        maxTokens: OUTPUT_TOKENS,
      })
      console.log(`teacher-f32 ← teacher-q4_0 draft on llama-server:\n${formatEndpointStudy(quantized)}`)
      console.log(`teacher-f32 ← itself:\n${formatEndpointStudy(self)}`)
    }, 120_000)
    afterAll(async () => {
      await Promise.all(engines.map((e) => e[Symbol.asyncDispose]()))
      await Promise.all(servers.map((s) => s.close()))
    })

    it('greedy output is token for token the same with and without a draft, at every K', () => {
      expect(
        self.off.texts.every((t) => t.length > 0),
        'the teacher answered',
      ).toBe(true)
      expect([...self.rows, ...quantized.rows].map((r) => [r.k, r.sameOutput])).toEqual([
        [4, true],
        ...KS.map((k) => [k, true]),
      ])
    })

    it('without a draft: nothing drafted', () => {
      expect(self.off.speculation?.draftTokens ?? 0).toBe(0)
    })

    it('the target as its own draft: every drafted token accepted; /metrics and timings agree', () => {
      const row = self.rows[0]!
      const s = row.pass.speculation
      expect(s?.source, 'from /metrics').toMatch(/llamacpp:spec_decode/)
      expect(s?.draftTokens, 'it drafted').toBeGreaterThan(0)
      expect(row.acceptanceRate).toBe(1)
      // Position i of a draft is accepted in every draft that reached it: the first = drafts, Σ = accepted.
      expect(s?.acceptedAtPosition?.length, 'per-position counters served').toBe(4)
      expect(s?.acceptedAtPosition?.[0]).toBe(s?.drafts)
      expect(s?.acceptedAtPosition?.reduce((a, b) => a + b, 0)).toBe(s?.acceptedTokens)
      // τ ≤ K + 1 (bonus included); a response's last draft may be cut short by the length limit.
      expect(row.meanAcceptanceLength).toBeGreaterThan(1)
      expect(row.meanAcceptanceLength).toBeLessThanOrEqual(5)
      expect(row.alphaHat).toBeGreaterThan(0.9)
    })

    it('a Q4_0 draft: per K a share accepted in (0, 1], τ ≤ K + 1, c measured, predicted beside measured', () => {
      expect(quantized.c?.source).toBe('measured')
      expect(quantized.c?.value).toBeGreaterThan(0)
      for (const row of quantized.rows) {
        expect(row.pass.speculation?.draftTokens, `K=${row.k} drafted`).toBeGreaterThan(0)
        expect(row.acceptanceRate, `K=${row.k}`).toBeGreaterThan(0)
        expect(row.acceptanceRate, `K=${row.k}`).toBeLessThanOrEqual(1)
        expect(row.meanAcceptanceLength, `K=${row.k}`).toBeLessThanOrEqual(row.k + 1)
        expect(row.predictedSpeedup, `K=${row.k} predicted`).toBeGreaterThan(0)
        expect(row.measuredSpeedup, `K=${row.k} measured`).toBeGreaterThan(0)
      }
    })

    it('per-response timings count exactly the drafted and accepted tokens of the /metrics deltas', () => {
      for (const row of [...self.rows, ...quantized.rows]) {
        const { speculation: m, timingsSpeculation: t } = row.pass
        expect(m?.source, `K=${row.k}`).toMatch(/llamacpp:spec_decode/)
        expect([t?.draftTokens, t?.acceptedTokens], `K=${row.k}`).toEqual([m?.draftTokens, m?.acceptedTokens])
      }
    })

    it('the Q4_0 study is stored and read back: per K measured vs predicted speedup with the error', async () => {
      const t = await createTestDatabase('pglite')
      try {
        const load = os.loadavg()
        const id = await saveEndpointStudy(t.db, {
          study: quantizedFile,
          result: quantized,
          startedAt: new Date(started).toISOString(),
          durationMs: Date.now() - started,
          environment: {
            cpus: os.cpus().length,
            cpuModel: os.cpus()[0]?.model ?? 'unknown',
            node: process.version,
            loadAverageBefore: load,
            loadAverageAfter: load,
          },
        })
        const stored = await readStudy(t.db, id)
        expect(stored?.study).toMatchObject({ kind: 'endpoint', state: 'completed' })
        expect(stored?.study.costRatio).toBe(quantized.c?.value)
        expect(stored?.endpointK.map((r) => r.k)).toEqual(KS)
        for (const [i, row] of stored!.endpointK.entries()) {
          const r = quantized.rows[i]!
          const m = r.pass.speculation!
          expect(row, `K=${row.k}`).toMatchObject({
            drafted: m.draftTokens,
            accepted: m.acceptedTokens,
            drafts: m.drafts,
            countersSource: 'metrics',
            sameOutput: true,
            measuredSpeedup: r.measuredSpeedup,
            predictedSpeedup: r.predictedSpeedup,
            alphaHat: r.alphaHat,
          })
          expect(row.error, `K=${row.k}`).toBeCloseTo(r.measuredSpeedup - r.predictedSpeedup!, 12)
          // llama-server counts acceptance per draft position: K rows, their sum the accepted tokens.
          expect(row.positions.map((p) => p.position)).toEqual(Array.from({ length: row.k }, (_, j) => j + 1))
          expect(row.positions.reduce((a, p) => a + p.accepted, 0)).toBe(m.acceptedTokens)
        }
      } finally {
        await t.dispose()
      }
    })
  },
)
