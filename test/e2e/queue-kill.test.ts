/**
 * Issue 19's must-show: 3 `bench worker` processes drain a 30-job matrix against one PostgreSQL; one is
 * SIGKILLed mid-job → its job is retried by another worker, every job ends with exactly one completed run,
 * the killed attempt's run is `interrupted` (never completed), and no completed run lost an outcome.
 * Real PostgreSQL (DATABASE_URL, else a throwaway cluster): on PGlite one worker process hosts the
 * database (db/queue/README.md), so several worker processes need a server.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Database, selectRows } from '../../db/client.ts'
import { matrixStatus } from '../../db/queue/status.ts'
import { queueWorkers, requests, runs } from '../../db/schema.ts'
import type { MockServerHandle } from '../../harness/mock-server/server.ts'
import { BENCH_BIN, runCli } from '../helpers/cli.ts'
import { type PgCluster, pgClusterSkipReason, startPgCluster } from '../helpers/pg-cluster.ts'
import { startTinyMock, writeTinyMatrix } from '../io/queue/tiny-matrix.ts'

const skip = process.env.DATABASE_URL ? undefined : pgClusterSkipReason()

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe.skipIf(skip !== undefined)('3 bench worker processes, one SIGKILLed mid-job (PostgreSQL)', () => {
  let cluster: PgCluster | undefined
  let url = ''
  let adminUrl = ''
  let name = ''
  let db: Database
  let mock: MockServerHandle | undefined
  const children: ChildProcess[] = []

  beforeAll(async () => {
    if (!process.env.DATABASE_URL) cluster = await startPgCluster()
    adminUrl = process.env.DATABASE_URL ?? cluster!.url
    name = `bench_queue_${randomBytes(5).toString('hex')}`
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
    await admin.unsafe(`create database ${name}`)
    await admin.end()
    const u = new URL(adminUrl)
    u.pathname = `/${name}`
    url = u.toString()
    db = await createDb({ url })
    // Each request ~60 ms: a 2-request job lasts long enough to be killed in the middle of it.
    mock = await startTinyMock({ ttftMs: 60 })
  })

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    await db?.close()
    await mock?.close()
    if (name) {
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
      await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {})
      await admin.end()
    }
    cluster?.dispose()
  })

  it('30 jobs: the killed job is retried elsewhere, exactly one completed run per job, no lost outcomes', async () => {
    const file = writeTinyMatrix({
      baseUrl: mock!.url,
      targets: 3,
      steps: 10,
      requests: 2,
      name: 'queue-kill',
    })
    // The workers start while bench enqueue runs (independent children; they wait for jobs).
    const enqueuing = runCli(['enqueue', file, '--db', url, '--json'])
    const exits: Promise<number | null>[] = []
    const logs: string[] = []
    for (let i = 0; i < 3; i++) {
      const child = spawn(process.execPath, [BENCH_BIN, 'worker', '--db', url], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let stderr = ''
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString()
        logs[i] = stderr
      })
      children.push(child)
      exits.push(
        new Promise((resolve) =>
          child.once('exit', (code) => {
            if (code !== 0 && code !== null) process.stderr.write(stderr)
            resolve(code)
          }),
        ),
      )
    }
    const enqueued = await enqueuing
    expect(enqueued.stderr).toBe('')
    const { matrixId, jobs } = JSON.parse(enqueued.stdout) as { matrixId: number; jobs: number }
    expect(jobs).toBe(30)
    const victim = children[0]!
    // Mid-job: the victim's job has started its run (a run row exists) and is not finished.
    const killedJob = await until(
      'a running job of the first worker with its run started',
      async () => {
        const [row] = await selectRows<{ id: number }>(
          db,
          sql`
          select m.id from matrix_jobs m join queue_workers w on w.id = m.worker_id
          where w.pid = ${victim.pid!} and m.state = 'running' and cardinality(m.run_ids) > 0 limit 1`,
        )
        return row?.id
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; the workers said:\n${logs.join('\n---\n')}`)
    })
    victim.kill('SIGKILL')

    await until(
      'every job completed',
      async () => ((await matrixStatus(db, matrixId))?.counts.completed === 30 ? true : undefined),
      60_000,
    )
    for (const child of children.slice(1)) child.kill('SIGTERM')
    expect(await Promise.all(exits.slice(1))).toEqual([0, 0])

    const status = (await matrixStatus(db, matrixId))!
    expect(status.counts).toMatchObject({ completed: 30, dead: 0, running: 0, total: 30 })
    // Exactly one completed run per job, and it is the job's run.
    const completed = await db
      .select({ id: runs.id, target: runs.targetName, loadIndex: runs.loadIndex })
      .from(runs)
      .where(and(eq(runs.scenarioName, 'queue-kill'), eq(runs.state, 'completed')))
    expect(completed).toHaveLength(30)
    expect(new Set(completed.map((r) => `${r.target}/${r.loadIndex}`)).size).toBe(30)
    expect(new Set(status.jobs.map((j) => j.runId))).toEqual(new Set(completed.map((r) => r.id)))
    // The killed attempt: its run interrupted, the job retried on another worker.
    const killed = status.jobs.find((j) => j.id === killedJob)!
    expect(killed.attempts).toBeGreaterThanOrEqual(2)
    const attempts = await db
      .select({ id: runs.id, state: runs.state })
      .from(runs)
      .where(sql`${runs.id} = any(${`{${killed.runIds.join(',')}}`}::integer[])`)
    expect(attempts.filter((r) => r.state === 'completed').map((r) => r.id)).toEqual([killed.runId])
    expect(attempts.some((r) => r.state === 'interrupted')).toBe(true)
    const [lost] = await db.select().from(queueWorkers).where(eq(queueWorkers.pid, victim.pid!))
    expect(lost?.state).toBe('lost')
    expect(killed.workerId).not.toBe(lost?.id)
    // No lost outcomes: every completed run holds its 2 requests.
    const counts = await db
      .select({ runId: requests.runId, n: sql<number>`count(*)::int` })
      .from(requests)
      .where(sql`${requests.runId} = any(${`{${completed.map((r) => r.id).join(',')}}`}::integer[])`)
      .groupBy(requests.runId)
    expect(counts).toHaveLength(30)
    expect(counts.every((c) => Number(c.n) === 2)).toBe(true)
  }, 150_000)
})
