import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'

const dirs: string[] = []

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
})

async function scenarioFile(content: unknown): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-cli-'))
  dirs.push(dir)
  const file = path.join(dir, 'scenario.json')
  await writeFile(file, JSON.stringify(content))
  return { dir, file }
}

describe('bench run', () => {
  it('an invalid scenario exits 1 with one message listing every problem, and starts nothing', async () => {
    const { dir, file } = await scenarioFile({
      name: 'bad',
      prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
      targets: [{ name: 't', engine: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1' } }],
      loads: [
        { kind: 'burst', requests: 1 },
        { kind: 'poisson', ratePerS: -1, requests: 2 },
      ],
    })
    const out = path.join(dir, 'out.jsonl')
    const r = await runCli(['run', file, '--no-db', '--out', out])
    expect(r.code, 'exit code').toBe(1)
    expect(r.stderr, 'unknown load kind').toMatch(/loads\[0\]\.kind: unknown kind "burst"/)
    expect(r.stderr, 'negative rate').toMatch(/loads\[1\]\.ratePerS: must be > 0, got -1/)
    expect(r.stderr, 'missing model').toMatch(/targets\[0\]\.engine\.model: required/)
    expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /)
    expect(existsSync(out), 'no results file: no run was started').toBe(false)
  })

  it('a bad numeric flag or argument exits 1 naming it, without a stack trace', async () => {
    const cases = [
      ['run', 'scenario.json', '--repeat', 'x'],
      ['export', 'x'],
    ]
    // Independent children: at once.
    const results = await Promise.all(cases.map((args) => runCli(args)))
    for (const [i, args] of cases.entries()) {
      const r = results[i]!
      expect(r.code, `${args.join(' ')}: exit code`).toBe(1)
      expect(r.stderr, `${args.join(' ')}: names the value`).toMatch(/expects an integer ≥ 1, got "x"/)
      expect(r.stderr, `${args.join(' ')}: no stack trace`).not.toMatch(/\n\s+at /)
    }
  })

  it('runs against the mock, prints a table, writes JSON lines and reports errors', async () => {
    const { dir, file } = await scenarioFile({
      name: 'cli-mock',
      prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
      targets: [
        {
          name: 'mock',
          engine: {
            kind: 'openai',
            model: 'mock-model',
            mock: { ttft: { kind: 'fixed', ms: 2 }, itl: { kind: 'fixed', ms: 1 }, faults: { rate500: 0.3 } },
          },
        },
      ],
      loads: [{ kind: 'concurrent', concurrency: 4, requests: 40 }],
      warmupRequests: 0,
      // Reporting errors is the subject here; the threshold is tested below.
      maxErrorRate: 1,
    })
    const out = path.join(dir, 'out.jsonl')
    // The JSON run and the table run are independent children: at once.
    const [r, table] = await Promise.all([
      runCli(['run', file, '--no-db', '--out', out, '--format', 'json']),
      runCli(['run', file, '--no-db']),
    ])
    expect(r.code, `exit code (stderr: ${r.stderr})`).toBe(0)
    const report = JSON.parse(r.stdout) as {
      runs: { state: string; metrics: { attempted: number; errors: number; errorRate: number } }[]
    }
    const run = report.runs[0]
    expect(run?.state, 'state').toBe('completed')
    expect(run?.metrics.attempted, 'attempted').toBe(40)
    expect(run?.metrics.errors, 'some 500s').toBeGreaterThan(0)
    expect(run?.metrics.errorRate, 'errorRate').toBeCloseTo((run?.metrics.errors ?? 0) / 40, 10)
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string })
    expect(lines[0]?.type, 'run line first').toBe('run')
    expect(lines.filter((l) => l.type === 'outcome').length, 'one line per request').toBe(40)
    expect(lines.at(-1)?.type, 'finish line last').toBe('finish')

    expect(table.code, 'table exit').toBe(0)
    expect(table.stdout, 'table header').toMatch(/target\s+load\s+state/)
    expect(table.stdout, 'table row').toMatch(/mock\s+concurrent 4\s+completed/)
  })
})

type JsonLine = {
  type: string
  state?: string
  error?: string
  metrics?: { attempted: number; errors: number; errorRate: number; abortedRequests?: number }
  outcome?: { state: string; error?: { kind: string; status?: number } }
}

async function jsonLines(file: string): Promise<JsonLine[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JsonLine)
}

describe('bench run error-rate threshold', () => {
  it('a mock answering 500 to 20 % of requests exits 1 naming the kinds and counts; --max-error-rate 0.5 exits 0', {
    timeout: 60_000,
  }, async () => {
    const { dir, file } = await scenarioFile({
      name: 'cli-error-rate',
      prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 4 },
      targets: [
        {
          name: 'mock',
          engine: {
            kind: 'openai',
            model: 'mock-model',
            // Seeded: the same requests get a 500 on every run.
            mock: {
              seed: 7,
              ttft: { kind: 'fixed', ms: 1 },
              itl: { kind: 'fixed', ms: 1 },
              faults: { rate500: 0.2 },
            },
          },
        },
      ],
      loads: [{ kind: 'concurrent', concurrency: 4, requests: 100 }],
      warmupRequests: 0,
    })
    const out = path.join(dir, 'failed.jsonl')
    // Three independent children (the mock is seeded: each gets the same 500s): at once.
    const [r, lenient, json] = await Promise.all([
      runCli(['run', file, '--no-db', '--no-progress', '--out', out]),
      runCli(['run', file, '--no-db', '--no-progress', '--max-error-rate', '0.5']),
      runCli(['run', file, '--no-db', '--no-progress', '--format', 'json']),
    ])
    expect(r.code, `exit code (stderr: ${r.stderr})`).toBe(1)
    const lines = await jsonLines(out)
    const http500 = lines.filter((l) => l.outcome?.error?.kind === 'http' && l.outcome.error.status === 500)
    expect(http500.length, 'about 20 % of 100 answered 500').toBeGreaterThanOrEqual(10)
    expect(http500.length, 'about 20 % of 100 answered 500').toBeLessThanOrEqual(30)
    const n = http500.length
    const reason = `error rate ${n.toFixed(1)} % (${n} of 100) > max 1 %: http 500 ×${n}`
    expect(r.stderr, 'stderr names the run, the rate, the kind and the count').toContain(
      `bench: mock / concurrent 4: ${reason}\n`,
    )
    expect(r.stdout, 'the table marks the run failed').toMatch(/mock\s+concurrent 4\s+failed/)
    expect(r.stdout, 'and says why under it').toContain(`mock / concurrent 4: ${reason}`)
    const finish = lines.find((l) => l.type === 'finish')
    expect(finish?.state, 'finish record: failed').toBe('failed')
    expect(finish?.error, 'finish record: why').toBe(reason)
    expect(finish?.metrics?.errors, 'finish record: measurements kept').toBe(n)
    expect(finish?.metrics?.errorRate, 'finish record: errorRate').toBe(n / 100)

    expect(lenient.code, `--max-error-rate 0.5: exit code (stderr: ${lenient.stderr})`).toBe(0)
    expect(lenient.stdout, '--max-error-rate 0.5: completed').toMatch(/mock\s+concurrent 4\s+completed/)
    expect(lenient.stderr, '--max-error-rate 0.5: nothing to report').not.toContain('error rate')

    const report = JSON.parse(json.stdout) as {
      runs: { state: string; errorRateCheck?: { passed: boolean; errorCounts: unknown[] } }[]
    }
    expect(report.runs[0]?.errorRateCheck, 'JSON: the verdict').toMatchObject({
      passed: false,
      errorCounts: [{ kind: 'http', status: 500, count: n }],
    })
  })

  it('refuses a --max-error-rate outside [0, 1] in one line naming the flag', async () => {
    const r = await runCli(['run', 'scenario.json', '--max-error-rate', '5'])
    expect(r.code, 'exit code').toBe(1)
    expect(r.stderr, 'names the flag').toMatch(
      /--max-error-rate expects a fraction between 0 and 1 \(0\.05 = 5 %\), got "5"/,
    )
    expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /)
  })
})

describe('bench run interrupted', () => {
  it('SIGINT ends cleanly: exit 1, the run finished as interrupted with its outcomes kept, the aborted requests not counted as errors', {
    timeout: 60_000,
  }, async () => {
    const { dir, file } = await scenarioFile({
      name: 'cli-sigint',
      // 40 tokens 5 ms apart: each request streams for ~200 ms, so 4 are in flight when SIGINT lands.
      prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 40 },
      targets: [
        {
          name: 'mock',
          engine: {
            kind: 'openai',
            model: 'mock-model',
            mock: { ttft: { kind: 'fixed', ms: 5 }, itl: { kind: 'fixed', ms: 5 } },
          },
        },
      ],
      loads: [{ kind: 'concurrent', concurrency: 4, durationS: 60 }],
      warmupRequests: 0,
    })
    const out = path.join(dir, 'out.jsonl')
    const { spawn } = await import('node:child_process')
    const { BENCH_BIN } = await import('../helpers/cli.ts')
    const child = spawn(
      process.execPath,
      [BENCH_BIN, 'run', file, '--no-db', '--out', out, '--format', 'json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    // Wait until requests are being recorded, then interrupt.
    for (let i = 0; i < 100 && !(existsSync(out) && (await readFile(out, 'utf8')).includes('"outcome"')); i++)
      await new Promise((r) => setTimeout(r, 100))
    child.kill('SIGINT')
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code, 'exit code').toBe(1)
    const lines = await jsonLines(out)
    const finish = lines.find((l) => l.type === 'finish')
    expect(finish?.state, 'run state').toBe('interrupted')
    const outcomes = lines.filter((l) => l.type === 'outcome')
    expect(outcomes.length, 'outcomes kept').toBeGreaterThan(0)
    const aborted = outcomes.filter((l) => l.outcome?.error?.kind === 'aborted').length
    expect(aborted, 'requests in flight at the interrupt recorded as aborted').toBeGreaterThan(0)
    expect(finish?.metrics?.abortedRequests, 'counted as aborted').toBe(aborted)
    expect(finish?.metrics?.errors, 'not as errors').toBe(0)
    expect(finish?.metrics?.errorRate, 'errorRate leaves them out').toBe(0)
    expect(finish?.metrics?.attempted, 'attempted leaves them out').toBe(outcomes.length - aborted)
    const report = JSON.parse(stdout) as { runs: { state: string; metrics?: { attempted: number } }[] }
    expect(report.runs[0]?.state, 'printed state').toBe('interrupted')
  })
})
