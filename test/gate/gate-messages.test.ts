/**
 * What `bench gate` says, through the real CLI on a real PGlite database and a real git clone:
 * - a fingerprint refusal lists each differing field on its own line, `path: baseline vs candidate`
 *   (`mock.itl.ms: 3 vs 2`), not the two engine-option objects;
 * - a series is named by its load as `bench runs show` describes it (`mock · concurrent 2`), not `step 0`;
 * - "alerts opened" is a count, the ids beside it;
 * - when the merge-base start point leaves no baseline because main's runs are on local commits that
 *   origin/main lacks, it says so and what to do; --require-baseline then fails; --baseline-ref main
 *   (the merge-base with the local main) finds them; an unknown --baseline-ref is an error naming it.
 *
 * The runs it gates are made in this process the way `bench run` makes them (./bench-run.ts, git facts from
 * the same working directory), into one PGlite database the three tests share (each reads its own
 * scenario's runs and commits) and that this process hosts: each `bench gate` child connects to it over
 * the loopback socket instead of opening the WASM database again; gates that read the same state run at
 * once. One real `bench run --repeat 3` in the clone keeps the CLI's own git detection and repetitions
 * under test. (Was 9 `bench run` and 10 `bench gate` children, each opening PGlite: 134 s at load 9–12.)
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BENCH_BIN, type CliResult } from '../helpers/cli.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { benchRun, closeMocks } from './bench-run.ts'

let dir = ''
let t: TestDatabase | undefined
/** The shared database's directory, for --db. */
let db = ''
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bench-gate-msg-'))
  // Hosted in a worker thread, as bench run hosts it: the gates' queries (WebAssembly, synchronous) would
  // otherwise stall the thread that runs the mocks and stamps the seeded runs' chunks (a 1 ms baseline
  // once read slower than the 60 ms candidate).
  t = await createTestDatabase('pglite', { embeddedHost: 'worker' })
  db = t.options.dataDir ?? ''
})
afterAll(async () => {
  await closeMocks()
  await t?.dispose()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** `bench run` in-process into the shared database (./bench-run.ts). */
function seed(
  cwd: string,
  file: string,
  flags: { commit?: string; branch?: string; mergeBase?: string; repeat?: number } = {},
) {
  if (!t) throw new Error('no database')
  return benchRun(t.db, file, { cwd, ...flags })
}

/** The real CLI in `cwd` (git facts come from there). */
function bench(cwd: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BENCH_BIN, ...args],
      { cwd, timeout: 120_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GITHUB_SHA: '' } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    )
  })
}

/** A scenario on the built-in mock: its delays are engine options, so part of the fingerprint. */
function scenario(name: string, mock: { ttftMs: number; itlMs: number }, load: unknown) {
  return {
    name,
    seed: 1,
    prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4, count: 4 },
    targets: [
      {
        name: 'mock',
        engine: {
          kind: 'openai',
          model: 'mock-model',
          mock: { ttft: { kind: 'fixed', ms: mock.ttftMs }, itl: { kind: 'fixed', ms: mock.itlMs } },
        },
      },
    ],
    loads: [load],
    warmupRequests: 0,
  }
}

const LOAD = { kind: 'concurrent', concurrency: 2, requests: 8 }

async function write(file: string, content: unknown): Promise<string> {
  await writeFile(file, JSON.stringify(content))
  return file
}

function runIds(r: CliResult): number[] {
  expect(r.code, `bench run (stderr: ${r.stderr})`).toBe(0)
  return (JSON.parse(r.stdout) as { runs: { runId: string }[] }).runs.map((x) => Number(x.runId))
}

// Concurrent: the three read their own scenarios' runs and mostly wait on CLI children.
describe.concurrent('bench gate messages', () => {
  it('a refusal lists the differing fields one per line; series by load name; alerts counted', async () => {
    const base = await write(path.join(dir, 'base.json'), scenario('gate-msg', { ttftMs: 1, itlMs: 3 }, LOAD))
    const baseIds = await seed(dir, base, { branch: 'main', commit: 'a'.repeat(40), repeat: 3 })
    // Only the mock's ITL differs: one field, not two JSON objects of options.
    const other = await write(
      path.join(dir, 'other.json'),
      scenario('gate-msg', { ttftMs: 1, itlMs: 2 }, LOAD),
    )
    await seed(dir, other, { branch: 'pr', commit: 'b'.repeat(40), mergeBase: 'a'.repeat(40) })
    // A slower candidate against named baseline runs: two regressions, two alerts, counted.
    const slow = await write(
      path.join(dir, 'slow.json'),
      scenario('gate-msg', { ttftMs: 60, itlMs: 3 }, LOAD),
    )
    await seed(dir, slow, { branch: 'pr', commit: 'c'.repeat(40), mergeBase: 'a'.repeat(40) })
    // Two gates at once: clients of this process's database, each about its own commit.
    const [refused, failed] = await Promise.all([
      bench(dir, [
        'gate',
        '--db',
        db,
        '--commit',
        'b'.repeat(40),
        '--metric',
        'ttftMsP50',
        '--format',
        'table',
      ]),
      bench(dir, [
        'gate',
        '--db',
        db,
        '--commit',
        'c'.repeat(40),
        '--metric',
        'ttftMsP50',
        '--metric',
        'ttftMsMin',
        '--min-samples',
        '3',
        // A fixed tolerance, not a t-interval: three 1 ms baselines on a loaded box can spread widely.
        '--method',
        'percentage',
        ...baseIds.flatMap((id) => ['--baseline-run', String(id)]),
      ]),
    ])
    expect(refused.code, `refused (stderr: ${refused.stderr})`).toBe(1)
    const header = new RegExp(
      `REFUSED mock · concurrent 2 \\(run \\d+\\): not comparable with main's run ${baseIds.at(-1)}; ` +
        'fields that differ \\(main vs candidate\\):\\n {2}mock\\.itl\\.ms: 3 vs 2\\n',
    )
    expect(refused.stderr, 'stderr: the field, baseline first').toMatch(header)
    expect(`${refused.stdout}\n`, 'stdout table: the same').toMatch(header)
    expect(refused.stderr, 'no JSON object of options').not.toMatch(/\{"/)
    expect(refused.stderr, 'no "step 0"').not.toMatch(/step 0/)

    expect(failed.code, `regression (stdout: ${failed.stdout} stderr: ${failed.stderr})`).toBe(2)
    expect(failed.stderr, 'series named by its load').toMatch(
      /regression in mock · concurrent 2 ttftMsP50, mock · concurrent 2 ttftMsMin/,
    )
    const alerts = /alerts opened: (\d+) \(id (\d+), (\d+); bench alerts list\)/.exec(failed.stdout)
    expect(alerts?.[1], `a count of two (stdout: ${failed.stdout})`).toBe('2')
    expect(Number(alerts?.[3]), 'then the two ids').toBe(Number(alerts?.[2]) + 1)
  }, 300_000)

  it('a candidate without a merge-base (no base ref in its clone): says so and what to do', async () => {
    const file = await write(path.join(dir, 'no-ref.json'), scenario('no-ref', { ttftMs: 1, itlMs: 1 }, LOAD))
    // The temp dir is no git clone: bench run stores the commit and branch given, and no merge-base.
    await seed(dir, file, { branch: 'pr', commit: 'e'.repeat(40) })
    await seed(dir, file, { branch: 'main', commit: 'f'.repeat(40) })
    const gate = (...args: string[]) =>
      bench(dir, ['gate', '--db', db, '--commit', 'e'.repeat(40), '--metric', 'ttftMsP50', ...args])
    const [warned, required] = await Promise.all([gate(), gate('--require-baseline')])
    expect(warned.code, `warns and passes (stderr: ${warned.stderr})`).toBe(0)
    const why =
      `main has 1 run\\(s\\) with the candidate's fingerprint \\(commit ${'f'.repeat(12)}\\), all started ` +
      'after the candidate, which has no merge-base: bench run found no base ref \\(origin/HEAD, origin/main, ' +
      'main\\) in its clone — fetch main \\(git fetch origin main; a shallow CI checkout needs fetch-depth: 0\\) ' +
      'and run bench again, or gate with --baseline-ref main'
    expect(warned.stderr, 'the WARNING says why and what to do').toMatch(new RegExp(why))
    expect(required.code, '--require-baseline fails').toBe(1)
    expect(required.stderr, 'and says why').toMatch(new RegExp(why))
  }, 300_000)

  it('local main commits not on origin/main: says so and what to do; --require-baseline fails; --baseline-ref main finds them', async () => {
    const origin = path.join(dir, 'origin.git')
    const work = path.join(dir, 'work')
    await mkdir(work)
    // git without blocking this thread: it also runs the other tests' mocks and stamps their seeded runs.
    const gitIn = async (cwd: string, ...args: string[]) =>
      (
        await promisify(execFile)('git', args, {
          cwd,
          encoding: 'utf8',
          env: {
            ...process.env,
            GIT_AUTHOR_NAME: 't',
            GIT_AUTHOR_EMAIL: 't@t',
            GIT_COMMITTER_NAME: 't',
            GIT_COMMITTER_EMAIL: 't@t',
          },
        })
      ).stdout.trim()
    const git = (...args: string[]) => gitIn(work, ...args)
    await gitIn(dir, 'init', '--quiet', '--bare', origin)
    await git('init', '--quiet', '--initial-branch', 'main')
    await git('remote', 'add', 'origin', origin)
    await writeFile(path.join(work, 'f.txt'), 'o\n')
    await git('add', 'f.txt')
    await git('commit', '--quiet', '-m', 'o')
    await git('push', '--quiet', 'origin', 'main')
    await git('fetch', '--quiet', 'origin')
    const o = await git('rev-parse', 'HEAD')

    const scenarios = path.join(dir, 'scenarios')
    await mkdir(scenarios)
    const ci = await write(path.join(scenarios, 'ci.json'), scenario('ci', { ttftMs: 1, itlMs: 1 }, LOAD))
    const quick = await write(
      path.join(scenarios, 'quick.json'),
      scenario('quick', { ttftMs: 1, itlMs: 1 }, { kind: 'sequential', requests: 2 }),
    )
    const run = (file: string, ...args: string[]) =>
      bench(work, ['run', file, '--db', db, '--no-progress', '--format', 'json', ...args])
    // The pushed commit measured (another scenario): it marks the merge-base as measured on main.
    await seed(work, quick)
    // A local commit on main, never pushed: the CI scenario measured there, by the real CLI (its git
    // detection in the clone, and --repeat: three runs of one invocation).
    await writeFile(path.join(work, 'f.txt'), 'm1\n')
    await git('commit', '--quiet', '-am', 'm1')
    const m1 = await git('rev-parse', 'HEAD')
    expect(runIds(await run(ci, '--repeat', '3')), 'three runs').toHaveLength(3)
    // The PR branch forks from that local commit; bench run takes its merge-base against origin/main.
    await git('checkout', '--quiet', '-b', 'pr')
    await writeFile(path.join(work, 'f.txt'), 'p\n')
    await git('commit', '--quiet', '-am', 'p')
    await seed(work, ci)
    // A PR forked from origin/main, checked out in a second worktree of the clone (so its gate runs beside
    // the others): main's measured commits are not in its history — main moved on.
    const forkedWork = path.join(dir, 'work-pr2')
    await git('worktree', 'add', '--quiet', '-b', 'pr2', forkedWork, o)
    await writeFile(path.join(forkedWork, 'f.txt'), 'q\n')
    await gitIn(forkedWork, 'commit', '--quiet', '-am', 'q')
    await seed(forkedWork, ci)

    const gate = (cwd: string, ...args: string[]) =>
      bench(cwd, ['gate', '--db', db, '--metric', 'ttftMsP50', '--min-samples', '3', ...args])
    // Five gates at once, each on its worktree's HEAD (clients of this process's database; none reads what
    // another writes).
    const [warned, required, local, missing, forked] = await Promise.all([
      gate(work),
      gate(work, '--require-baseline'),
      gate(work, '--baseline-ref', 'main', '--require-baseline'),
      gate(work, '--baseline-ref', 'origin/nope'),
      gate(forkedWork),
    ])
    expect(warned.code, `no baseline: warns and passes (stderr: ${warned.stderr})`).toBe(0)
    const why =
      `main has 3 run\\(s\\) with the candidate's fingerprint \\(commit ${m1.slice(0, 12)}\\), all after its ` +
      `merge-base ${o.slice(0, 12)} was measured on main: those commits are in the candidate's history but ` +
      'not ancestors of the merge-base — local commits not on origin/main when bench run took it. ' +
      'Push main \\(git push origin main\\) and fetch, or gate with --baseline-ref main'
    expect(warned.stderr, 'the WARNING says why and what to do').toMatch(
      new RegExp(`WARNING: mock · concurrent 2 ttftMsP50: insufficient data \\(no baseline: ${why}`),
    )
    expect(warned.stdout, 'the report says it too').toMatch(new RegExp(why))

    expect(required.code, `--require-baseline fails (stderr: ${required.stderr})`).toBe(1)
    expect(required.stderr, 'and says why').toMatch(new RegExp(why))

    expect(local.code, `--baseline-ref main (stdout: ${local.stdout} stderr: ${local.stderr})`).toBe(0)
    expect(local.stdout, 'the start point is the local merge-base').toMatch(
      new RegExp(`baseline 3 run\\(s\\), main up to the merge-base ${m1.slice(0, 12)} \\(--baseline-ref\\)`),
    )
    expect(local.stdout, 'gated on them').toMatch(/\| ttftMsP50 \| [\d.]+ \| [\d.]+ \(n=3\) \|/)
    expect(missing.code, 'unknown ref').toBe(1)
    expect(missing.stderr).toMatch(/--baseline-ref origin\/nope: no such commit, branch or tag in this clone/)

    expect(forked.code, `warns and passes (stderr: ${forked.stderr})`).toBe(0)
    expect(forked.stderr, 'says main moved on, not "push"').toMatch(
      new RegExp(
        `main has 3 run\\(s\\) with the candidate's fingerprint \\(commit ${m1.slice(0, 12)}\\), all after its ` +
          `merge-base ${o.slice(0, 12)} was measured on main: main moved on after the candidate forked and ` +
          'nothing comparable was measured up to the fork. Rebase onto main',
      ),
    )
  }, 300_000)
})
