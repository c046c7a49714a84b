// Is the compiled CLI (harness/cli/build.mjs) still what the sources say? Plain JavaScript, because
// bench.mjs asks before anything TypeScript can load. Cost: one stat per source (~220, a few ms).

import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'

/** Bumped when the build's shape changes, so a build made by an older build.mjs is never run. */
export const BUILD_FORMAT = 1
export const MANIFEST = 'manifest.json'

/**
 * The build's entry file when every source it was made from still has the mtime and size recorded in its
 * manifest; else why not (a missing build, a changed, moved or deleted source).
 * @param {string} outDir
 * @returns {{ entry: string } | { stale: string }}
 */
export function freshBuild(outDir) {
  let manifest
  try {
    manifest = JSON.parse(readFileSync(path.join(outDir, MANIFEST), 'utf8'))
  } catch {
    return { stale: `no build in ${outDir} (npm run build:cli makes one)` }
  }
  if (manifest?.format !== BUILD_FORMAT || typeof manifest.files !== 'object')
    return { stale: `the build in ${outDir} is of another format` }
  const root = path.resolve(outDir, manifest.root)
  for (const [file, [mtimeMs, size]] of Object.entries(manifest.files)) {
    let s
    try {
      s = statSync(path.join(root, file))
    } catch {
      return { stale: `${file} is gone` }
    }
    // Any difference, not only a newer file: a checkout of an older commit changes mtimes backwards.
    if (s.mtimeMs !== mtimeMs || s.size !== size) return { stale: `${file} changed since the build` }
  }
  return { entry: path.join(outDir, manifest.entry) }
}
