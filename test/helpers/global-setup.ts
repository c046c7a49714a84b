/**
 * vitest global setup (every project): one temporary folder for the whole run, in BENCH_TEST_TMP, which
 * test/helpers/db.ts fills with PGlite directories and deletes from in the background; removed here, with
 * anything a killed worker left behind, when the run ends.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export default function setup(): () => void {
  // A run started inside another (a test that runs vitest) keeps the outer folder.
  if (process.env.BENCH_TEST_TMP !== undefined) return () => {}
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-test-run-'))
  process.env.BENCH_TEST_TMP = dir
  return () => {
    rmSync(dir, { recursive: true, force: true })
    delete process.env.BENCH_TEST_TMP
  }
}
