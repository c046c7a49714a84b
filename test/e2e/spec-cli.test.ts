/**
 * `bench spec <study>` as a user runs it (the real CLI in a child process): a greedy study of teacher-f32
 * with its Q4_0 draft prints the per-K table, and with --json the record the dashboard will persist —
 * counts that add up, the greedy output equal to the target's, the predicted speedup computed from the
 * logprob α and the measured c, node-llama-cpp's own figures beside. A bad study file fails before any
 * model loads, naming the field.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateFixtures } from '../../harness/fixtures/generate.ts'
import { expectedTokensPerStep } from '../../harness/speculative/model.ts'
import type { SpecStudyResult } from '../../harness/speculative/study.ts'
import { runCli } from '../helpers/cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'spec-cli-'))
let studyFile: string

beforeAll(async () => {
  await generateFixtures({ outDir: dir, sizes: ['teacher'] })
  studyFile = join(dir, 'study.json')
  writeFileSync(
    studyFile,
    JSON.stringify({
      name: 'teacher-q4-draft',
      target: join(dir, 'teacher-f32.gguf'),
      draft: join(dir, 'teacher-q4_0.gguf'),
      prompts: ['The capital of', 'abc'],
      ks: [1, 3],
      maxTokens: 16,
      warmup: 0,
    }),
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('bench spec', () => {
  it('prints the tables and writes the record (--out): exit 0', async () => {
    // One run (each pays node-llama-cpp's binary test, seconds under load): text on stdout, JSON in --out.
    const out = join(dir, 'result.json')
    const r = await runCli(['spec', studyFile, '--quiet', '--out', out, '--no-db'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/load average \(uptime\) before [\d.]+, [\d.]+, [\d.]+/)
    expect(r.stdout).toMatch(/^K\s+drafted\s+accepted\s+steps\s+accept rate\s+τ\s+α̂/m)
    expect(r.stdout).toMatch(/^3\s+\d+\s+\d+\s+\d+\s+[\d.]+\s+[\d.]+/m)
    expect(r.stdout).toContain('per-position acceptance rate_k')
    expect(r.stdout).toMatch(/predicted speedup S = E \/ \(K·c \+ 1\), c = [\d.]+/)
    expect(r.stdout).toMatch(/^native\s+3\s/m)

    const result = JSON.parse(readFileSync(out, 'utf8')) as SpecStudyResult
    expect(result.study).toMatchObject({ name: 'teacher-q4-draft', mode: 'greedy', ks: [1, 3] })
    expect(result.perK.map((row) => row.k)).toEqual([1, 3])
    expect(result.perPrompt).toHaveLength(4)
    expect(result.costRatio).toBeGreaterThan(0)
    expect(result.environment.loadAverageBefore).toHaveLength(3)
    for (const row of result.perK) {
      expect(row.matchesTarget, `K = ${row.k}`).toBe(true)
      expect(row.counts.drafted).toBe(row.k * row.counts.verifySteps)
      // Per-K counts are the sum of the prompts' counts.
      const prompts = result.perPrompt.filter((p) => p.k === row.k)
      expect(prompts.reduce((a, p) => a + p.counts.accepted, 0)).toBe(row.counts.accepted)
      expect(row.metrics.meanAcceptanceLength).toBeCloseTo(
        1 + row.counts.accepted / row.counts.verifySteps,
        12,
      )
      const predicted =
        expectedTokensPerStep(result.alphaForPrediction, row.k) / (row.k * result.costRatio + 1)
      expect(row.predictedSpeedup).toBeCloseTo(predicted, 12)
      expect(row.error).toBeCloseTo(row.measuredSpeedup - predicted, 12)
      expect(row.nodeLlamaCpp?.matchesTarget).toBe(true)
      expect(row.nodeLlamaCpp!.predictions.validated).toBeGreaterThan(0)
    }
    // Greedy: the prediction's α is the logprob top-1 agreement; a Q4_0 draft of a trained model agrees often.
    expect(result.alphaForPrediction).toBe(result.logprob.top1)
    expect(result.logprob.top1).toBeGreaterThan(0.8)
    expect(result.table.measured.map((m) => m.k)).toEqual([1, 3])
  })

  it('a bad study file: exit 1 before any model loads, every problem named (the rest: unit/speculative/study-file)', async () => {
    const bad = join(dir, 'bad.json')
    writeFileSync(
      bad,
      JSON.stringify({
        name: 'Bad Name',
        target: join(dir, 'teacher-f32.gguf'),
        draft: join(dir, 'teacher-q4_0.bin'),
        prompts: [],
        ks: [0],
        mode: 'beam',
      }),
    )
    const r = await runCli(['spec', bad])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`Study ${bad} is invalid`)
    expect(r.stderr).toMatch(/name: use lower-case letters, digits and '-'/)
    expect(r.stderr).toMatch(/draft: expected the path of a \.gguf file/)
    expect(r.stderr).toMatch(/prompts: needs ≥ 1 entries/)
    expect(r.stderr).toMatch(/ks\[0\]: must be ≥ 1, got 0/)
    expect(r.stderr).toMatch(/mode: /)
  })
})
