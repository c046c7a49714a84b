/**
 * Baseline (or candidate) values from a file, so the gate works with no database: either
 * `{ "metrics": { "outputTokensPerS": [812.4, 799.1, …] } }` (a number also counts as one value), or
 * `bench export` JSON of one run (`metrics` as `[{ name, value }]`), or an array of either (one point per
 * element, oldest first).
 * @module
 */
import { readFile } from 'node:fs/promises'
import { HarnessError } from '../../harness/errors.ts'

export async function readValuesFile(file: string): Promise<Map<string, number[]>> {
  let doc: unknown
  try {
    doc = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new HarnessError(`cannot read values file ${file}: ${(err as Error).message}`)
  }
  return parseValues(doc, file)
}

function parseValues(doc: unknown, source = 'values'): Map<string, number[]> {
  const out = new Map<string, number[]>()
  const add = (name: string, v: unknown) => {
    const values = (Array.isArray(v) ? v : [v]).filter((x): x is number => typeof x === 'number')
    out.set(name, [...(out.get(name) ?? []), ...values])
  }
  const one = (d: unknown) => {
    const metrics = (d as { metrics?: unknown } | null)?.metrics
    if (Array.isArray(metrics)) {
      for (const m of metrics) {
        const { name, value } = (m ?? {}) as { name?: unknown; value?: unknown }
        if (typeof name === 'string') add(name, value)
      }
    } else if (metrics !== null && typeof metrics === 'object') {
      for (const [name, v] of Object.entries(metrics)) add(name, v)
    } else {
      throw new HarnessError(
        `${source}: expected {"metrics": {name: [values]}} or bench export JSON (an object with "metrics")`,
      )
    }
  }
  if (Array.isArray(doc)) for (const d of doc) one(d)
  else one(doc)
  return out
}
