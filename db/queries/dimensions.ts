/**
 * What makes two runs comparable or not, in words. A run's fingerprint hashes its model, engine (kind,
 * version, options), scenario, load and environment; when two fingerprints differ, these are the
 * dimensions to look at, and `differingDimensions` names the ones that actually differ so a leaderboard
 * row or a refused comparison can say "load: concurrent 4 vs concurrent 16" instead of two hashes.
 * @module
 */
import { describeMicro } from '../../harness/micro/task.ts'
import type { MicroSpec } from '../../harness/results.ts'
import { canonicalJson } from '../identity.ts'
import { environments, runs, variants } from '../schema.ts'

/** The columns dimensions are read from (runs joined with variants and environments). */
export interface DimensionSource {
  engineKind: string
  engineVersion: string | null
  engineModel: string
  engineOptions: Record<string, unknown>
  load: unknown
  scenarioHash: string
  environmentHash: string | null
  cpuModel: string | null
  cores: number | null
  variantName: string | null
  quantLabel: string | null
  variantSha256: string | null
}

/** The select() columns of a DimensionSource: runs left-joined with environments and variants. */
export const dimensionColumns = {
  engineKind: runs.engineKind,
  engineVersion: runs.engineVersion,
  engineModel: runs.engineModel,
  engineOptions: runs.engineOptions,
  load: runs.load,
  scenarioHash: runs.scenarioHash,
  environmentHash: environments.hash,
  cpuModel: environments.cpuModel,
  cores: environments.cores,
  variantName: variants.name,
  quantLabel: variants.quantLabel,
  variantSha256: variants.sha256,
}

export type Dimension = 'model' | 'engine' | 'options' | 'load' | 'scenario' | 'environment'

/** Dimension → display value, in a fixed order. Engine options are one entry per option (`options.api`). */
export function runDimensions(s: DimensionSource): Map<string, string> {
  const dims = new Map<string, string>()
  const variant = [s.variantName, s.quantLabel].filter((v) => v !== null).join(' ')
  dims.set(
    'model',
    variant ? `${variant}${s.variantSha256 ? ` (${s.variantSha256.slice(0, 8)})` : ''}` : s.engineModel,
  )
  dims.set('engine', s.engineVersion ? `${s.engineKind} ${s.engineVersion}` : s.engineKind)
  for (const key of Object.keys(s.engineOptions).sort())
    dims.set(`options.${key}`, displayValue(s.engineOptions[key]))
  dims.set('load', describeStoredLoad(s.load))
  dims.set('scenario', `scenario ${s.scenarioHash.slice(0, 8)}`)
  dims.set(
    'environment',
    s.environmentHash === null
      ? 'unknown environment'
      : `${s.cpuModel ?? '?'} ×${s.cores ?? '?'} (${s.environmentHash.slice(0, 8)})`,
  )
  return dims
}

/**
 * For each of several runs, the dimensions whose value is not the same across all of them, as
 * `name: value` parts; an empty list for every run when they agree on everything shown.
 */
export function differingDimensions(sources: readonly DimensionSource[]): string[][] {
  const all = sources.map(runDimensions)
  const keys = [...new Set(all.flatMap((d) => [...d.keys()]))]
  const differing = keys.filter((k) => new Set(all.map((d) => d.get(k) ?? '(unset)')).size > 1)
  return all.map((d) => differing.map((k) => `${k}: ${d.get(k) ?? '(unset)'}`))
}

/**
 * A stored load spec in words (`concurrent 4`, `poisson 2/s γ=0.5`, `trace t.jsonl ×10`, `llama-bench pp64 tg32`,
 * `accuracy loglik 5-shot 40 items`, `quality vs f32 2048 tokens, ctx 512`).
 */
export function describeStoredLoad(load: unknown): string {
  if (load === null || typeof load !== 'object') return displayValue(load)
  const l = load as Record<string, unknown>
  switch (l.kind) {
    case 'sequential':
      return 'sequential'
    case 'concurrent':
      return typeof l.rampUpMs === 'number' && l.rampUpMs > 0
        ? `concurrent ${displayValue(l.concurrency)} ramp ${l.rampUpMs}ms`
        : `concurrent ${displayValue(l.concurrency)}`
    case 'constant-rate':
      return `constant-rate ${displayValue(l.ratePerS)}/s`
    case 'poisson': {
      const gamma = typeof l.burstiness === 'number' ? l.burstiness : 1
      return `poisson ${displayValue(l.ratePerS)}/s${gamma === 1 ? '' : ` γ=${gamma}`}`
    }
    // A trace replay as describeLoad says it (harness/load/expand.ts): the file's name and the speed-up.
    case 'trace':
      return `trace ${displayValue(l.path).split(/[\\/]/).at(-1)} ×${displayValue(l.timeScale)}`
    // Accuracy and quality runs in the words `bench run` prints them (harness/cli/describe-run.ts), not
    // as their spec's JSON (a 300-character label that widened every page it was shown on).
    case 'accuracy':
      return `accuracy ${displayValue(l.scoring)} ${displayValue(l.shots)}-shot ${displayValue(l.items)} items`
    case 'quality':
      return `quality vs ${displayValue(l.reference)} ${displayValue(l.maxTokens)} tokens, ctx ${displayValue(l.contextTokens)}`
    case 'checklist':
      return `checklist at concurrency ${displayValue(l.concurrency)}`
    // A micro run as `bench run` prints it (harness/micro/task.ts): `micro tokenize-1000, forward-128`.
    case 'micro':
      return Array.isArray(l.tasks) ? describeMicro(l as unknown as MicroSpec) : 'micro'
    // `bench load` (harness/http-load/spec.ts describeHttpLoad says it the same way).
    case 'http-load':
      return `http-load ${displayValue(l.endpoint)} ${typeof l.ratePerS === 'number' ? `${l.ratePerS}/s` : `${displayValue(l.connections)} conn`}`
    case 'llama-bench':
      return Array.isArray(l.tests)
        ? `llama-bench ${l.tests.map((t) => (t as { test?: unknown }).test).join(' ')}`
        : 'llama-bench'
    default:
      return canonicalJson(load)
  }
}

function displayValue(v: unknown): string {
  return typeof v === 'string' ? v : (canonicalJson(v) ?? 'undefined')
}
