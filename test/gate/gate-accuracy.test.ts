/**
 * `bench gate --metric acc`: accuracy runs written through the real sink (items in accuracy_items), gated
 * item by item with McNemar's exact test against the latest baseline-branch accuracy run of the same
 * fingerprint, beside the same invocation's latency run gated as before. 100 items, 80 right on main (items
 * 0–79); the slow PR gets items 0–14 wrong (b = 15, c = 0: p = ½^15), the other PR answers as main did
 * with one item failed (left out of both sides).
 */
import { describe, expect, it } from 'vitest'
import type { Db } from '../../db/client.ts'
import { gateStoredRuns } from '../../db/gate/gate.ts'
import { findCandidateRuns } from '../../db/gate/runs.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { accuracyMetricRows, summarizeItems } from '../../harness/accuracy/run-metrics.ts'
import type { ItemOutcome } from '../../harness/results.ts'
import { runMeta } from '../db/fixtures/data.ts'
import { seedRuns } from '../db/fixtures/seed.ts'
import { accuracySpec } from '../fixtures/accuracy-spec.ts'
import { runCli } from '../helpers/cli.ts'
import { createTestDatabase, dbBackends } from '../helpers/db.ts'

const spec = accuracySpec(100)

const at = (minute: number) => `2026-11-25T10:${String(minute).padStart(2, '0')}:00.000Z`
const git = (branch: string, commit: string, mergeBase?: string) => ({
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
        [0, 1, 2, 3, 4].map((m) => ({ tag: 20, startedAtIso: at(m), meta: git('main', 'm1') })),
      )
      const mainAcc = await seedAccuracyRun(
        t.db,
        at(5),
        git('main', 'm1'),
        items((i) => i < 80),
      )
      // An older main accuracy run with another outcome: the latest one is the baseline, never pooled.
      await seedAccuracyRun(
        t.db,
        at(1),
        git('main', 'm0'),
        items(() => false),
      )
      const slow = { ...git('pr', 'p1', 'm1'), invocationId: 'inv-p1' }
      const [slowLatency] = await seedRuns(t.db, [{ tag: 20, startedAtIso: at(10), meta: slow }])
      const slowAcc = await seedAccuracyRun(
        t.db,
        at(11),
        slow,
        items((i) => i >= 15 && i < 80),
      )
      const same = { ...git('pr', 'p2', 'm1'), invocationId: 'inv-p2' }
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
