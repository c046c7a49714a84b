/**
 * A run whose process is killed reads `interrupted` on the very next `bench runs list` (issue 14: it read
 * `running` until its heartbeat was 10 s old): the run row records the writer's pid and host, and a
 * command on that host sees the pid is gone. On PGlite and on PostgreSQL.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { eq, sql } from 'drizzle-orm'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../dashboard/app.ts'
import { type CreateDbOptions, createDb } from '../../db/client.ts'
import { markInterruptedRuns } from '../../db/liveness.ts'
import { pgDataOf } from '../../db/pglite/dir.ts'
import { runs } from '../../db/schema.ts'
import { createPostgresSink } from '../../db/sink.ts'
import { runCli } from '../helpers/cli.ts'
import { freshPgliteDir } from '../helpers/db.ts'
import { type PgCluster, pgClusterSkipReason, startPgCluster } from '../helpers/pg-cluster.ts'
import { runMeta } from './fixtures/data.ts'

const CHILD = path.join(import.meta.dirname, 'fixtures/db-child.ts')

/** A child streaming a run into the database; resolves with its run id once the row exists. */
function streamingChild(options: CreateDbOptions): Promise<{ child: ChildProcess; runId: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, JSON.stringify({ mode: 'stream', options })],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line) resolve({ child, runId: Number((JSON.parse(line) as { runId: string }).runId) })
    })
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before starting its run`)))
  })
}

async function killNine(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

type Backend = {
  name: string
  options: () => CreateDbOptions
  dbArg: () => string
  /** Sets the run's heartbeat an hour ahead, directly (not through createDb, which would mark it). */
  freshenHeartbeat(runId: number): Promise<void>
}

const FRESHEN = "update runs set heartbeat_at = now() + interval '1 hour' where id = $1"

const skip = pgClusterSkipReason()
let cluster: PgCluster | undefined
let pgliteDir = ''
const backends: Backend[] = [
  {
    name: 'pglite',
    options: () => ({ dataDir: pgliteDir }),
    dbArg: () => pgliteDir,
    async freshenHeartbeat(runId) {
      // The killed owner's lock is stale; nobody else has the directory open.
      const pg = await PGlite.create(pgDataOf(pgliteDir))
      await pg.query(FRESHEN, [runId])
      await pg.close()
    },
  },
  ...(skip === undefined
    ? [
        {
          name: 'postgres',
          options: () => ({ url: cluster?.url ?? '' }),
          dbArg: () => cluster?.url ?? '',
          async freshenHeartbeat(runId: number) {
            const sql = postgres(cluster?.url ?? '', { max: 1, onnotice: () => {} })
            await sql.unsafe(FRESHEN, [runId])
            await sql.end()
          },
        },
      ]
    : []),
]

beforeAll(async () => {
  pgliteDir = await freshPgliteDir()
  if (skip === undefined) cluster = await startPgCluster()
}, 60_000)
afterAll(() => cluster?.dispose())

// The backends at once: each has its own database, child and CLI (PostgreSQL only when DATABASE_URL is set).
describe.concurrent.each(backends.map((b) => [b.name, b] as const))(
  'a kill -9 run on %s',
  (_name, backend) => {
    it('reads interrupted on the very next bench runs list', { timeout: 60_000 }, async () => {
      const { child, runId } = await streamingChild(backend.options())
      await killNine(child)
      // A heartbeat an hour ahead: only the pid can tell the run is over, however slow the CLI starts.
      await backend.freshenHeartbeat(runId)
      const list = await runCli(['runs', 'list', '--json', '--db', backend.dbArg()], {
        env: { DATABASE_URL: '' },
      })
      expect(list.stderr, 'stderr').toBe('')
      expect(list.code, 'exit code').toBe(0)
      const run = (JSON.parse(list.stdout) as { id: number; state: string; error: string | null }[]).find(
        (r) => r.id === runId,
      )
      expect(run?.state, 'state right after the kill').toBe('interrupted')
      // The stored error as listed (runs.error): read back from the database by the CLI itself, so no
      // further open here (on PGlite one more start; an open would mark the run too, hiding a CLI that did not).
      expect(run?.error, 'why').toMatch(
        new RegExp(`^the writing process \\(pid ${child.pid} on .+\\) ended without finishing the run`),
      )
    })
  },
)

describe('the dashboard, open before the kill', () => {
  it('lists the killed run as interrupted at once', { timeout: 60_000 }, async () => {
    // The dashboard owns the directory, as `bench dashboard` started first would; the child goes through it.
    const db = await createDb({ dataDir: pgliteDir })
    try {
      const app = createApp({ db, auth: {} })
      const { child, runId } = await streamingChild({ dataDir: pgliteDir })
      await killNine(child)
      await db.update(runs).set({ heartbeatAt: sql`now() + interval '1 hour'` }).where(eq(runs.id, runId))
      const response = await app.request('/api/runs')
      const body = (await response.json()) as { runs: { id: number; state: string }[] }
      expect(body.runs.find((r) => r.id === runId)?.state, 'state on /api/runs').toBe('interrupted')
    } finally {
      await db.close()
    }
  })
})

describe('a running run whose writer is alive, or on another host', () => {
  it('stays running until its heartbeat is stale', async () => {
    const db = await createDb({ dataDir: pgliteDir })
    try {
      const sink = createPostgresSink(db)
      const mine = await sink.startRun(runMeta({ label: 'alive' }))
      const elsewhere = await sink.startRun(runMeta({ label: 'elsewhere' }))
      await db
        .update(runs)
        .set({ writerHost: 'another-host', writerPid: 1 })
        .where(eq(runs.id, Number(elsewhere.runId)))
      const marked = await markInterruptedRuns(db)
      expect(marked, 'neither is marked').not.toContain(Number(mine.runId))
      expect(marked, 'another host: heartbeat only').not.toContain(Number(elsewhere.runId))
      await mine.finish('completed', undefined)
      await elsewhere.finish('completed', undefined)
      await sink.close()
    } finally {
      await db.close()
    }
  })
})
