#!/usr/bin/env node
// Compiles the `bench` CLI once (esbuild, the one tsx ships) into node_modules/.cache/bench, so a start runs
// plain JavaScript instead of tsx compiling every module. Run by `npm install` / `npm ci` (the `prepare`
// script) and by `npm run build:cli`. bench.mjs runs the build only while harness/cli/fresh-build.mjs finds
// every source it was made from unchanged (mtime and size in the manifest); else it runs the sources with tsx
// as before, so an edit never needs a rebuild to take effect.
//
// One ESM bundle split per dynamic import (each command's heavy part is its own chunk, loaded when the
// command runs); packages stay external (native addons, node_modules as installed). `import.meta.url` in a
// source is rewritten to that source's own URL, so the files it locates beside itself (migrations, public
// assets, fixtures, scenarios) are found where they are in the checkout. A worker thread or child process
// started from a tsx shim (`new URL('./x-entry.mjs', import.meta.url)` whose file registers tsx and imports
// './x-main.ts') starts that module's build instead, so it too runs without tsx.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BUILD_FORMAT, MANIFEST } from './fresh-build.mjs'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Where the build lives: inside node_modules, so it is never committed and `npm ci` starts afresh. */
export const DEFAULT_OUT_DIR = path.join(ROOT, 'node_modules', '.cache', 'bench')
const SELF = fileURLToPath(import.meta.url)

/** esbuild as tsx resolves it (tsx depends on it; not a direct dependency of ours). */
function loadEsbuild() {
  const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'))
  return fromTsx('esbuild')
}

/**
 * Builds `entry` (relative to `root`) into `outDir` and writes its manifest. The new build replaces the old
 * one only when complete (built beside it, then renamed), so a `bench` starting meanwhile sees either.
 * @returns {{ outDir: string, inputs: number, ms: number }}
 */
export async function buildCli({
  root = ROOT,
  entry = 'harness/cli/main.ts',
  outDir = DEFAULT_OUT_DIR,
} = {}) {
  const started = performance.now()
  const esbuild = loadEsbuild()
  const staging = `${outDir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(path.dirname(outDir), { recursive: true })
  try {
    const shims = findTsxShims(root)
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: { main: entry, ...Object.fromEntries([...shims.values()].map((s) => [s.name, s.target])) },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outdir: staging,
      outExtension: { '.js': '.mjs' },
      chunkNames: '[name]-[hash]',
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'warning',
      plugins: [ownImportMetaUrl(outDir, shims)],
    })
    const inputs = Object.keys(result.metafile.inputs).map((rel) => path.resolve(root, rel))
    inputs.push(...shims.keys())
    if (path.resolve(SELF).startsWith(path.resolve(root) + path.sep)) inputs.push(SELF)
    const files = {}
    for (const file of inputs) {
      const s = statSync(file)
      files[path.relative(root, file).split(path.sep).join('/')] = [s.mtimeMs, s.size]
    }
    writeFileSync(
      path.join(staging, MANIFEST),
      `${JSON.stringify({ format: BUILD_FORMAT, entry: 'main.mjs', root: path.relative(outDir, root), files }, null, 1)}\n`,
    )
    const old = `${outDir}.old-${process.pid}`
    rmSync(old, { recursive: true, force: true })
    try {
      renameSync(outDir, old)
    } catch (err) {
      if (err.code !== 'ENOENT') throw err
    }
    renameSync(staging, outDir)
    rmSync(old, { recursive: true, force: true })
    return { outDir, inputs: inputs.length, ms: performance.now() - started }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

/** Folders whose sources the CLI reaches (the shim scan looks only there). */
const SOURCE_DIRS = ['harness', 'db', 'dashboard']
const SHIM_REF = /new URL\((['"])(\.{1,2}\/[\w./-]+\.mjs)\1, import\.meta\.url\)/g
const SHIM_BODY = /from 'tsx\/esm\/api'[\s\S]*?register\(\)[\s\S]*?await import\('(\.\/[\w./-]+\.ts)'\)/

/**
 * tsx shims the sources start as workers or children: shim file → { name of its build entry, the module it
 * imports }. Found by reading every `new URL('./….mjs', import.meta.url)` in harness/, db/, dashboard/.
 */
function findTsxShims(root) {
  const shims = new Map()
  const visit = (dir) => {
    for (const item of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, item.name)
      if (item.isDirectory()) {
        if (item.name !== 'node_modules') visit(file)
        continue
      }
      if (!/\.[cm]?ts$/.test(item.name)) continue
      for (const [, , ref] of readFileSync(file, 'utf8').matchAll(SHIM_REF)) {
        const shim = path.resolve(dir, ref)
        if (shims.has(shim)) continue
        let body
        try {
          body = readFileSync(shim, 'utf8')
        } catch {
          continue
        }
        const target = SHIM_BODY.exec(body)?.[1]
        if (!target) continue
        const rel = path.relative(root, path.resolve(path.dirname(shim), target))
        shims.set(shim, { name: rel.replace(/\.[cm]?ts$/, '').replace(/[\\/]/g, '__'), target: rel })
      }
    }
  }
  for (const dir of SOURCE_DIRS) {
    try {
      visit(path.join(root, dir))
    } catch (err) {
      if (err.code !== 'ENOENT') throw err
    }
  }
  return shims
}

/**
 * esbuild plugin: each source's `import.meta.url` → its own file's URL, written relative to the build, and
 * a reference to a tsx shim → the build of the module the shim imports.
 */
function ownImportMetaUrl(outDir, shims) {
  return {
    name: 'own-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined
        const source = readFileSync(args.path, 'utf8')
        const loader = /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js'
        if (!source.includes('import.meta.url')) return { contents: source, loader }
        // The entry and every chunk sit in outDir itself, so one relative path serves whichever holds the code.
        const fromOut = path.relative(outDir, args.path).split(path.sep).join('/')
        const own = `new URL(${JSON.stringify(fromOut)}, import.meta.url).href`
        const OUTPUT_URL = '\0bench-output-url\0'
        const contents = source
          .replace(SHIM_REF, (ref, _quote, rel) => {
            const shim = shims.get(path.resolve(path.dirname(args.path), rel))
            return shim ? `new URL(${JSON.stringify(`./${shim.name}.mjs`)}, ${OUTPUT_URL})` : ref
          })
          .replaceAll('import.meta.url', own)
          .replaceAll(OUTPUT_URL, 'import.meta.url')
        return { contents, loader, resolveDir: path.dirname(args.path) }
      })
    },
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  try {
    const { outDir, inputs, ms } = await buildCli()
    process.stderr.write(
      `bench build: ${inputs} sources → ${path.relative(process.cwd(), outDir) || '.'} (${ms.toFixed(0)} ms)\n`,
    )
  } catch (err) {
    // A failed build must not fail `npm install`: bench.mjs then runs the sources with tsx, as before.
    process.stderr.write(`bench build failed (bench will run the sources with tsx): ${err.message}\n`)
  }
}
