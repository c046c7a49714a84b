/**
 * What an engine folder exports: ONE EngineDefinition (kind, config schema, variant format, capabilities,
 * create(), whether it can run in a child process). registry.ts lists them; the scenario schema, the runner
 * and the isolate child read everything kind-specific from here. A definition module must stay light (zod
 * and metadata): create() imports the engine itself, so a run loads only the engines it uses.
 * @module
 */
import type { z } from 'zod'
import type { VariantIdentity } from '../results.ts'
import type { Engine, EngineCapabilities } from './engine.ts'

/** How a target's model is stored, for its VariantIdentity: a served model, a GGUF file, an ONNX export. */
export type VariantFormat = VariantIdentity['format']

/** What create() gets besides the validated config. */
export interface EngineEnvironment {
  /** Where an API key is read from, by the NAME the config gives (the key never leaves create()). */
  env: NodeJS.ProcessEnv
  /**
   * The base URL of a server the runner started for this target (a `mock:` target's mock server), used
   * instead of the config's baseUrl. Only for definitions with `acceptsMock`.
   */
  baseUrl?: string
}

export interface CreatedEngine {
  engine: Engine
  /** Engine options as they may be stored: no secrets. */
  storedOptions: Record<string, unknown>
  /** The model variant when the engine can tell (a fixture's manifest). */
  variant?: VariantIdentity
  /** Stops what create() started. */
  dispose(): Promise<void>
}

/** A config schema: a strict zod object whose `kind` is the engine's literal. */
export type EngineConfigSchema<K extends string = string> = z.ZodObject<
  { kind: z.ZodLiteral<K> } & z.ZodRawShape
>

/** What an isolated child needs from a definition (isolate/). */
export interface IsolateSupport<Options> {
  /**
   * URL of a module that exports this definition (the definition file's `import.meta.url`). The child finds
   * a built-in kind in its own registry; a kind registered at run time (registerEngine) is found by
   * importing this module and taking the exported definition of that kind.
   */
  module: string
  /** The in-process engine (in the child, or in the harness's process with `isolate: false`). */
  load(options: Options): Promise<Engine>
  /** The model file: its name in info and errors, its size in memory(). */
  modelPath(options: Options): string
  /** CPUs the child is pinned to (Linux taskset) before it loads. @default unpinned */
  cpus?(options: Options): readonly number[] | undefined
  /** Variables added to the child's environment, each unless the harness's environment already sets it. */
  childEnv?(options: Options): Record<string, string>
}

export interface EngineDefinition<
  K extends string = string,
  S extends EngineConfigSchema<K> = EngineConfigSchema<K>,
  Options = unknown,
> {
  readonly kind: K
  /**
   * The `engine: {...}` object of a target, `.strict()` (an unknown field is an error naming it).
   * config/schema.ts builds the scenario's engine field from every registered definition's schema.
   */
  readonly schema: S
  /** How a target of this kind stores its model (VariantIdentity.format of a declared `variant`). */
  readonly variantFormat: VariantFormat
  /**
   * What an engine of this kind can do at most (the started engine's info.capabilities says what this
   * one does), `nativeSpeed`: whether a target may ask for llama-bench-style pp / tg, and `micro`: whether
   * a scenario may run micro loads on it (engine.micro(); harness/micro/README.md; absent = false).
   */
  readonly capabilities: EngineCapabilities & { nativeSpeed: boolean; micro?: boolean }
  /**
   * The engine speaks the OpenAI wire and takes a `baseUrl`: a target may give `mock: {...}` instead, and
   * the runner starts the built-in mock server and hands create() its URL (EngineEnvironment.baseUrl).
   */
  readonly acceptsMock?: boolean
  /**
   * Environment variables the config names that must be set, with the config field that names each: the
   * runner checks every target's before the first one starts (`targets[i].engine.<field>: … not set`).
   */
  requiredEnv?(config: z.output<S>): { field: string; variable: string }[]
  /** The engine for a validated config (not started). Imports the engine's module here, not at the top. */
  create(config: z.output<S>, environment: EngineEnvironment): Promise<CreatedEngine>
  /** Present when the engine can run in a child process (isolate/): then a config's `isolate` says whether. */
  readonly isolate?: IsolateSupport<Options>
}

/** The config a definition validates (its schema's output). */
export type ConfigOf<D> = D extends EngineDefinition<string, infer S> ? z.output<S> : never
/** What a scenario file may write for a definition (defaults optional). */
export type ConfigInputOf<D> = D extends EngineDefinition<string, infer S> ? z.input<S> : never

/**
 * Typed identity: checks a definition's create() against its own schema, and keeps `acceptsMock: true` in
 * the type (harness/config then types the target's `mock` field).
 */
export function defineEngine<
  K extends string,
  S extends EngineConfigSchema<K>,
  Options = never,
  const M extends boolean = false,
>(
  definition: EngineDefinition<K, S, Options> & { readonly acceptsMock?: M },
): EngineDefinition<K, S, Options> & { readonly acceptsMock?: M } {
  return definition
}
