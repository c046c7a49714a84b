/**
 * Where test/real-server/build-llama-cpp.sh cached llama.cpp's own tools for the llama.cpp commit that
 * node-llama-cpp bundles: `${BENCH_TOOLS_DIR:-~/.cache/bench-tools}/llama.cpp-<commit12>-<flags>/bin`. A
 * minimal locator for the benchmarks; a missing build is a reason to give, not an error.
 * @module
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export type LlamaCppTool =
  | { found: true; path: string; binDir: string; commit: string }
  | { found: false; reason: string }

/** The llama.cpp commit of node-llama-cpp's bundled source (HEAD of gitRelease.bundle). */
export function bundledLlamaCppCommit(root: string): string | undefined {
  try {
    const heads = execFileSync(
      'git',
      ['bundle', 'list-heads', join(root, 'node_modules/node-llama-cpp/llama/gitRelease.bundle')],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    )
    const line = heads.split('\n').find((l) => l.endsWith(' HEAD')) ?? heads.split('\n')[0]
    return line?.split(' ')[0] || undefined
  } catch {
    return undefined
  }
}

export function findLlamaCppTool(root: string, tool: string): LlamaCppTool {
  const commit = bundledLlamaCppCommit(root)
  if (commit === undefined)
    return { found: false, reason: "node-llama-cpp's llama.cpp bundle has no HEAD (npm install first)" }
  const cache = process.env.BENCH_TOOLS_DIR ?? join(homedir(), '.cache/bench-tools')
  const prefix = `llama.cpp-${commit.slice(0, 12)}-`
  const dirs = existsSync(cache) ? readdirSync(cache).filter((d) => d.startsWith(prefix)) : []
  for (const d of dirs.sort()) {
    const path = join(cache, d, 'bin', tool)
    if (existsSync(path)) return { found: true, path, binDir: join(cache, d, 'bin'), commit }
  }
  return {
    found: false,
    reason: `no ${tool} for llama.cpp ${commit.slice(0, 12)} under ${cache} (build it: test/real-server/build-llama-cpp.sh, ~11 min of CPU)`,
  }
}
