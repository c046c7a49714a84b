/**
 * Speculative decoding on a real llama-server (build-llama-cpp.sh), as an endpoint reports it (issue 20
 * item 2): the knowledge teacher (teacher-f32) served three ways on loopback — without a draft, with itself
 * as the draft (`-md --spec-type draft-simple`, greedy: every drafted token must be accepted) and with its Q4_0 as the draft. At
 * temperature 0 speculation must not change a single output token, and the server's own counters
 * (per-response `timings.draft_n` / `draft_n_accepted`, and the `llamacpp:spec_decode_*` counters of
 * /metrics over the same requests) must agree with each other and with what the pairing implies.
 *
 * Skipped with the reason without the cached build; under CI a missing build fails (as llama-server.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StreamEvent } from '../../harness/engines/engine.ts'
import { createOpenAIEngine } from '../../harness/engines/openai/openai.ts'
import type { ServerTimings } from '../../harness/results.ts'
import { scrapeMetrics } from '../../harness/server-metrics/scrape.ts'
import { diffScrapes } from '../../harness/server-metrics/session.ts'
import {
  type ServerSpeculation,
  speculationFromMetrics,
  speculationFromTimings,
} from '../../harness/speculative/endpoints/server-counters.ts'
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
const DRAFT_MAX = 4

interface Served {
  texts: string[]
  timings: (ServerTimings | undefined)[]
  metrics: ServerSpeculation | undefined
}

async function serve(server: LlamaServer): Promise<Served> {
  const engine = createOpenAIEngine({
    baseUrl: server.url,
    model: 'teacher',
    api: 'completions',
    client: 'http1',
  })
  try {
    await engine.start()
    const metricsUrl = `${server.origin}/metrics`
    const before = await scrapeMetrics({ url: metricsUrl })
    const texts: string[] = []
    const timings: (ServerTimings | undefined)[] = []
    for (const prompt of PROMPTS) {
      let text = ''
      let done: Extract<StreamEvent, { type: 'done' }> | undefined
      for await (const event of engine.generate(
        {
          prompt,
          maxTokens: OUTPUT_TOKENS,
          minTokens: OUTPUT_TOKENS,
          ignoreEos: true,
          sampling: { temperature: 0 },
        },
        new AbortController().signal,
      )) {
        if (event.type === 'token') text += event.text
        else if (event.type === 'done') done = event
      }
      texts.push(text)
      timings.push(done?.serverTimings)
    }
    const after = await scrapeMetrics({ url: metricsUrl })
    if (before.state !== 'ok' || after.state !== 'ok')
      throw new Error(
        `/metrics: ${before.state === 'ok' ? '' : before.reason} ${after.state === 'ok' ? '' : after.reason}`,
      )
    const record = diffScrapes(metricsUrl, before.families, after.families)
    return { texts, timings, metrics: speculationFromMetrics(record.rows) }
  } finally {
    await engine[Symbol.asyncDispose]()
  }
}

describe.skipIf(!tool.found)(
  `real llama-server speculative decoding${tool.found ? '' : ` (skipped: ${tool.reason})`}`,
  () => {
    const servers: LlamaServer[] = []
    let plain: Served
    let self: Served
    let quantized: Served
    beforeAll(async () => {
      if (!tool.found) return
      const models = await teacherModels()
      const target = models.path('teacher-f32')
      const start = (draft?: string) =>
        startLlamaServer({
          binary: tool.path,
          model: target,
          contextSize: 2048,
          // `-md` alone loads the draft but does not speculate: --spec-type defaults to none (this build).
          args: [
            '--metrics',
            ...(draft
              ? ['-md', draft, '--spec-type', 'draft-simple', '--spec-draft-n-max', String(DRAFT_MAX)]
              : []),
          ],
        }).then((s) => {
          servers.push(s)
          return s
        })
      // One after another: each has the 2 cores to itself while it answers.
      plain = await serve(await start())
      self = await serve(await start(target))
      quantized = await serve(await start(models.path('teacher-q4_0')))
    }, 120_000)
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()))
    })

    it('greedy output is token for token the same with and without a draft', () => {
      expect(
        plain.texts.every((t) => t.length > 0),
        'the teacher answered',
      ).toBe(true)
      expect(self.texts).toEqual(plain.texts)
      expect(quantized.texts).toEqual(plain.texts)
    })

    it('without a draft: no draft_n in timings', () => {
      expect(speculationFromTimings(plain.timings)).toBeUndefined()
      expect(plain.metrics?.draftTokens ?? 0).toBe(0)
    })

    it('the target as its own draft: every drafted token accepted, per response and in /metrics', () => {
      const fromTimings = speculationFromTimings(self.timings)
      expect(fromTimings?.draftTokens, 'it drafted').toBeGreaterThan(0)
      expect(fromTimings?.acceptanceRate).toBe(1)
      expect(self.metrics?.draftTokens, '/metrics counts the same drafted tokens').toBe(
        fromTimings?.draftTokens,
      )
      expect(self.metrics?.acceptedTokens).toBe(fromTimings?.acceptedTokens)
      // τ ≤ K + 1 (bonus included); the last draft of a response may be cut by the length limit.
      expect(self.metrics?.meanAcceptanceLength).toBeGreaterThan(1)
      expect(self.metrics?.meanAcceptanceLength).toBeLessThanOrEqual(DRAFT_MAX + 1)
      // Position i of a draft is accepted in every draft that reached it: non-increasing, the first = drafts.
      const perPos = self.metrics?.acceptedAtPosition ?? []
      expect(perPos.length, 'per-position counters served').toBe(DRAFT_MAX)
      expect(perPos[0]).toBe(self.metrics?.drafts)
      expect(perPos.reduce((a, b) => a + b, 0)).toBe(self.metrics?.acceptedTokens)
    })

    it('a Q4_0 draft: drafts, accepts a share in (0, 1], the two counts agree', () => {
      const fromTimings = speculationFromTimings(quantized.timings)
      expect(fromTimings?.draftTokens).toBeGreaterThan(0)
      expect(fromTimings?.acceptedTokens).toBeGreaterThan(0)
      expect(fromTimings?.acceptanceRate).toBeLessThanOrEqual(1)
      expect(quantized.metrics?.draftTokens).toBe(fromTimings?.draftTokens)
      expect(quantized.metrics?.acceptedTokens).toBe(fromTimings?.acceptedTokens)
      console.log(
        `teacher-f32 ← teacher-q4_0 draft (K=${DRAFT_MAX}): acceptance ${fromTimings?.acceptanceRate?.toFixed(3)}, τ ${quantized.metrics?.meanAcceptanceLength?.toFixed(2)}; self-draft τ ${self.metrics?.meanAcceptanceLength?.toFixed(2)}`,
      )
    })
  },
)
