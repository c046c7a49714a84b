#!/usr/bin/env node
// Entry point of the `bench` CLI. Runs the compiled build (node_modules/.cache/bench, made by
// harness/cli/build.mjs on `npm install`) while it matches the sources; else registers tsx and runs the
// TypeScript sources as they are, so an edit takes effect without a rebuild. BENCH_BUILD=0 forces the
// sources; BENCH_BUILD_DIR runs a build kept elsewhere (tests); BENCH_DEBUG=1 says on stderr which one runs
// and why.
import { fileURLToPath, pathToFileURL } from 'node:url'
import { freshBuild } from './fresh-build.mjs'

const OUT_DIR =
  process.env.BENCH_BUILD_DIR || fileURLToPath(new URL('../../node_modules/.cache/bench', import.meta.url))
const debug = process.env.BENCH_DEBUG === '1'
const build = process.env.BENCH_BUILD === '0' ? { stale: 'BENCH_BUILD=0' } : freshBuild(OUT_DIR)

if ('entry' in build) {
  if (debug) {
    process.setSourceMapsEnabled(true)
    process.stderr.write(`bench: running the build ${build.entry}\n`)
  }
  await import(pathToFileURL(build.entry).href)
} else {
  if (debug) process.stderr.write(`bench: running the sources with tsx (${build.stale})\n`)
  const { register } = await import('tsx/esm/api')
  register()
  await import('./main.ts')
}
