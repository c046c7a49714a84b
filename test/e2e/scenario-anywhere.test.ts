/**
 * A .ts scenario outside the repo (no package.json with "type": "module" above it, so tsx compiles it as
 * CommonJS) loads through the real CLI — run from that directory, from the sources and from a compiled
 * build — and a syntax error in it names the file, line, column and esbuild's message instead of Node's
 * "Cannot require() ES Module … in a cycle" (what both cases printed before harness/config loaded code
 * files through tsx's tsImport).
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain JavaScript without declarations (it runs before tsx can)
import { buildCli } from '../../harness/cli/build.mjs'
import { BENCH_BIN, type CliResult } from '../helpers/cli.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const build = buildCli as (o?: { outDir?: string }) => Promise<{ outDir: string }>

let dir = ''
// Inside the checkout's node_modules, as the real build is: its packages resolve from there.
const outDir = fileURLToPath(
  new URL(`../../node_modules/.cache/bench-anywhere-${process.pid}`, import.meta.url),
)

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bench-anywhere-'))
  expect(path.relative(REPO, dir).startsWith('..'), 'the temp dir is outside the repo').toBe(true)
  await mkdir(path.join(dir, 'lib'))
  // A helper beside the scenario, imported with TypeScript syntax in both.
  await writeFile(path.join(dir, 'lib', 'sizes.ts'), 'export const requests: number = 3\n')
  const config = path.join(REPO, 'harness', 'config', 'index.ts')
  await writeFile(
    path.join(dir, 'outside.ts'),
    `import { defineScenario } from '${config}'
import { requests } from './lib/sizes.ts'
const outputTokens: number = 2
export default defineScenario({
  name: 'outside-repo',
  prompts: { kind: 'synthetic', promptTokens: 8, outputTokens },
  targets: [{ name: 'mock', engine: { kind: 'openai', model: 'm', mock: { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 1 } } } }],
  loads: [{ kind: 'sequential', requests }],
  warmupRequests: 0,
})
`,
  )
  // No imports at all: the plainest scenario a user writes.
  await writeFile(
    path.join(dir, 'plain.ts'),
    `export default {
  name: 'outside-plain',
  prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 2 },
  targets: [{ name: 'mock', engine: { kind: 'openai', model: 'm', mock: { ttft: { kind: 'fixed', ms: 1 } } } }],
  loads: [{ kind: 'sequential', requests: 2 }],
  warmupRequests: 0,
}
`,
  )
  await writeFile(
    path.join(dir, 'broken.ts'),
    `export default {
  name: 'broken',
  loads: [{ kind: 'sequential', requests: 2 },,
}
`,
  )
  await build({ outDir })
}, 120_000)

afterAll(async () => {
  await Promise.all([dir, outDir].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })))
})

/** The real CLI with the temp dir as working directory. */
function bench(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BENCH_BIN, ...args],
      { cwd: dir, env: { ...process.env, BENCH_DEBUG: '1', ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    )
  })
}

const MODES = [
  { mode: 'sources', env: { BENCH_BUILD: '0' }, ran: 'running the sources with tsx' },
  { mode: 'build', env: { BENCH_BUILD_DIR: outDir }, ran: 'running the build' },
] as const

describe.each(MODES)('a .ts scenario outside the repo ($mode)', ({ env, ran }) => {
  it('runs, imports included', async () => {
    for (const [file, name, requests] of [
      ['outside.ts', 'outside-repo', 3],
      ['plain.ts', 'outside-plain', 2],
    ] as const) {
      const r = await bench(['run', file, '--no-db', '--no-progress', '--format', 'json'], env)
      expect(r.stderr, `${file}: which CLI ran`).toContain(ran)
      expect(r.stderr, `${file}: not the require(esm) cycle`).not.toMatch(/in a cycle/)
      expect(r.code, `${file}: exit code (stderr: ${r.stderr})`).toBe(0)
      const out = JSON.parse(r.stdout) as {
        scenario?: string
        runs: { state: string; metrics: { attempted: number } }[]
      }
      expect(
        out.runs.map((run) => run.state),
        `${file}: ${name} ran`,
      ).toEqual(['completed'])
      expect(out.runs[0]?.metrics.attempted, `${file}: requests from the scenario`).toBe(requests)
    }
  })

  it('a syntax error names the file, line, column and the parser message', async () => {
    const r = await bench(['run', 'broken.ts', '--no-db'], env)
    expect(r.code, 'exit code').toBe(1)
    expect(r.stderr).toContain(`syntax error: ${path.join(dir, 'broken.ts')}:4:1: Unexpected "}"`)
    expect(r.stderr, 'not the require(esm) cycle').not.toMatch(/in a cycle/)
    expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /)
  })
})
