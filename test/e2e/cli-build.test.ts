/**
 * The compiled CLI (harness/cli/build.mjs): bench.mjs runs it while every source it was made from is
 * unchanged, and the TypeScript sources with tsx as soon as one changed; a .ts scenario still loads from
 * the build; the --help choices copied into harness/cli/choices.ts equal their owners.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT } from '../../dashboard/server.ts'
import { alertStates, runStates } from '../../db/schema.ts'
// @ts-expect-error plain JavaScript without declarations (it runs before tsx can)
import { buildCli } from '../../harness/cli/build.mjs'
import * as choices from '../../harness/cli/choices.ts'
// @ts-expect-error plain JavaScript without declarations
import { freshBuild, MANIFEST } from '../../harness/cli/fresh-build.mjs'
import { OPENAI_CLIENTS } from '../../harness/config/schema.ts'
import { PERSONALITIES } from '../../harness/mock-server/options.ts'
import { runCli } from '../helpers/cli.ts'

type Fresh = { entry: string } | { stale: string }
const build = buildCli as (o?: {
  root?: string
  entry?: string
  outDir?: string
}) => Promise<{ outDir: string }>
const fresh = freshBuild as (outDir: string) => Fresh

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
})
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-cli-build-'))
  dirs.push(dir)
  return dir
}

describe('the compiled CLI', () => {
  it('is used while its sources are unchanged and ignored once one is newer, larger or gone', async () => {
    const root = await tempDir()
    await writeFile(path.join(root, 'main.ts'), "import { word } from './dep.ts'\nconsole.log(word())\n")
    const dep = path.join(root, 'dep.ts')
    // import.meta.url must still name the source (files beside it are found from there).
    await writeFile(dep, `export const word = (): string => \`built \${import.meta.url}\`\n`)
    const outDir = path.join(root, 'out')
    await build({ root, entry: 'main.ts', outDir })

    const state = fresh(outDir)
    expect(state, 'fresh after the build').toHaveProperty('entry')
    const ran = spawnSync(process.execPath, [(state as { entry: string }).entry], { encoding: 'utf8' })
    expect(ran.stdout.trim(), 'the build runs, its import.meta.url names the source').toBe(
      `built ${pathToFileURL(dep).href}`,
    )

    const later = new Date(Date.now() + 10_000)
    await utimes(dep, later, later)
    expect(fresh(outDir), 'a newer source').toEqual({ stale: 'dep.ts changed since the build' })
    await build({ root, entry: 'main.ts', outDir })
    expect(fresh(outDir), 'rebuilt').toHaveProperty('entry')
    await writeFile(dep, 'export const word = (): string => "longer than before, same second"\n')
    await utimes(dep, later, later)
    expect(fresh(outDir), 'same mtime, other size').toEqual({ stale: 'dep.ts changed since the build' })
    await rm(dep)
    expect(fresh(outDir), 'a deleted source').toEqual({ stale: 'dep.ts is gone' })
    expect(fresh(path.join(root, 'none')), 'no build').toHaveProperty('stale')
  })

  it('bench.mjs runs a fresh build (a .ts scenario included) and the sources once the build is stale', async () => {
    const dir = await tempDir()
    // Inside the checkout's node_modules, as the real build is: its packages resolve from there.
    const outDir = fileURLToPath(
      new URL(`../../node_modules/.cache/bench-test-${process.pid}`, import.meta.url),
    )
    dirs.push(outDir)
    await build({ outDir })
    const config = pathToFileURL(
      fileURLToPath(new URL('../../harness/config/index.ts', import.meta.url)),
    ).href
    const scenario = path.join(dir, 'tiny.ts')
    // A user's project as an ES module package (one outside any package: test/e2e/scenario-anywhere.test.ts).
    await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n')
    await writeFile(
      scenario,
      `import { defineScenario } from '${config}'
export default defineScenario({
  name: 'tiny-mock',
  prompts: { kind: 'synthetic', promptTokens: 8, outputTokens: 2 },
  targets: [{ name: 'mock', engine: { kind: 'openai', model: 'm', mock: { ttft: { kind: 'fixed', ms: 1 }, itl: { kind: 'fixed', ms: 1 } } } }],
  loads: [{ kind: 'concurrent', concurrency: 1, requests: 3 }],
  warmupRequests: 0,
})
`,
    )
    // Workers and children (mock server thread, PGlite thread, isolated engine) start their own builds, not
    // the tsx shims (harness/mock-server/worker-entry.mjs and the like).
    const outputs = (await readdir(outDir)).filter((f) => f.endsWith('.mjs'))
    const shimRefs = (
      await Promise.all(
        outputs.map(
          async (f) => (await readFile(path.join(outDir, f), 'utf8')).match(/[\w-]+-entry\.mjs/g) ?? [],
        ),
      )
    ).flat()
    expect(shimRefs, 'no tsx shim started from the build').toEqual([])
    expect(outputs, 'the mock server thread has its build').toContain('harness__mock-server__worker-main.mjs')
    const env = { BENCH_BUILD_DIR: outDir, BENCH_DEBUG: '1' }
    const built = await runCli(['run', scenario, '--no-db', '--format', 'json'], { env })
    expect(built.stderr, 'the build ran').toContain(
      `bench: running the build ${path.join(outDir, 'main.mjs')}`,
    )
    expect(built.code, `exit code (stderr: ${built.stderr})`).toBe(0)
    expect((JSON.parse(built.stdout) as { runs: { state: string }[] }).runs[0]?.state).toBe('completed')

    // A source changed after the build (its recorded mtime no longer matches): the sources run.
    const manifestFile = path.join(outDir, MANIFEST)
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { files: Record<string, number[]> }
    const entry = manifest.files['harness/cli/main.ts']
    expect(entry, 'main.ts is one of the build inputs').toBeDefined()
    manifest.files['harness/cli/main.ts'] = [(entry?.[0] ?? 0) - 1000, entry?.[1] ?? 0]
    await writeFile(manifestFile, JSON.stringify(manifest))
    const stale = await runCli(['--help'], { env })
    expect(stale.stderr, 'the sources ran').toContain(
      'bench: running the sources with tsx (harness/cli/main.ts changed since the build)',
    )
    expect(stale.code).toBe(0)
    expect(stale.stdout, 'same help').toContain('Usage: bench [options] [command]')
  })

  it('copies the --help choices and defaults of heavy modules exactly', () => {
    expect(choices.RUN_STATES).toEqual(runStates)
    expect(choices.ALERT_STATES).toEqual(alertStates)
    expect(choices.OPENAI_CLIENT_CHOICES).toEqual(OPENAI_CLIENTS)
    expect(choices.MOCK_PERSONALITIES).toEqual(PERSONALITIES)
    expect(choices.DASHBOARD_PORT).toBe(DEFAULT_DASHBOARD_PORT)
    expect(choices.DASHBOARD_HOST).toBe(DEFAULT_DASHBOARD_HOST)
  })
})
