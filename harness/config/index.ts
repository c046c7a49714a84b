/**
 * defineScenario (typed authoring), parseScenario (validation reporting every problem at once with its
 * path and a fix) and loadScenario (.ts or .json files).
 * @module
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { z } from 'zod'
import { canonicalJson } from '../canonical-json.ts'
import { type ConfigIssue, ScenarioError } from '../errors.ts'
import { type Scenario, type ScenarioInput, scenarioSchema } from './schema.ts'

export * from './schema.ts'

/** Typed identity: lets a scenario file be checked by the compiler. Validation happens at load. */
export function defineScenario(scenario: ScenarioInput): ScenarioInput {
  return scenario
}

/** Renders a path like `targets[0].engine.model`. */
export function formatPath(p: readonly PropertyKey[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('')
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  const s = JSON.stringify(value)
  return s === undefined ? String(value) : s.length > 40 ? `${s.slice(0, 37)}...` : s
}

/** "a string", "an array", "an object": zod's expected type with its article. */
const aType = (expected: string) => `${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`

/** One readable sentence per zod issue: what is wrong and how to fix it. */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  return issues.flatMap((issue): ConfigIssue[] => {
    const at = formatPath(issue.path)
    const input = (issue as { input?: unknown }).input
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((k) => ({
          path: formatPath([...issue.path, k]),
          message: `unknown field "${k}"; remove it or check its spelling`,
        }))
      case 'invalid_union':
        if ('discriminator' in issue && issue.discriminator) {
          const options = (issue as { options?: unknown[] }).options ?? []
          const value =
            input && typeof input === 'object'
              ? (input as Record<string, unknown>)[issue.discriminator]
              : input
          return [
            {
              path: at,
              message: `unknown ${issue.discriminator} ${describe(value)}; use one of ${options.map((o) => `"${String(o)}"`).join(', ')}`,
            },
          ]
        }
        return [{ path: at, message: issue.message }]
      case 'invalid_type':
        if (input === undefined) return [{ path: at, message: `required: add ${aType(issue.expected)}` }]
        return [{ path: at, message: `expected ${aType(issue.expected)}, got ${describe(input)}` }]
      case 'too_small':
      case 'too_big': {
        const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum
        const cmp = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<'
        if (issue.origin === 'array')
          return [
            {
              path: at,
              message: issue.message.startsWith('Too')
                ? `needs ${cmp} ${String(bound)} entries`
                : issue.message,
            },
          ]
        return [{ path: at, message: `must be ${cmp} ${String(bound)}, got ${describe(input)}` }]
      }
      default:
        return [
          {
            path: at,
            message: input === undefined ? issue.message : `${issue.message} (got ${describe(input)})`,
          },
        ]
    }
  })
}

/** Validates a scenario object; throws ScenarioError listing every problem. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(input, { reportInput: true })
  if (!result.success) throw new ScenarioError(source, toConfigIssues(result.error.issues))
  return result.data
}

/**
 * Stable hash of what a scenario asks of every target (prompts, loads, sampling, limits): part of the
 * comparability fingerprint. Targets and the description are left out, so adding a target to a scenario
 * keeps the history of the others; each target's engine enters the fingerprint on its own. maxErrorRate is
 * left out too: it judges a run's measurements, it does not change them. So are `measure` and `accuracy`:
 * an accuracy run beside the loads changes no latency figure, and an accuracy run's own fingerprint has
 * its evaluation in its load (AccuracySpec: dataset, items by content, shots, scoring). `quality` likewise
 * (a quality run's own hash is that of its QualitySpec). `serverMetrics` too: reading the server's /metrics
 * changes no figure of the client's.
 */
export function scenarioHash(scenario: Scenario): string {
  const {
    targets: _targets,
    description: _description,
    maxErrorRate: _maxErrorRate,
    serverMetrics: _serverMetrics,
    measure: _measure,
    accuracy: _accuracy,
    quality: _quality,
    ...workload
  } = scenario
  return createHash('sha256').update(canonicalJson(workload)).digest('hex').slice(0, 16)
}

export interface LoadedScenario {
  scenario: Scenario
  /** Absolute path of the file it came from. */
  file: string
}

/**
 * Loads a .ts/.js/.mjs (default export) or .json scenario file and validates it.
 *
 * Code files go through tsx's tsImport (a loader scoped to this import), not a bare import(): outside the
 * repo no package.json says "type": "module", so tsx compiles a .ts file to CommonJS, and with tsx
 * registered globally Node 20 then fails it with "Cannot require() ES Module … in a cycle" — valid file or
 * not. Through tsImport it loads (its exports under a CommonJS wrapper, unwrapped here) and a syntax error
 * is esbuild's, shown as `file:line:column: message`.
 */
export async function loadScenario(file: string): Promise<LoadedScenario> {
  const abs = path.resolve(file)
  if (!existsSync(abs))
    throw new ScenarioError(file, [{ path: '', message: 'cannot read the scenario: file not found' }])
  let raw: unknown
  try {
    if (abs.endsWith('.json')) raw = JSON.parse(await readFile(abs, 'utf8'))
    else raw = await importDefault(abs)
  } catch (err) {
    const syntax = syntaxErrors(err)
    if (syntax.length > 0)
      throw new ScenarioError(
        file,
        syntax.map((message) => ({ path: '', message: `syntax error: ${message}` })),
      )
    throw new ScenarioError(file, [
      { path: '', message: `cannot read the scenario: ${(err as Error).message}` },
    ])
  }
  if (raw === undefined)
    throw new ScenarioError(file, [
      { path: '', message: 'the file has no default export; write `export default defineScenario({...})`' },
    ])
  return { scenario: parseScenario(raw, file), file: abs }
}

/** The default export of a code file, through tsx (imported only here: JSON scenarios never load it). */
async function importDefault(abs: string): Promise<unknown> {
  const { tsImport } = await import('tsx/esm/api')
  const ns = (await tsImport(pathToFileURL(abs).href, import.meta.url)) as { default?: unknown }
  // A file tsx compiled to CommonJS arrives as { default: module.exports }, its own default inside.
  const exported = ns.default as { __esModule?: unknown; default?: unknown } | undefined
  return exported !== null && typeof exported === 'object' && exported.__esModule === true
    ? exported.default
    : exported
}

/**
 * esbuild's syntax errors as `file:line:column: message`, one per error; empty for any other error.
 * tsx throws them as one Error whose message lists `file:line:column: ERROR: message` lines.
 */
function syntaxErrors(err: unknown): string[] {
  const message = err instanceof Error ? err.message : ''
  if (!message.startsWith('Transform failed')) return []
  // esbuild counts columns from 0; editors and tsc from 1.
  return [...message.matchAll(/^(.+?):(\d+):(\d+): ERROR: (.+)$/gm)].map(
    (m) => `${m[1]}:${m[2]}:${Number(m[3]) + 1}: ${m[4]}`,
  )
}
