/**
 * What the llama-cpp and onnx definitions share about a target: the `isolate` field, model paths resolved
 * like CLI arguments, and create() → an isolated (default) or in-process engine with the variant a fixture
 * manifest beside the model gives.
 * @module
 */
import { statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import {
  type FixtureManifest,
  readFixtureIndex,
  readManifestFor,
  toVariantIdentity,
} from '../../fixtures/manifest.ts'
import type { VariantIdentity } from '../../results.ts'
import type { CreatedEngine, IsolateSupport } from '../definition.ts'

/**
 * The `isolate` config field of every native engine: run the engine in a child process (a crash becomes a
 * `crash` outcome; memory is measured). false = in the harness's process. @default true
 */
export const isolateField = z.boolean().optional()

/** A model path as the engine gets it: relative paths resolve against the working directory, like CLI arguments. */
export function modelFile(path: string): string {
  return resolve(path)
}

/**
 * The engine for a native target: in a child process (isolate/) unless the config says `isolate: false`.
 * Its config is stored as is (no secrets), its variant read from a fixture manifest beside the model.
 */
export async function createNative<Options>(
  kind: string,
  isolate: IsolateSupport<Options>,
  config: { isolate?: boolean | undefined },
  options: Options,
): Promise<CreatedEngine> {
  const engine =
    config.isolate === false
      ? await isolate.load(options)
      : (await import('../isolate/isolated-engine.ts')).createIsolatedEngine({ kind, options })
  const variant = fixtureVariant(isolate.modelPath(options))
  return {
    engine,
    storedOptions: { ...config },
    ...(variant ? { variant } : {}),
    dispose: async () => await engine[Symbol.asyncDispose](),
  }
}

/**
 * The variant of a fixture model from the manifest beside it; undefined without one, or when the file's size
 * is not the manifest's (the file was replaced: a stale manifest must not label a run). Size, not sha256:
 * hashing an 85 MB model on every run costs more than the check is worth.
 */
function fixtureVariant(modelPath: string): VariantIdentity | undefined {
  const manifest = readManifestFor(modelPath)
  if (!manifest) return undefined
  const size = statSync(modelPath, { throwIfNoEntry: false })?.size
  if (size !== manifest.sizeBytes) return undefined
  let all: FixtureManifest[] = [manifest]
  try {
    all = readFixtureIndex(dirname(modelPath)).variants
  } catch {
    // No folder index: the variant without its parent chain.
  }
  return toVariantIdentity(manifest, all)
}
