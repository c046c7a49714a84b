import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'
import { isLostTypeLookup } from './db/pglite/owner-switch.ts'

/**
 * Five projects, split by what a file needs (node-llama-cpp's standalone vs model-dependent split):
 * - unit: pure code, temp files at most — no sockets, databases or child processes
 *   (test/helpers/unit-guard.ts makes a listen, connect or spawn there fail with a pointer to test/io).
 *   Threads, every core: ~1 min alone (`npm run test:unit`).
 * - io (test/io) and io-db (test/db, test/dashboard): loopback servers and databases (PGlite, and
 *   PostgreSQL when DATABASE_URL is set), in processes. Not isolated: a worker process runs file after file
 *   with its modules loaded once (per-file re-imports cost ~0.5–1 s of CPU each: the io files' user CPU fell
 *   from 250 to 182 s on 2 cores). Two projects, because mixing the two folders in one non-isolated worker
 *   broke the mock server's streams in a later test/io file (a process-wide side effect of the database
 *   stack, not found yet); each folder alone passed.
 * - e2e: the real CLI and other children, native engines on fixture models, browsers, real servers.
 *   Two files at a time: they wait on children, not on each other (one at a time took ~7 of `npm test`'s
 *   8 minutes on 2 cores).
 * - timed: e2e files whose assertions hold only on a quiet machine (harness overhead in ms, results lost
 *   at a kill within 400 ms, connect bounds of 2–3 s, a statistical gate on TTFT, a restart within a
 *   request timeout): one file at a time,
 *   last (groupOrder), with nothing else running.
 * `npm test` runs all five; `npm run test:io` runs io and io-db, `test:e2e` e2e and timed.
 */

/** Files outside test/e2e, test/engines … that start the CLI or another child: e2e by what they need. */
const CHILDREN_ELSEWHERE = [
  'test/dashboard/cli.test.ts',
  'test/dashboard/push.test.ts',
  'test/db/cli.test.ts',
  'test/db/environment.test.ts',
  'test/db/killed-run.test.ts',
  'test/db/lock.test.ts',
  'test/db/open-errors.test.ts',
  'test/db/postgres-open.test.ts',
  'test/db/shared-dir.test.ts',
  'test/db/studies-cli.test.ts',
]

/** e2e files that assert times: alone, after everything else. */
const TIMED = [
  'test/e2e/selftest.test.ts',
  'test/e2e/kill-recovery.test.ts',
  'test/e2e/db-outage.test.ts',
  'test/db/postgres-open.test.ts',
  'test/engines/isolate-timing.test.ts',
  'test/engines/isolate-faults.test.ts',
  'test/gate/gate-cli.test.ts',
  // The knee of the capacity mock within 10 %: latency percentiles under a paced load.
  'test/e2e/sweep.test.ts',
  // A 200-line trace replayed at 10×: schedule lag p99 within 20 ms (issue 18).
  'test/io/load/trace-replay.test.ts',
]

/** Every core: pure files are CPU-bound and independent. */
const UNIT_WORKERS = Math.max(2, availableParallelism())

/** Vitest's own default on 2 cores is one worker (cores − 1); I/O-bound files share a core well. */
const IO_WORKERS = 2

export default defineConfig({
  test: {
    // The one unhandled rejection that is not a failure: postgres.js's unawaited array-type lookup lost to
    // a PGlite owner switch (db/pglite/owner-switch.ts isLostTypeLookup; processes that use the socket
    // client let it pass the same way). Every other unhandled error still fails the run.
    onUnhandledError: (error) => !isLostTypeLookup(error),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          pool: 'threads',
          maxWorkers: UNIT_WORKERS,
          setupFiles: ['test/helpers/unit-guard.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'io',
          include: ['test/io/**/*.test.ts'],
          exclude: TIMED,
          // Processes, not threads: PGlite's WASM heap and servers' event loops stay apart.
          pool: 'forks',
          isolate: false,
          maxWorkers: IO_WORKERS,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'io-db',
          include: ['test/db/**/*.test.ts', 'test/dashboard/**/*.test.ts'],
          exclude: [...CHILDREN_ELSEWHERE, ...TIMED],
          pool: 'forks',
          isolate: false,
          maxWorkers: IO_WORKERS,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: [
            'test/e2e/**/*.test.ts',
            'test/engines/**/*.test.ts',
            'test/gate/**/*.test.ts',
            'test/browser/**/*.test.ts',
            'test/real-server/**/*.test.ts',
            ...CHILDREN_ELSEWHERE,
          ],
          exclude: TIMED,
          pool: 'forks',
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
        },
      },
      {
        extends: true,
        test: {
          name: 'timed',
          include: TIMED,
          pool: 'forks',
          maxWorkers: 1,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
})
