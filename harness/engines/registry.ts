/**
 * The engine registry: every engine kind the harness knows, one definition per engine folder
 * (definition.ts). The scenario schema (harness/config/schema.ts), the runner and the isolate child look a
 * kind up here instead of switching on it. BUILTIN_ENGINES is a tuple, so the built-in config types are
 * derived from it (a kind added here is part of EngineConfig; one removed fails to type-check wherever it
 * is named). registerEngine() adds a kind at run time (a plugin, a test) without editing this file.
 * Importing this module loads the definitions only (zod schemas): each create() imports its engine.
 * @module
 */
import { HarnessError } from '../errors.ts'
import type { EngineDefinition } from './definition.ts'
import { llamaCppEngine } from './llama-cpp/definition.ts'
import { onnxEngine } from './onnx/definition.ts'
import { openaiEngine } from './openai/definition.ts'

/** The engines this repository ships, in the order the scenario schema lists them. */
export const BUILTIN_ENGINES = [openaiEngine, llamaCppEngine, onnxEngine] as const

export type BuiltinEngine = (typeof BUILTIN_ENGINES)[number]
export type BuiltinEngineKind = BuiltinEngine['kind']

// biome-ignore lint/suspicious/noExplicitAny: a registry holds definitions of every config type.
type AnyDefinition = EngineDefinition<string, any, any>

const registered = new Map<string, AnyDefinition>(BUILTIN_ENGINES.map((d) => [d.kind, d]))
let version = 0

/**
 * Adds an engine kind. Scenarios validated afterwards accept `engine: { kind, … }` by its schema, the
 * runner creates it, and an isolated child finds it through `definition.isolate.module`. Throws when the
 * kind is taken (a built-in cannot be replaced).
 */
export function registerEngine(definition: AnyDefinition): void {
  if (registered.has(definition.kind))
    throw new Error(`engine kind "${definition.kind}" is already registered; choose another kind`)
  registered.set(definition.kind, definition)
  version++
}

/** The definition of a kind, or undefined when no engine of that kind is registered. */
export function engineDefinition(kind: string): AnyDefinition | undefined {
  return registered.get(kind)
}

/**
 * The definition of a kind, or a HarnessError naming the registered kinds: for code past config validation
 * (the runner, the isolate host), where an unknown kind means registerEngine() was not called in this process.
 */
export function requireEngineDefinition(kind: string): AnyDefinition {
  const definition = registered.get(kind)
  if (definition === undefined)
    throw new HarnessError(
      `unknown engine kind "${kind}"; registered kinds: ${[...registered.keys()].join(', ')}`,
    )
  return definition
}

/** Every registered definition: the built-ins first, then registerEngine()'s in their order. */
export function engineDefinitions(): readonly AnyDefinition[] {
  return [...registered.values()]
}

/** Changes whenever registerEngine() adds a kind (lets the scenario schema rebuild its union once). */
export function registryVersion(): number {
  return version
}
