/**
 * The sink's journal on both backends: what the database does not take is journaled (0600 in a 0700
 * directory) and written on the next open; replaying twice changes nothing; a journal of another database's
 * run is set aside. The database "goes away" by closing the sink's own connection (test/db/sink-outage
 * stops a real PostgreSQL server instead).
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { appendFile, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Database } from '../../db/client.ts'
import { journalDirOf, replayJournals } from '../../db/journal.ts'
import { requests, runMetrics, runs } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { summarizeRun } from '../../harness/metrics/index.ts'
import type { RequestOutcome } from '../../harness/results.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { eventually } from './fixtures/child.ts'
import { errorOutcome, okOutcome, runMeta } from './fixtures/data.ts'

describe.each(dbBackends())('sink journal on %s', (backend) => {
  let t: TestDatabase
  let home: string
  beforeAll(async () => {
    t = await createTestDatabase(backend)
    home = mkdtempSync(path.join(os.tmpdir(), 'bench-journal-home-'))
  })
  afterAll(async () => {
    await t?.dispose()
    rmSync(home, { recursive: true, force: true })
  })

  /** A run whose first 3 outcomes reach the database and the other 7 (and the finish) only the journal. */
  async function journaledRun(label: string) {
    const env = { ...process.env, BENCH_HOME: home }
    const own = await createDb({ ...t.options, env })
    const notices: string[] = []
    const sink = createPostgresSink(own, {
      flushIntervalMs: 10,
      finishWaitMs: 0,
      env,
      onError: () => {},
      onNotice: (line) => notices.push(line),
    })
    const recorder = await sink.startRun(runMeta({ label }))
    const id = Number(recorder.runId)
    const outcomes: RequestOutcome[] = []
    for (let seq = 0; seq < 10; seq++) outcomes.push(seq === 4 ? errorOutcome(seq) : okOutcome(seq))
    for (const o of outcomes.slice(0, 3)) recorder.record(o)
    await eventually(
      async () => ((await t.db.$count(requests, eq(requests.runId, id))) === 3 ? true : undefined),
      'the first outcomes written directly',
    )
    // The database goes away.
    await own.close()
    for (const o of outcomes.slice(3)) recorder.record(o)
    const metrics = summarizeRun(outcomes)
    await recorder.finish('completed', metrics)
    await sink.close()
    return { id, metrics, notices, dir: journalDirOf(own, env), env }
  }

  async function stored(db: Database, id: number) {
    const [run] = await db.select().from(runs).where(eq(runs.id, id))
    const seqs = (
      await db
        .select({ seq: requests.seq })
        .from(requests)
        .where(eq(requests.runId, id))
        .orderBy(asc(requests.seq))
    ).map((r) => r.seq)
    const metrics = await db.$count(runMetrics, eq(runMetrics.runId, id))
    return { run, seqs, metrics }
  }

  it('journals what the database did not take and the next open writes it', async () => {
    const { id, notices, dir, env } = await journaledRun('journal-then-open')
    const files = readdirSync(dir).filter((f) => f.startsWith(`run-${id}-`))
    expect(files, 'one journal file for the run').toHaveLength(1)
    const file = path.join(dir, files[0] ?? '')
    expect(statSync(file).mode & 0o777, 'journal file mode').toBe(0o600)
    expect(statSync(dir).mode & 0o777, 'journal directory mode').toBe(0o700)
    expect(notices.join('\n'), 'the command says where the journal is').toContain(file)
    expect(notices.join('\n'), 'and that it will be written').toMatch(
      /next bench command that opens this database/,
    )
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string })
    expect(
      lines.map((l) => l.type),
      'header, 7 outcomes, finish',
    ).toEqual(['run', ...Array(7).fill('outcome'), 'finish'])
    const before = await stored(t.db, id)
    expect(before.run?.state, 'not finished in the database yet').toBe('running')
    expect(before.seqs, 'only the first outcomes').toEqual([0, 1, 2])

    const log: string[] = []
    const stderr = process.stderr.write
    process.stderr.write = ((chunk: string) => log.push(String(chunk)) > 0) as typeof process.stderr.write
    let reopened: Database
    try {
      reopened = await createDb({ ...t.options, env })
    } finally {
      process.stderr.write = stderr
    }
    try {
      const after = await stored(reopened, id)
      expect(after.run?.state, 'final state from the journal').toBe('completed')
      expect(after.run?.error, 'no error').toBeNull()
      expect(after.seqs, 'every outcome once').toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect(after.metrics, 'metrics').toBeGreaterThan(10)
      expect(existsSync(file), 'journal deleted once committed').toBe(false)
      expect(log.join(''), 'the open says what it wrote').toMatch(
        new RegExp(`run ${id}, 7 outcomes, final state completed`),
      )
    } finally {
      await reopened.close()
    }
  })

  it('replaying the same journal twice (and with a torn last line) changes nothing', async () => {
    const { id, dir } = await journaledRun('replay-twice')
    const name = readdirSync(dir).find((f) => f.startsWith(`run-${id}-`)) ?? ''
    const file = path.join(dir, name)
    const copy = `${file}.copy`
    copyFileSync(file, copy)
    const first = await replayJournals(t.db, dir)
    expect(
      first.replayed.map((r) => r.runId),
      'replayed',
    ).toEqual([id])
    const once = await stored(t.db, id)
    expect(once.seqs, 'every outcome').toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    // The same file again, as if a second process had found it too, cut mid-line by a kill.
    copyFileSync(copy, file)
    rmSync(copy)
    await appendFile(file, '{"type":"outcome","seq":10,"row":{"se')
    const second = await replayJournals(t.db, dir)
    expect(
      second.replayed.map((r) => r.outcomes),
      'the torn line is not an outcome',
    ).toEqual([7])
    const twice = await stored(t.db, id)
    expect(twice.seqs, 'no duplicate, nothing new').toEqual(once.seqs)
    expect(twice.metrics, 'metrics once').toBe(once.metrics)
    expect(twice.run?.state, 'state').toBe('completed')
    expect(twice.run?.finishedAt?.getTime(), 'finished_at is the journaled one both times').toBe(
      once.run?.finishedAt?.getTime(),
    )
    expect(existsSync(file), 'deleted again').toBe(false)
  })

  it("sets aside a journal whose run is not this database's", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-journal-other-'))
    try {
      const file = path.join(dir, 'run-1-1-1.jsonl')
      writeFileSync(
        file,
        `${JSON.stringify({ type: 'run', version: 1, runId: 1, startedAt: '1999-01-01T00:00:00.000Z', scenario: 'elsewhere', pid: 1, host: 'other-host' })}\n` +
          `${JSON.stringify({ type: 'outcome', seq: 0, row: { runId: 1, seq: 0, state: 'ok', promptIndex: 0, scheduledAtMs: 0, startedAtMs: 0 } })}\n`,
      )
      const before = await t.db.$count(requests, eq(requests.runId, 1))
      const summary = await replayJournals(t.db, dir)
      expect(summary.replayed, 'nothing replayed').toEqual([])
      expect(summary.skipped[0]?.reason, 'why').toMatch(/run 1 \(elsewhere.*is not in this database/)
      expect(existsSync(`${file}.unmatched`), 'renamed aside').toBe(true)
      expect(await t.db.$count(requests, eq(requests.runId, 1)), 'no row written').toBe(before)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
