/**
 * createEngine(target): the registry from a validated engine config to a started-able Engine. Resolves the
 * API key from the environment variable NAMED in the scenario (the value never leaves this function except
 * inside the engine's Authorization header), and starts the built-in mock server for `mock` targets.
 * Native targets (llama-cpp, onnx) resolve a relative model path against process.cwd(), like a CLI argument,
 * and store their config unchanged as the engine options. They run in a child process (isolate/) unless
 * the config says `isolate: false`. A fixture's `<file>.manifest.json` beside the model gives the variant
 * (with its parent chain from the folder's manifest.json), when its recorded size matches the file.
 * @module
 */
import { statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { EngineConfig } from '../config/schema.ts'
import { HarnessError } from '../errors.ts'
import {
  type FixtureManifest,
  readFixtureIndex,
  readManifestFor,
  toVariantIdentity,
} from '../fixtures/manifest.ts'
import { startMockServerInWorker } from '../mock-server/worker.ts'
import type { VariantIdentity } from '../results.ts'
import type { Engine } from './engine.ts'
import { createIsolatedEngine } from './isolate/isolated-engine.ts'
import { createLlamaCppEngine, type LlamaCppEngineOptions } from './llama-cpp/llama-cpp.ts'
import { createOnnxEngine, type OnnxEngineOptions } from './onnx/onnx.ts'
import { createOpenAIEngine } from './openai/openai.ts'

export interface CreatedEngine {
  engine: Engine
  /** Engine options as they may be stored: no secrets. */
  storedOptions: Record<string, unknown>
  /** The model variant when the engine can tell (a fixture's manifest). */
  variant?: VariantIdentity
  /** Stops what createEngine started (the engine itself and, for mock targets, the mock server). */
  dispose(): Promise<void>
}

export async function createEngine(
  config: EngineConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CreatedEngine> {
  switch (config.kind) {
    case 'openai': {
      let apiKey: string | undefined
      if (config.apiKeyEnv !== undefined) {
        apiKey = env[config.apiKeyEnv]
        if (!apiKey)
          throw new HarnessError(
            `engine.apiKeyEnv names ${config.apiKeyEnv}, but that environment variable is empty; export it or remove apiKeyEnv`,
          )
      }
      const mock = config.mock ? await startMockServerInWorker(config.mock) : undefined
      const baseUrl = mock?.url ?? config.baseUrl
      if (baseUrl === undefined)
        throw new HarnessError('engine.baseUrl is required when no mock is configured')
      const engine = createOpenAIEngine({
        baseUrl,
        model: config.model,
        api: config.api,
        client: config.client,
        ...(apiKey !== undefined ? { apiKey } : {}),
        ...(config.headers ? { headers: config.headers } : {}),
        ...(config.extraBody ? { extraBody: config.extraBody } : {}),
        ...(config.sendTimeHeader ? { sendTimeHeader: true } : {}),
      })
      const { mock: mockOptions, ...rest } = config
      const storedOptions: Record<string, unknown> = {
        ...rest,
        ...(mockOptions ? { mock: stripSecret(mockOptions) } : {}),
      }
      return {
        engine,
        storedOptions,
        dispose: async () => {
          await engine[Symbol.asyncDispose]()
          await mock?.close()
        },
      }
    }
    case 'llama-cpp': {
      // Model paths resolve against the working directory (not the scenario file), like CLI arguments.
      const options: LlamaCppEngineOptions = {
        modelPath: resolve(config.model),
        ...(config.threads !== undefined ? { threads: config.threads } : {}),
        ...(config.gpuLayers !== undefined ? { gpuLayers: config.gpuLayers } : {}),
        ...(config.contextSize !== undefined ? { contextSize: config.contextSize } : {}),
        ...(config.batchSize !== undefined ? { batchSize: config.batchSize } : {}),
        ...(config.flashAttention !== undefined ? { flashAttention: config.flashAttention } : {}),
        ...(config.useMmap !== undefined ? { useMmap: config.useMmap } : {}),
        ...(config.useMlock !== undefined ? { useMlock: config.useMlock } : {}),
        ...(config.cpus !== undefined ? { cpus: config.cpus } : {}),
        ...(config.parallel !== undefined ? { parallel: config.parallel } : {}),
        ...(config.seed !== undefined ? { seed: config.seed } : {}),
      }
      const engine =
        config.isolate === false
          ? createLlamaCppEngine(options)
          : createIsolatedEngine({ kind: 'llama-cpp', options })
      return createdNative(engine, config, options.modelPath)
    }
    case 'onnx': {
      const options: OnnxEngineOptions = {
        modelPath: resolve(config.model),
        ...(config.tokenizer !== undefined
          ? { tokenizer: config.tokenizer === 'byte' ? 'byte' : resolve(config.tokenizer) }
          : {}),
        ...(config.executionProviders !== undefined ? { executionProviders: config.executionProviders } : {}),
        ...(config.intraOpNumThreads !== undefined ? { intraOpNumThreads: config.intraOpNumThreads } : {}),
        ...(config.useCache !== undefined ? { useCache: config.useCache } : {}),
        ...(config.seed !== undefined ? { seed: config.seed } : {}),
      }
      const engine =
        config.isolate === false ? createOnnxEngine(options) : createIsolatedEngine({ kind: 'onnx', options })
      return createdNative(engine, config, options.modelPath)
    }
    default: {
      const never: never = config
      throw new HarnessError(`unknown engine kind ${String((never as EngineConfig).kind)}`)
    }
  }
}

/** A native engine as created: its config stored as is, its variant from a fixture manifest beside the model. */
function createdNative(engine: Engine, config: EngineConfig, modelPath: string): CreatedEngine {
  const variant = fixtureVariant(modelPath)
  return {
    engine,
    storedOptions: { ...config },
    ...(variant ? { variant } : {}),
    dispose: async () => await engine[Symbol.asyncDispose](),
  }
}

function stripSecret<T extends { apiKey?: string | undefined }>(
  options: T,
): Omit<T, 'apiKey'> & { apiKey?: string } {
  const { apiKey, ...rest } = options
  return apiKey === undefined ? rest : { ...rest, apiKey: '[redacted]' }
}

/**
 * The variant of a fixture model from the manifest beside it; undefined without one, or when the file's size
 * is not the manifest's (the file was replaced: a stale manifest must not label a run). Size, not sha256:
 * hashing an 85 MB model on every run costs more than the check is worth.
 */
export function fixtureVariant(modelPath: string): VariantIdentity | undefined {
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
