/**
 * Where and what a run measured: the machine (CPU, cores, RAM, GPUs, OS, Node, engine package versions)
 * and the source revision (commit, branch, merge-base). Git facts come from CI variables when set
 * (GITHUB_SHA, GITHUB_HEAD_REF / GITHUB_REF_NAME, GITHUB_BASE_REF), else from `git`; explicit overrides
 * (CLI flags) win over both. Anything that cannot be found is left out rather than guessed.
 * @module
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import type { EnvironmentInfo, GitInfo } from './results.ts'

/** Packages whose version changes what an in-process engine measures. */
const ENGINE_PACKAGES = ['node-llama-cpp', 'onnxruntime-node'] as const

export interface DetectEnvironmentOptions {
  /** Versions to record in addition to (and over) the engine packages found in node_modules. */
  engineVersions?: Record<string, string>
  /** Look for GPUs with `nvidia-smi`. @default true */
  probeGpus?: boolean
}

export async function detectEnvironment(options: DetectEnvironmentOptions = {}): Promise<EnvironmentInfo> {
  const cpus = os.cpus()
  return {
    cpuModel: cpus[0]?.model.trim() || os.arch(),
    cores: os.availableParallelism?.() ?? cpus.length,
    ramBytes: os.totalmem(),
    gpus: options.probeGpus === false ? [] : await detectNvidiaGpus(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    nodeVersion: process.version,
    engineVersions: { ...installedEngineVersions(), ...options.engineVersions },
  }
}

function installedEngineVersions(): Record<string, string> {
  const require = createRequire(import.meta.url)
  const versions: Record<string, string> = {}
  for (const name of ENGINE_PACKAGES) {
    // Read package.json directly: export maps may hide it from require.resolve.
    for (const dir of require.resolve.paths(name) ?? []) {
      const file = path.join(dir, name, 'package.json')
      if (!existsSync(file)) continue
      const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version
      if (typeof version === 'string') versions[name] = version
      break
    }
  }
  return versions
}

async function detectNvidiaGpus(): Promise<EnvironmentInfo['gpus']> {
  const out = await run('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'])
  if (out === undefined) return []
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [name = '', mib = ''] = line.split(',').map((s) => s.trim())
      const vramMiB = Number(mib)
      return Number.isFinite(vramMiB) && mib !== '' ? { name, vramBytes: vramMiB * 1024 * 1024 } : { name }
    })
}

export interface DetectGitOptions {
  /** Repository to inspect. @default process.cwd() */
  cwd?: string
  /** @default process.env */
  env?: NodeJS.ProcessEnv
  /** Explicit values (CLI flags); each wins over CI variables and git. */
  overrides?: GitInfo
}

export async function detectGit(options: DetectGitOptions = {}): Promise<GitInfo> {
  const cwd = options.cwd ?? process.cwd()
  const env = options.env ?? process.env
  const overrides = options.overrides ?? {}
  const git = (...args: string[]) => run('git', ['-C', cwd, ...args])
  const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim())

  const commit = overrides.commit ?? nonEmpty(env.GITHUB_SHA) ?? (await git('rev-parse', 'HEAD'))
  // On pull_request events GITHUB_REF_NAME is "<n>/merge"; the source branch is GITHUB_HEAD_REF.
  const branch =
    overrides.branch ??
    nonEmpty(env.GITHUB_HEAD_REF) ??
    nonEmpty(env.GITHUB_REF_NAME) ??
    (await git('rev-parse', '--abbrev-ref', 'HEAD').then((b) => (b === 'HEAD' ? undefined : b)))
  const mergeBase =
    overrides.mergeBase ??
    (commit ? await findMergeBase(git, commit, nonEmpty(env.GITHUB_BASE_REF)) : undefined)
  return {
    ...(commit ? { commit } : {}),
    ...(branch ? { branch } : {}),
    ...(mergeBase ? { mergeBase } : {}),
  }
}

async function findMergeBase(
  git: (...args: string[]) => Promise<string | undefined>,
  commit: string,
  baseRef: string | undefined,
): Promise<string | undefined> {
  const candidates: string[] = []
  if (baseRef) candidates.push(`origin/${baseRef}`, baseRef)
  else {
    const originHead = await git('symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD')
    if (originHead) candidates.push(originHead)
    candidates.push('origin/main', 'main', 'origin/master', 'master')
  }
  for (const ref of candidates) {
    const base = await git('merge-base', commit, ref)
    if (base) return base
  }
  return undefined
}

/** stdout of a command, trimmed; undefined when it is missing, fails or takes over 5 s. */
function run(command: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 5_000, windowsHide: true }, (error, stdout) => {
      resolve(error ? undefined : stdout.trim() || undefined)
    })
  })
}
