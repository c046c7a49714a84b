/**
 * The sink's journal on both backends: what the database does not take is journaled (0600 in a 0700
 * directory) and written on the next open; replaying twice changes nothing; a journal of another database's
 * run is set aside. A run's server metrics take the same path (journal version 3): journaled redacted
 * before the finish line, written before the final state, equal to what a run with the database up stores;
 * a version-2 file (before them) still replays. The database "goes away" by closing the sink's own
 * connection (test/db/sink-outage stops a real PostgreSQL server; test/e2e/db-outage a whole `bench run`).
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { appendFile, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Database, type Db } from '../../db/client.ts'
import { journalDirOf, replayJournals } from '../../db/journal.ts'
import { requests, runMetrics, runServerMetrics, runServerScrapes, runs } from '../../db/schema.ts'
import { readServerMetrics } from '../../db/server-metrics.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { summarizeRun } from '../../harness/metrics/index.ts'
import type { RequestOutcome, RunMeta } from '../../harness/results.ts'
import type { ServerMetricsRecord } from '../../harness/server-metrics/session.ts'
import { createTestDatabase, dbBackends, type TestDatabase } from '../helpers/db.ts'
import { eventually } from './fixtures/child.ts'
import { errorOutcome, okOutcome, runMeta } from './fixtures/data.ts'

/** A key the scenario sends as a header, and one found in the environment by its name (…TOKEN). */
const HEADER_KEY = 'sk-header-0123456789abcdef'
const ENV_TOKEN = 'env-token-fedcba9876543210'

/** A run whose target sends HEADER_KEY: the sink's redactor learns it from the engine options. */
const keyedMeta = (label: string, startedAtIso: string): RunMeta =>
  runMeta({
    label,
    startedAtIso,
    engineOptions: { kind: 'openai', model: 'mock-model', api: 'chat', headers: { 'x-api-key': HEADER_KEY } },
  })

/** Server metrics with both keys echoed in the reason, a label value and a credential-named label. */
const serverRecord: ServerMetricsRecord = {
  url: 'http://127.0.0.1:8000/metrics',
  state: 'ok',
  reason: `counter reset; upstream said: Incorrect API key provided: ${HEADER_KEY} (${ENV_TOKEN})`,
  samples: 2,
  rows: [
    {
      name: 'vllm:prompt_tokens_total',
      labels: { model_name: `m-${HEADER_KEY}`, api_key: 'literal-label-secret' },
      kind: 'counter',
      before: 10,
      after: 17,
      delta: 7,
      sumDelta: null,
      max: null,
    },
    {
      name: 'vllm:num_requests_running',
      labels: { model_name: 'm' },
      kind: 'gauge',
      before: 0,
      after: 0,
      delta: null,
      sumDelta: null,
      // A gauge may serve +Inf: stored (and journaled) as null.
      max: Number.POSITIVE_INFINITY,
    },
    {
      name: 'vllm:e2e_request_latency_seconds',
      labels: { model_name: 'm', note: ENV_TOKEN },
      kind: 'histogram',
      before: 3,
      after: 5,
      delta: 2,
      sumDelta: 0.25,
      max: null,
    },
  ],
}

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

  /**
   * A run whose first 3 outcomes reach the database and the other 7 (and the server metrics when given,
   * and the finish) only the journal.
   */
  async function journaledRun(label: string, server?: { meta: RunMeta; record: ServerMetricsRecord }) {
    const env = { ...process.env, BENCH_HOME: home, BENCH_TEST_TOKEN: ENV_TOKEN }
    const own = await createDb({ ...t.options, env })
    const notices: string[] = []
    const sink = createPostgresSink(own, {
      flushIntervalMs: 10,
      finishWaitMs: 0,
      env,
      onError: () => {},
      onNotice: (line) => notices.push(line),
    })
    const recorder = await sink.startRun(server?.meta ?? runMeta({ label }))
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
    // Not awaited before finish(): finish itself must put them ahead of the final state.
    const handed = server ? recorder.serverMetrics?.(server.record) : undefined
    const metrics = summarizeRun(outcomes)
    await recorder.finish('completed', metrics)
    await handed
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

  /** The run's server-metrics tables, raw (what a second replay must leave as it is). */
  async function serverRows(db: Database, id: number) {
    return {
      scrapes: await db.select().from(runServerScrapes).where(eq(runServerScrapes.runId, id)),
      series: await db
        .select()
        .from(runServerMetrics)
        .where(eq(runServerMetrics.runId, id))
        .orderBy(asc(runServerMetrics.seq)),
    }
  }

  it('server metrics: journaled redacted before the finish, written before the final state, equal to a run with the database up, twice the same', async () => {
    // The reference: the same record through a sink whose database stays up.
    const env = { ...process.env, BENCH_HOME: home, BENCH_TEST_TOKEN: ENV_TOKEN }
    const upSink = createPostgresSink(t.db, { flushIntervalMs: 10, finishWaitMs: 0, journalDir: false, env })
    const up = await upSink.startRun(keyedMeta('server-up', '2026-11-25T12:00:00.000Z'))
    await up.serverMetrics?.(serverRecord)
    await up.finish('completed', undefined)
    await upSink.close()
    const reference = await readServerMetrics(t.db, Number(up.runId))
    expect(
      reference?.rows.map((r) => r.name),
      'the reference holds every series',
    ).toEqual(serverRecord.rows.map((r) => r.name))
    expect(reference?.rows[1]?.max, '+Inf stored as null').toBeNull()

    const { id, dir, notices } = await journaledRun('server-away', {
      meta: keyedMeta('server-away', '2026-11-25T12:30:00.000Z'),
      record: serverRecord,
    })
    const name = readdirSync(dir).find((f) => f.startsWith(`run-${id}-`)) ?? ''
    const file = path.join(dir, name)
    const text = await readFile(file, 'utf8')
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; version?: number })
    expect(lines[0]?.version, 'journal version').toBe(3)
    const types = lines.map((l) => l.type)
    // Outcomes still buffered when the record was handed over may be journaled after it: only the finish
    // must come last.
    expect(
      types.filter((t) => t !== 'outcome'),
      'one server-metrics line, before the finish',
    ).toEqual(['run', 'server-metrics', 'finish'])
    expect(types.filter((t) => t === 'outcome').length, 'outcomes').toBe(7)
    // Neither key, nor any 8-character run of them (what the redactor also removes), nor the literal label.
    for (const secret of [HEADER_KEY, ENV_TOKEN, 'literal-label-secret'])
      expect(text, `${secret} is not in the journal`).not.toContain(secret)
    expect(text, 'header key fragment').not.toContain(HEADER_KEY.slice(-10))
    expect(text, 'redaction markers are').toContain('[redacted:header x-api-key]')
    expect(notices.join('\n'), 'the notice names the server metrics as kept').toMatch(/server metrics/)
    const before = await stored(t.db, id)
    expect(before.run?.state, 'not finished in the database yet').toBe('running')
    expect(await readServerMetrics(t.db, id), 'no server metrics yet').toBeUndefined()

    const copy = `${file}.copy`
    copyFileSync(file, copy)
    const first = await replayJournals(t.db, dir)
    expect(
      first.replayed.map((r) => [r.runId, r.serverMetrics, r.state]),
      'replayed with its server metrics',
    ).toEqual([[id, 1, 'completed']])
    const once = await stored(t.db, id)
    expect(once.run?.state, 'final state').toBe('completed')
    expect(once.run?.error, 'no error').toBeNull()
    expect(await readServerMetrics(t.db, id), 'equal to what the run with the database up stored').toEqual(
      reference,
    )
    const rowsOnce = await serverRows(t.db, id)
    expect(rowsOnce.series.length, 'every series').toBe(serverRecord.rows.length)

    copyFileSync(copy, file)
    rmSync(copy)
    const second = await replayJournals(t.db, dir)
    expect(
      second.replayed.map((r) => r.runId),
      'replayed again',
    ).toEqual([id])
    expect(await serverRows(t.db, id), 'a second replay changes nothing').toEqual(rowsOnce)
    expect(await t.db.$count(runServerScrapes, eq(runServerScrapes.runId, id)), 'one scrape row').toBe(1)
    expect(existsSync(file), 'deleted').toBe(false)
  })

  it('a version-2 journal (before server metrics were journaled) still replays', async () => {
    const { id, dir } = await journaledRun('version-2')
    const name = readdirSync(dir).find((f) => f.startsWith(`run-${id}-`)) ?? ''
    const file = path.join(dir, name)
    // The same lines as a version-2 writer made: header version 2, outcomes, finish (no server-metrics line).
    const [header, ...rest] = (await readFile(file, 'utf8')).split('\n')
    writeFileSync(file, [JSON.stringify({ ...JSON.parse(header ?? ''), version: 2 }), ...rest].join('\n'))
    const summary = await replayJournals(t.db, dir)
    expect(summary.skipped, 'nothing skipped').toEqual([])
    expect(
      summary.replayed.map((r) => [r.runId, r.outcomes, r.serverMetrics, r.state]),
      'replayed',
    ).toEqual([[id, 7, 0, 'completed']])
    const after = await stored(t.db, id)
    expect(after.seqs, 'every outcome').toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(after.run?.state, 'state').toBe('completed')
    expect(await readServerMetrics(t.db, id), 'no server metrics').toBeUndefined()
  })

  it('a journal cut before its finish line (kill -9) still gives the run its server metrics', async () => {
    const { id, dir } = await journaledRun('server-killed', {
      meta: keyedMeta('server-killed', '2026-11-25T13:30:00.000Z'),
      record: serverRecord,
    })
    const name = readdirSync(dir).find((f) => f.startsWith(`run-${id}-`)) ?? ''
    const file = path.join(dir, name)
    // What a kill between the server-metrics line and the finish line leaves: every line but the finish.
    const lines = (await readFile(file, 'utf8')).trim().split('\n')
    writeFileSync(file, `${lines.filter((l) => !l.startsWith('{"type":"finish"')).join('\n')}\n`)
    const summary = await replayJournals(t.db, dir)
    expect(
      summary.replayed.map((r) => [r.runId, r.serverMetrics, r.state]),
      'replayed without a final state',
    ).toEqual([[id, 1, undefined]])
    expect((await stored(t.db, id)).run?.state, 'not finished').toBe('running')
    expect((await readServerMetrics(t.db, id))?.rows.length, 'its server metrics are there').toBe(
      serverRecord.rows.length,
    )
  })

  it('finish() writes the final state only after the server metrics, even when they were not awaited', async () => {
    // The server metrics' transaction is held 300 ms; what the run row says meanwhile is noted.
    let armed = false
    let runId = 0
    let stateMeanwhile: string | undefined
    const slow = new Proxy(t.db, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target) as unknown
        if (prop === 'transaction' && typeof v === 'function')
          return async (...args: unknown[]) => {
            if (armed) {
              armed = false
              await sleep(300)
              const [row] = await t.db.select({ state: runs.state }).from(runs).where(eq(runs.id, runId))
              stateMeanwhile = row?.state
            }
            return v.apply(target, args)
          }
        return typeof v === 'function' ? v.bind(target) : v
      },
    }) as Db
    const sink = createPostgresSink(slow, { flushIntervalMs: 10, finishWaitMs: 0, journalDir: false })
    const recorder = await sink.startRun(
      runMeta({ label: 'server-before-finish', startedAtIso: '2026-11-25T14:00:00.000Z' }),
    )
    runId = Number(recorder.runId)
    armed = true
    const handed = recorder.serverMetrics?.(serverRecord)
    await recorder.finish('completed', undefined)
    await handed
    await sink.close()
    expect(stateMeanwhile, 'still running while its server metrics were being written').toBe('running')
    const { run } = await stored(t.db, runId)
    expect(run?.state, 'then completed').toBe('completed')
    expect((await readServerMetrics(t.db, runId))?.rows.length, 'with its server metrics').toBe(
      serverRecord.rows.length,
    )
  })

  it('server metrics the database refuses as data: the run finishes, its stored error says so', async () => {
    const notices: string[] = []
    const sink = createPostgresSink(t.db, {
      flushIntervalMs: 10,
      finishWaitMs: 0,
      journalDir: false,
      onError: () => {},
      onNotice: (line) => notices.push(line),
    })
    const recorder = await sink.startRun(
      runMeta({ label: 'server-refused', startedAtIso: '2026-11-25T13:00:00.000Z' }),
    )
    // A lone surrogate: JSON.stringify escapes it as \ud800, which jsonb refuses (SQLSTATE 22P05).
    await recorder.serverMetrics?.({
      ...serverRecord,
      rows: [{ ...(serverRecord.rows[2] as ServerMetricsRecord['rows'][number]), labels: { bad: '\ud800' } }],
    })
    await recorder.finish('completed', undefined)
    await sink.close()
    const id = Number(recorder.runId)
    const { run } = await stored(t.db, id)
    expect(run?.state, 'the run is not lost').toBe('completed')
    expect(run?.error, 'why its server metrics are missing').toMatch(
      /server metrics were refused by the database/,
    )
    expect(await readServerMetrics(t.db, id), 'nothing half-stored').toBeUndefined()
    expect(notices.join('\n'), 'said').toMatch(/server metrics were refused/)
  })
})
