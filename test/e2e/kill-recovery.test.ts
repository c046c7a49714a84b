/**
 * A `bench run` killed with SIGKILL mid-run loses at most what its sink had not flushed (≤ 250 ms): on the
 * next start the run reads `interrupted` and every flushed outcome is there exactly once.
 */
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { asc, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { createDb } from '../../db/client.ts'
import { STALE_RUN_AFTER_MS } from '../../db/liveness.ts'
import { requests, runs } from '../../db/schema.ts'
import { BENCH_BIN } from '../helpers/cli.ts'
import { createTestDatabase, dbBackends } from '../helpers/db.ts'

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
      stdio: 'ignore',
    })
    let killedAtMs = 0
    try {
      // Let it measure for a while: the run row exists and several batches are flushed.
      await sleep(8_000)
      expect(child.exitCode, 'still running before the kill').toBe(null)
      killedAtMs = Date.now()
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
      // The next start can only call the run interrupted once its heartbeat is stale.
      await sleep(STALE_RUN_AFTER_MS + 1_000)
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
