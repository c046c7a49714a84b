/**
 * `bench run` of an accuracy scenario killed with SIGKILL mid-run: every item it flushed stays in the
 * database, in order from seq 0, and the run reads interrupted at the next open (PGlite; the writer's pid
 * is gone). The real CLI in a child process, on the mock answering multiple-choice items.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { listAccuracyItems } from '../../db/accuracy-items.ts'
import { createDb } from '../../db/client.ts'
import { accuracyItems, runs } from '../../db/schema.ts'
import { eventually } from '../db/fixtures/child.ts'
import { BENCH_BIN } from '../helpers/cli.ts'
import { freshPgliteDir } from '../helpers/db.ts'
import { writeMcKey } from '../helpers/mc-key.ts'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('an accuracy run killed with SIGKILL', () => {
  it('keeps every flushed item and reads interrupted', { timeout: 60_000 }, async () => {
    const key = writeMcKey({ subjects: 2, perSubject: 100, seed: 4 })
    const work = mkdtempSync(join(tmpdir(), 'bench-accuracy-kill-'))
    dirs.push(work)
    const dataDir = await freshPgliteDir()
    const scenarioFile = join(work, 'accuracy-kill.json')
    // 50 ms per generated answer: 200 items would take 10 s; the kill comes after a handful.
    writeFileSync(
      scenarioFile,
      JSON.stringify({
        name: 'accuracy-kill',
        measure: ['accuracy'],
        accuracy: { dataset: key.file, scoring: 'generate', shots: 2 },
        targets: [
          {
            name: 'mock',
            engine: {
              kind: 'openai',
              model: 'mock-model',
              api: 'completions',
              mock: { ttft: { kind: 'fixed', ms: 50 }, answers: { p: 0.7, key: key.file } },
            },
          },
        ],
      }),
    )
    const child = spawn(process.execPath, [BENCH_BIN, 'run', scenarioFile, '--db', dataDir], {
      env: { ...process.env, DATABASE_URL: '' },
      stdio: 'ignore',
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    // Read through the child, which owns the directory (db/pglite): as `bench dashboard` beside a run.
    const reader = await createDb({ dataDir })
    let runId = 0
    let seen = 0
    try {
      await eventually(
        async () => {
          const [run] = await reader
            .select({ id: runs.id })
            .from(runs)
            .where(eq(runs.scenarioName, 'accuracy-kill'))
          if (!run) return undefined
          runId = run.id
          seen = await reader.$count(accuracyItems, eq(accuracyItems.runId, run.id))
          return seen >= 5 ? true : undefined
          // The CLI runs its TypeScript sources through tsx while they differ from its build: a slower start.
        },
        'five items stored while the run goes on',
        30_000,
      )
    } finally {
      child.kill('SIGKILL')
      await exited
      await reader.close()
    }
    const db = await createDb({ dataDir })
    try {
      const [run] = await db.select().from(runs).where(eq(runs.id, runId))
      expect(run?.state, 'interrupted at the next open').toBe('interrupted')
      const items = await listAccuracyItems(db, runId)
      expect(items.length, 'at least what was seen before the kill').toBeGreaterThanOrEqual(seen)
      expect(
        items.map((i) => i.seq),
        'in order from 0, none missing',
      ).toEqual(items.map((_, i) => i))
      expect(items.length, 'cut short').toBeLessThan(200)
    } finally {
      await db.close()
    }
  })
})
