/**
 * The sink against a PostgreSQL server that goes away mid-run (`pg_ctl -m immediate`) and comes back on
 * the same port: what it could not write is journaled, then written in order once the server is back —
 * during the run or while finish() waits — every outcome once, one final state, the journal deleted.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Database } from '../../db/client.ts'
import { requests, runMetrics, runs } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { summarizeRun } from '../../harness/metrics/index.ts'
import type { RequestOutcome } from '../../harness/results.ts'
import { type PgCluster, pgClusterSkipReason, startPgCluster } from '../helpers/pg-cluster.ts'
import { eventually } from './fixtures/child.ts'
import { okOutcome, runMeta } from './fixtures/data.ts'

const skip = pgClusterSkipReason()

describe.skipIf(skip !== undefined)(
  `sink through a PostgreSQL outage${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let cluster: PgCluster
    let db: Database
    let journalDir: string
    beforeAll(async () => {
      cluster = await startPgCluster()
      db = await createDb({ url: cluster.url })
      journalDir = mkdtempSync(path.join(os.tmpdir(), 'bench-outage-journal-'))
    }, 60_000)
    afterAll(async () => {
      await db?.close()
      cluster?.dispose()
      if (journalDir) rmSync(journalDir, { recursive: true, force: true })
    })

    const journals = () => readdirSync(journalDir).filter((f) => f.endsWith('.jsonl'))
    const count = async (id: number) => db.$count(requests, eq(requests.runId, id))

    it('journals during the outage and writes it all when the server is back, mid-run and at finish', {
      timeout: 60_000,
    }, async () => {
      const notices: string[] = []
      const sink = createPostgresSink(db, {
        flushIntervalMs: 20,
        finishWaitMs: 30_000,
        journalDir,
        onError: () => {},
        onNotice: (line) => notices.push(line),
      })
      const recorder = await sink.startRun(runMeta({ label: 'outage' }))
      const id = Number(recorder.runId)
      const outcomes: RequestOutcome[] = []
      let seq = 0
      const record = (n: number) => {
        for (let i = 0; i < n; i++) {
          const o = okOutcome(seq++)
          outcomes.push(o)
          recorder.record(o)
        }
      }
      record(100)
      await eventually(async () => ((await count(id)) === 100 ? true : undefined), 'written directly')

      // First outage, over mid-run: the replay catches up and the journal goes away.
      cluster.stop()
      record(100)
      await eventually(async () => {
        const [file] = journals()
        if (!file) return undefined
        const lines = readFileSync(path.join(journalDir, file), 'utf8').trim().split('\n')
        return lines.length === 1 + 100 ? true : undefined
      }, 'the outage journaled')
      cluster.start()
      record(100)
      await eventually(
        async () => ((await count(id)) === 300 && journals().length === 0 ? true : undefined),
        'replayed during the run, journal deleted',
      )
      await eventually(
        async () =>
          /the database is back; \d+ outcomes written/.test(notices.join('\n')) ? true : undefined,
        'says the database is back',
      )

      // Second outage, across the end of the run: finish waits for the server.
      cluster.stop()
      record(100)
      const metrics = summarizeRun(outcomes)
      setTimeout(() => cluster.start(), 1_500)
      await recorder.finish('completed', metrics)
      await sink.close()

      const [run] = await db.select().from(runs).where(eq(runs.id, id))
      expect(run?.state, 'state: a recovered write is not a failure').toBe('completed')
      expect(run?.error, 'no error').toBeNull()
      const seqs = (
        await db
          .select({ seq: requests.seq })
          .from(requests)
          .where(eq(requests.runId, id))
          .orderBy(asc(requests.seq))
      ).map((r) => r.seq)
      expect(seqs, 'every outcome once, contiguous').toEqual(Array.from({ length: 400 }, (_, i) => i))
      expect(await db.$count(runMetrics, eq(runMetrics.runId, id)), 'metrics').toBeGreaterThan(10)
      expect(journals(), 'no journal left').toEqual([])
      expect(existsSync(journalDir), 'the directory stays').toBe(true)
      expect(notices.join('\n'), 'said what it waited for').toMatch(
        /waiting up to 30 s .* outcomes and the final state/,
      )
    })

    it('a run that starts while the server is away waits for it, then writes its row', {
      timeout: 30_000,
    }, async () => {
      const notices: string[] = []
      const sink = createPostgresSink(db, {
        finishWaitMs: 20_000,
        journalDir,
        onNotice: (l) => notices.push(l),
      })
      cluster.stop()
      setTimeout(() => cluster.start(), 1_500)
      const recorder = await sink.startRun(runMeta({ label: 'starts-during-outage' }))
      recorder.record(okOutcome(0))
      await recorder.finish('completed', undefined)
      await sink.close()
      const [run] = await db
        .select()
        .from(runs)
        .where(eq(runs.id, Number(recorder.runId)))
      expect(run?.state, 'state').toBe('completed')
      expect(await count(Number(recorder.runId)), 'its outcome').toBe(1)
      expect(notices.join('\n'), 'said it was waiting').toMatch(/the run row: the database is unreachable/)
    })
  },
)
