/**
 * db/figures is pure: it imports no database code (drivers, drizzle, the schema, db/ modules outside it)
 * and nothing with I/O, so every figure can be tested with numbers alone, as the files beside this do.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const FIGURES = path.resolve(import.meta.dirname, '../../../db/figures')
const ROOT = path.resolve(FIGURES, '../..')
/** `from '…'`, a bare `import '…'` and `import('…')`. */
const SPECIFIER = /\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g
/** Pure modules outside db/figures it may use: the harness's statistics and the types of its results. */
const ALLOWED = ['harness/metrics/', 'harness/results.ts']

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(SPECIFIER)].map((m) => m[1] as string)
}

describe('db/figures', () => {
  const files = readdirSync(FIGURES).filter((f) => f.endsWith('.ts'))

  it('has modules to check', () => {
    expect(files.length, 'modules').toBeGreaterThanOrEqual(5)
  })

  it.each(files)('%s imports only db/figures and pure harness modules', (name) => {
    const file = path.join(FIGURES, name)
    const bad = importsOf(file).filter((spec) => {
      if (!spec.startsWith('.')) return true // packages and node: builtins: drizzle, postgres, fs …
      const target = path
        .relative(ROOT, path.resolve(path.dirname(file), spec))
        .split(path.sep)
        .join('/')
      return !target.startsWith('db/figures/') && !ALLOWED.some((a) => target.startsWith(a))
    })
    expect(bad, `${name}: imports outside db/figures and ${ALLOWED.join(', ')}`).toEqual([])
  })
})
