/**
 * A `bench run` killed with SIGKILL mid-run loses at most what its sink had not flushed (≤ 250 ms): on the
 * very next start the run reads `interrupted` (its writer's pid is gone; no wait for a stale heartbeat) and
 * every flushed outcome is there exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { asc, eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { createDb } from '../../db/client.ts'
import { requests, runs } from '../../db/schema.ts'
import { BENCH_BIN } from '../helpers/cli.ts'
import { createTestDatabase, dbBackends } from '../helpers/db.ts'

/** Resolves once the running run has ≥ `count` stored outcomes (polled through a second connection). */
async function waitForFlushedOutcomes(
  options: Parameters<typeof createDb>[0],
  count: number,
  child: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`bench run exited early (${child.exitCode}): ${stderrOf(child)}`)
    }
    const db = await createDb(options).catch(() => undefined)
    if (db) {
      try {
        const [row] = await db
          .select({ n: sql<number>`count(*)::int` })
          .from(requests)
          .innerJoin(runs, eq(runs.id, requests.runId))
          .where(eq(runs.scenarioName, 'kill-recovery'))
        if ((row?.n ?? 0) >= count) return
      } finally {
        await db.close()
      }
    }
    await sleep(250)
  }
  throw new Error(`fewer than ${count} outcomes stored after 60 s`)
}

const stderrs = new WeakMap<ChildProcess, string[]>()
/** Keeps the child's stderr so an early exit says why (it is the only clue in a CI log). */
function keepStderr(child: ChildProcess): void {
  const parts: string[] = []
  stderrs.set(child, parts)
  child.stderr?.setEncoding('utf8').on('data', (text: string) => parts.push(text))
}
function stderrOf(child: ChildProcess): string {
  return (stderrs.get(child) ?? []).join('').trim().slice(-2000)
}

const scenario = {
  name: 'kill-recovery',
  prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 8 },
  targets: [
    {
      name: 'mock',
      engine: {
        kind: 'openai',
        model: 'mock-model',
        mock: { ttft: { kind: 'fixed', ms: 5 }, itl: { kind: 'fixed', ms: 2 } },
      },
    },
  ],
  loads: [{ kind: 'concurrent', concurrency: 8, durationS: 120 }],
  warmupRequests: 0,
}

describe.each(dbBackends())('SIGKILL mid-run (%s)', (backend) => {
  it('leaves an interrupted run with every flushed outcome once', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-kill-'))
    const file = path.join(dir, 'scenario.json')
    await writeFile(file, JSON.stringify(scenario))
    const test = await createTestDatabase(backend)
    // Release the database so the child owns it, as a lone `bench run` would.
    await test.db.close()
    const dbArg = test.options.url ?? test.options.dataDir ?? ''
    const child = spawn(process.execPath, [BENCH_BIN, 'run', file, '--db', dbArg, '--no-progress'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    keepStderr(child)
    let killedAtMs = 0
    try {
      // Let it measure until several batches are flushed. Polled, not a fixed sleep: the child's start-up
      // alone takes 2–6 s on a busy machine.
      await waitForFlushedOutcomes(test.options, 200, child)
      expect(child.exitCode, 'still running before the kill').toBe(null)
      killedAtMs = Date.now()
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
      // The heartbeat is still fresh here: only the writer-pid check can call the run interrupted now.
      const db = await createDb(test.options)
      try {
        const [run] = await db.select().from(runs).where(eq(runs.scenarioName, 'kill-recovery'))
        if (!run) return expect.unreachable('the run row was written before the first request')
        expect(run.state, 'state').toBe('interrupted')
        const rows = await db
          .select({
            seq: requests.seq,
            startedAtMs: requests.startedAtMs,
            e2eMs: requests.e2eMs,
            state: requests.state,
          })
          .from(requests)
          .where(eq(requests.runId, run.id))
          .orderBy(asc(requests.seq))
        expect(rows.length, 'outcomes were flushed before the kill').toBeGreaterThan(100)
        expect(new Set(rows.map((r) => r.seq)).size, 'no duplicates').toBe(rows.length)
        // Seqs are handed out at send; 8 in flight at the kill may leave holes only among the last few.
        const maxSeq = rows.at(-1)?.seq ?? 0
        expect(maxSeq + 1 - rows.length, 'holes only from in-flight requests').toBeLessThanOrEqual(8)
        const lastEndMs = Math.max(
          ...rows.map((r) => run.startedAt.getTime() + r.startedAtMs + (r.e2eMs ?? 0)),
        )
        // Requests finish every few ms, so the newest stored one shows how much was lost (+ 150 ms slack for
        // the kill itself and clock-origin rounding).
        expect(killedAtMs - lastEndMs, 'ms of results lost').toBeLessThanOrEqual(250 + 150)
      } finally {
        await db.close()
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      if (test.options.dataDir) rmSync(test.options.dataDir, { recursive: true, force: true })
      else await test.dispose().catch(() => {})
    }
  })
})
