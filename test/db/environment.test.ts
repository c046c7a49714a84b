import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { environmentHash } from '../../db/identity.ts'
import { detectEnvironment, detectGit } from '../../harness/environment.ts'

const REPO = path.resolve(import.meta.dirname, '../..')
const git = (...args: string[]) => execFileSync('git', ['-C', REPO, ...args], { encoding: 'utf8' }).trim()

describe('run identity from the environment', () => {
  it('describes this machine', async () => {
    const env = await detectEnvironment({ engineVersions: { 'llama.cpp': 'b1234' } })
    expect(env.nodeVersion, 'node').toBe(process.version)
    expect(env.cores, 'cores').toBeGreaterThanOrEqual(1)
    expect(env.ramBytes, 'ram').toBeGreaterThan(0)
    expect(env.engineVersions['llama.cpp'], 'given versions are kept').toBe('b1234')
    expect(environmentHash(env), 'stable hash').toBe(environmentHash(structuredClone(env)))
    expect(environmentHash({ ...env, cores: env.cores + 1 }), 'hash covers the fields').not.toBe(
      environmentHash(env),
    )
  })

  it('reads commit and branch from git', async () => {
    const info = await detectGit({ cwd: REPO, env: {} })
    expect(info.commit, 'commit').toBe(git('rev-parse', 'HEAD'))
    const branch = git('rev-parse', '--abbrev-ref', 'HEAD')
    expect(info.branch, 'branch').toBe(branch === 'HEAD' ? undefined : branch)
  })

  it('prefers CI variables to git, and explicit values to both', async () => {
    const head = git('rev-parse', 'HEAD')
    const ci = await detectGit({
      cwd: REPO,
      env: { GITHUB_SHA: head, GITHUB_REF_NAME: '12/merge', GITHUB_HEAD_REF: 'feature-x' },
    })
    expect(ci.commit, 'GITHUB_SHA').toBe(head)
    expect(ci.branch, 'PR source branch over the merge ref').toBe('feature-x')
    const pushed = await detectGit({ cwd: REPO, env: { GITHUB_SHA: head, GITHUB_REF_NAME: 'main' } })
    expect(pushed.branch, 'GITHUB_REF_NAME on push').toBe('main')
    const flags = await detectGit({
      cwd: REPO,
      env: { GITHUB_SHA: head },
      overrides: { commit: 'abc123', branch: 'b', mergeBase: 'def456' },
    })
    expect(flags, 'overrides').toEqual({ commit: 'abc123', branch: 'b', mergeBase: 'def456' })
  })

  it('leaves out what it cannot find instead of guessing', async () => {
    const info = await detectGit({ cwd: path.parse(REPO).root, env: {} })
    expect(info, 'outside a repository').toEqual({})
  })
})
