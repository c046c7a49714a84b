/**
 * The gate's database side: start-point baselines, confirmation runs kept out of them, alert lifecycle
 * (db functions and `bench alerts`), the change-point job (`bench changepoints`), a refusal's differing
 * fields, the database-free gate on values files, and accuracy gated item by item (`bench gate --metric acc`). Runs are written through the real sink; each run's
 * ttftMsP50 is its seed tag, on PGlite and on PostgreSQL with DATABASE_URL.
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import type { Db } from '../../db/client.ts'
import { acknowledgeAlert, createAlerts, dismissAlert, listAlerts } from '../../db/gate/alerts.ts'
import { computeChangePoints } from '../../db/gate/change-points.ts'
import { gateStoredRuns } from '../../db/gate/gate.ts'
import {
  baselineHistory,
  findCandidateRuns,
  incomparableBecause,
  markConfirmRuns,
} from '../../db/gate/runs.ts'
import { changePoints, runs } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { accuracyMetricRows, summarizeItems } from '../../harness/accuracy/run-metrics.ts'
import { evaluate } from '../../harness/regression/index.ts'
import type { EnvironmentInfo, ItemOutcome, RunMeta } from '../../harness/results.ts'
import { runMeta } from '../db/fixtures/data.ts'
import { seedRuns } from '../db/fixtures/seed.ts'
import { accuracySpec } from '../fixtures/accuracy-spec.ts'
import { runCli } from '../helpers/cli.ts'
import { createTestDatabase, dbBackends, type TestDatabase, testTmpRoot } from '../helpers/db.ts'

const at = (minute: number) => `2026-11-25T10:${String(minute).padStart(2, '0')}:00.000Z`
const git = (branch: string, commit: string, mergeBase?: string) => ({
  meta: { git: { branch, commit, ...(mergeBase ? { mergeBase } : {}) } },
})

// A refusal's differing fields (was gate-fields.test.ts): runs that differ in a nested engine option, the
// workload, another load step of the scenario and the environment; incomparableBecause names each leaf,
// baseline first, and nothing that agrees — not the engine options or the scenario as whole objects.
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

describe.each(dbBackends())('gate database side (%s)', (backend) => {
  // The baselines, alerts and refusal tests share one database (each reads only its own commits, scenario
  // or alerts); the change-point test reads every series and the whole runs table, so it has its own.
  let shared: Promise<TestDatabase> | undefined
  const sharedDb = () => {
    shared ??= createTestDatabase(backend)
    return shared
  }
  afterAll(async () => {
    await (await shared)?.dispose()
  })

  it('baselines stop at the merge-base, skip confirmation runs, and fall back when it was never measured', async () => {
    const t = await sharedDb()
    const main = await seedRuns(t.db, [
      ...[0, 1, 2, 3, 4].map((m) => ({ tag: 20, startedAtIso: at(m), ...git('main', 'm1') })),
      { tag: 50, startedAtIso: at(10), ...git('main', 'm2') },
    ])
    const [confirm] = await seedRuns(t.db, [
      {
        tag: 99,
        startedAtIso: at(5),
        ...git('main', 'm1'),
        meta: { git: { branch: 'main', commit: 'm1' }, label: 'c1' },
      },
    ])
    expect(await markConfirmRuns(t.db, 'c1'), 'confirm run marked').toEqual([confirm])
    const [pr, orphan] = await seedRuns(t.db, [
      { tag: 21, startedAtIso: at(20), ...git('pr', 'p1', 'm1') },
      { tag: 21, startedAtIso: at(21), ...git('pr2', 'p2', 'never-measured') },
    ])
    // The same commit's accuracy run, measured last: no latency figures, so never a gate candidate.
    const [accuracyRun] = await seedRuns(t.db, [{ tag: 21, startedAtIso: at(22), ...git('pr', 'p1', 'm1') }])
    await t.db
      .update(runs)
      .set({ loadKind: 'accuracy' })
      .where(eq(runs.id, accuracyRun ?? 0))

    const [candidate] = await findCandidateRuns(t.db, { commit: 'p1' })
    expect(candidate?.id, 'candidate found by commit, not its accuracy run').toBe(pr)
    if (!candidate) return
    const h = await baselineHistory(t.db, candidate, {
      branch: 'main',
      maxSamples: 25,
      excludeIds: [pr ?? 0],
    })
    expect(
      h.runs.map((r) => r.id),
      'main up to m1: m2 (after the fork) and the confirm run left out',
    ).toEqual(main.slice(0, 5))
    expect(h.startPoint, 'start point described').toBe('main up to the merge-base m1')

    const [other] = await findCandidateRuns(t.db, { runIds: [orphan ?? 0] })
    if (!other) throw new Error('orphan run missing')
    const fallback = await baselineHistory(t.db, other, { branch: 'main', maxSamples: 3, excludeIds: [] })
    expect(
      fallback.runs.map((r) => r.id),
      'unknown merge-base: latest 3 main runs before the candidate, oldest first, confirm run excluded',
    ).toEqual([main[3], main[4], main[5]])
    expect(fallback.startPoint, 'fallback said').toMatch(/merge-base never-measur was never measured on main/)
  })

  it('alerts go active → acknowledged / dismissed with who and when, in the db and through bench alerts', async () => {
    const t = await sharedDb()
    const dbFlag = t.options.url ?? t.options.dataDir ?? ''
    const [runId = 0] = await seedRuns(t.db, [{ tag: 30, startedAtIso: at(0) }])
    const verdict = evaluate('lower', [20, 20.5, 19.5, 20, 20], 30)
    expect(verdict.verdict, 'a regression to alert on').toBe('regression')
    const [a1 = 0, a2 = 0] = await createAlerts(t.db, [
      { runId, metric: 'ttftMsP50', verdict },
      { runId, metric: 'ttftMsP95', verdict },
    ])
    const acked = await acknowledgeAlert(t.db, a1, { by: 'ana', note: 'bisecting' })
    expect(acked?.state, 'acknowledged').toBe('acknowledged')
    expect(acked?.actedBy, 'by').toBe('ana')
    expect(acked?.actedAt instanceof Date, 'when').toBe(true)
    expect(await dismissAlert(t.db, 999_999), 'unknown id').toBeUndefined()

    const list = await runCli(['alerts', 'list', '--state', 'active', '--db', dbFlag])
    expect(list.code, `list exit (stderr: ${list.stderr})`).toBe(0)
    expect(list.stdout, 'only the active one').toMatch(
      new RegExp(`^${a2}\\s+active\\s+${runId}\\s+ttftMsP95`, 'm'),
    )
    expect(list.stdout, 'acknowledged one not listed').not.toMatch(/ttftMsP50/)
    const dismissed = await runCli(['alerts', 'dismiss', String(a2), '--by', 'bo', '--db', dbFlag])
    expect(dismissed.code, `dismiss exit (stderr: ${dismissed.stderr})`).toBe(0)
    expect(
      (await listAlerts(t.db, { state: 'dismissed' })).map((a) => [a.id, a.actedBy]),
      'stored',
    ).toEqual([[a2, 'bo']])
  })

  it('bench changepoints stores the step of a series and replaces it on the next run', async () => {
    const t = await createTestDatabase(backend)
    const dbFlag = t.options.url ?? t.options.dataDir ?? ''
    try {
      // 20/21 alternating for 8 runs, then 30/31: the new regime starts at point 8.
      const tags = Array.from({ length: 16 }, (_, i) => (i < 8 ? 20 : 30) + (i % 2))
      const ids = await seedRuns(
        t.db,
        tags.map((tag, i) => ({ tag, startedAtIso: at(i), ...git('main', `c${i}`) })),
      )
      for (const pass of ['first (CLI)', 'second (db function)']) {
        if (pass.startsWith('first')) {
          const r = await runCli(['changepoints', '--metric', 'ttftMsP50', '--json', '--db', dbFlag])
          expect(r.code, `${pass} exit (stderr: ${r.stderr})`).toBe(0)
          expect(JSON.parse(r.stdout)[0]?.points, 'points analysed').toBe(16)
        } else {
          await computeChangePoints(t.db, { metrics: ['ttftMsP50'] })
        }
        const rows = await t.db.select().from(changePoints).where(eq(changePoints.metric, 'ttftMsP50'))
        expect(
          rows.map((c) => [c.runId, c.pointIndex]),
          `${pass}: one change point at the 9th run`,
        ).toEqual([[ids[8], 8]])
        // Means 20.5 → 30.5: +48.78 %.
        expect(rows[0]?.changePct, `${pass}: change %`).toBeCloseTo(48.78, 2)
      }
      const since = await computeChangePoints(t.db, { metrics: ['ttftMsP50'], since: new Date(at(9)) })
      expect(since, '7 points since 10:09 are below the default 8: nothing analysed').toEqual([])
      expect((await t.db.select().from(changePoints)).length, 'kept').toBe(1)
      expect((await t.db.select().from(runs)).length, 'runs untouched').toBe(16)
    } finally {
      await t.dispose()
    }
  })

  it('leaf paths, baseline first; the run’s own step as its load; nothing that agrees', async () => {
    const t = await sharedDb()
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
  })
})

describe('bench gate --no-db', () => {
  it('gates values files: exit 2 on a slower TTFT, 0 on the same, insufficient data warns', async () => {
    const dir = await mkdtemp(path.join(testTmpRoot(), 'bench-gate-files-'))
    const file = async (name: string, doc: unknown) => {
      const f = path.join(dir, name)
      await writeFile(f, JSON.stringify(doc))
      return f
    }
    const baseline = await file('base.json', { metrics: { ttftMsP50: [20, 20.4, 19.6, 20.2, 19.8, 20] } })
    // bench export shape: metrics as [{ name, value }], one element per candidate repetition.
    const slow = await file('slow.json', [{ metrics: [{ name: 'ttftMsP50', value: 30 }] }])
    const same = await file('same.json', { metrics: { ttftMsP50: 20.1 } })
    const gate = (candidate: string, ...extra: string[]) =>
      runCli([
        'gate',
        '--no-db',
        '--metric',
        'ttftMsP50',
        '--baseline-file',
        baseline,
        '--candidate-file',
        candidate,
        ...extra,
      ])
    const [failed, passed, strict] = await Promise.all([
      gate(slow),
      gate(same, '--metric', 'outputTokensPerS'),
      gate(same, '--metric', 'outputTokensPerS', '--require-baseline'),
    ])
    expect(failed.code, `slow exit (stderr: ${failed.stderr})`).toBe(2)
    expect(failed.stdout, 'names ttft, +50 %').toMatch(
      /\| ttftMsP50 \| 30\.00 \| 20\.00 \(n=6\) \| \+50\.0 \|.*regression/,
    )
    expect(passed.code, `same exit (stderr: ${passed.stderr})`).toBe(0)
    expect(passed.stdout, 'ttft ok').toMatch(/\| ttftMsP50 \| 20\.10 \|.*ok/)
    expect(passed.stderr, 'no baseline values for outputTokensPerS: warns').toMatch(
      /WARNING: file outputTokensPerS: insufficient data/,
    )
    expect(strict.code, '--require-baseline fails instead').toBe(1)
  }, 60_000)
})

/*
 * `bench gate --metric acc` (was gate-accuracy.test.ts; its own database, since its latency runs have the
 * baselines test's fingerprint and commits): accuracy runs written through the real sink (items in accuracy_items), gated
 * item by item with McNemar's exact test against the latest baseline-branch accuracy run of the same
 * fingerprint, beside the same invocation's latency run gated as before. 100 items, 80 right on main (items
 * 0–79); the slow PR gets items 0–14 wrong (b = 15, c = 0: p = ½^15), the other PR answers as main did
 * with one item failed (left out of both sides).
 */
const spec = accuracySpec(100)

/** An accuracy-test run's git identity (RunMeta's own shape, not seedRuns'). */
const gitMeta = (branch: string, commit: string, mergeBase?: string) => ({
  git: { branch, commit, ...(mergeBase ? { mergeBase } : {}) },
})

/** Item i of subject `arith` (i < 50) or `logic`: right when `right(i)`, failed when `right(i)` is null. */
function items(right: (i: number) => boolean | null): ItemOutcome[] {
  return Array.from({ length: 100 }, (_, i) => {
    const correct = right(i)
    const subject = i < 50 ? 'arith' : 'logic'
    const base = { seq: i, itemId: `${subject}/test/${i}`, subject, itemIndex: i, answer: i % 4 }
    const timing = { startedAt: i * 2, durationMs: 1.5 }
    if (correct === null)
      return { ...base, ...timing, predicted: null, correct, error: { kind: 'timeout', message: 'slow' } }
    return { ...base, ...timing, predicted: correct ? i % 4 : (i + 1) % 4, correct }
  })
}

async function seedAccuracyRun(
  db: Db,
  startedAtIso: string,
  meta: { git: { branch: string; commit: string }; invocationId?: string },
  outcomes: ItemOutcome[],
): Promise<number> {
  const sink = createPostgresSink(db, { flushIntervalMs: 5, journalDir: false })
  const recorder = await sink.startRun(runMeta({ load: spec, loadIndex: 1, startedAtIso, ...meta }))
  for (const item of outcomes) recorder.recordItem(item)
  await recorder.finish('completed', accuracyMetricRows(summarizeItems(outcomes)))
  await sink.close()
  return Number(recorder.runId)
}

describe.each(dbBackends())('bench gate --metric acc (%s)', (backend) => {
  it('fails on 15 right answers turned wrong, passes the same answers, gates latency beside it', async () => {
    const t = await createTestDatabase(backend)
    const dbFlag = t.options.url ?? t.options.dataDir ?? ''
    try {
      await seedRuns(
        t.db,
        [0, 1, 2, 3, 4].map((m) => ({ tag: 20, startedAtIso: at(m), meta: gitMeta('main', 'm1') })),
      )
      const mainAcc = await seedAccuracyRun(
        t.db,
        at(5),
        gitMeta('main', 'm1'),
        items((i) => i < 80),
      )
      // An older main accuracy run with another outcome: the latest one is the baseline, never pooled.
      await seedAccuracyRun(
        t.db,
        at(1),
        gitMeta('main', 'm0'),
        items(() => false),
      )
      const slow = { ...gitMeta('pr', 'p1', 'm1'), invocationId: 'inv-p1' }
      const [slowLatency] = await seedRuns(t.db, [{ tag: 20, startedAtIso: at(10), meta: slow }])
      const slowAcc = await seedAccuracyRun(
        t.db,
        at(11),
        slow,
        items((i) => i >= 15 && i < 80),
      )
      const same = { ...gitMeta('pr', 'p2', 'm1'), invocationId: 'inv-p2' }
      const sameAcc = await seedAccuracyRun(
        t.db,
        at(12),
        same,
        items((i) => (i === 99 ? null : i < 80)),
      )

      const failed = await runCli([
        'gate',
        '--db',
        dbFlag,
        '--commit',
        'p1',
        '--metric',
        'ttftMsP50',
        '--metric',
        'acc',
        '--metric',
        'acc/arith',
        '--format',
        'json',
      ])
      expect(failed.code, `regression exit code (stderr: ${failed.stderr})`).toBe(2)
      const report = JSON.parse(failed.stdout)
      const rows = new Map<string, { runId: number; verdict: Record<string, unknown> }>(
        report.rows.map((r: { metric: string }) => [r.metric, r]),
      )
      expect(rows.get('ttftMsP50')?.runId, 'latency judged on the latency run').toBe(slowLatency)
      expect(rows.get('ttftMsP50')?.verdict.verdict, 'same TTFT: ok').toBe('ok')
      expect(rows.get('acc')?.runId, 'accuracy judged on the accuracy run').toBe(slowAcc)
      expect(rows.get('acc')?.verdict, '65/100 vs 80/100, p = ½^15').toMatchObject({
        method: 'mcnemar-exact',
        verdict: 'regression',
        candidate: 0.65,
        baselineValue: 0.8,
        candidateN: 100,
        pValue: expect.closeTo(0.5 ** 15, 15),
      })
      expect(rows.get('acc')?.verdict.reason, 'names the test and the discordant pairs').toMatch(
        /McNemar exact one-sided p = 3\.1e-5 \(15 right → wrong, 0 wrong → right, 100 paired items\)/,
      )
      expect(rows.get('acc/arith')?.verdict, 'arith: 35/50 vs 50/50').toMatchObject({
        verdict: 'regression',
        candidate: 0.7,
        baselineValue: 1,
        candidateN: 50,
      })
      expect(report.notes.join('\n'), 'the latest main accuracy run is the baseline').toMatch(
        new RegExp(`baseline accuracy run ${mainAcc}, main up to the merge-base m1`),
      )
      expect(failed.stderr, 'stderr names acc').toMatch(
        /regression in mock · accuracy \w+ \d+-shot \d+ items acc, mock · accuracy \w+ \d+-shot \d+ items acc\/arith/,
      )

      const candidates = await findCandidateRuns(t.db, { commit: 'p2', accuracy: 'only' })
      expect(
        candidates.map((c) => c.id),
        'accuracy metrics only: the invocation’s accuracy run',
      ).toEqual([sameAcc])
      const passed = await gateStoredRuns(t.db, candidates, {
        metrics: ['acc', 'acc/logic'],
        evaluate: {},
        baselineBranch: 'main',
        maxSamples: 25,
      })
      expect(
        passed.rows.map((r) => [r.metric, r.verdict.verdict, r.verdict.pValue, r.verdict.candidateN]),
        'unchanged answers: no discordant pair, item 99 (failed) left out of both sides',
      ).toEqual([
        ['acc', 'ok', 1, 99],
        ['acc/logic', 'ok', 1, 49],
      ])
      expect(passed.rows[0]?.verdict.reason, 'says it left the failed item out').toMatch(
        /failed items left out: 0 baseline, 1 candidate/,
      )
    } finally {
      await t.dispose()
    }
  }, 60_000)
})
