/**
 * The tiny fixture models for engine tests, generated once into `.bench/test-models` (gitignored) and
 * reused across runs: generateFixtures keeps files whose sha256 matches their manifest (~0.2 s to build,
 * less to verify). Parallel vitest workers are safe without a lock: every file is written to a
 * per-process temporary name and renamed into place, and all writers produce the same bytes.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EOS_ID } from '../../harness/fixtures/byte-vocab.ts'
import { generateFixtures, weightSeed } from '../../harness/fixtures/generate.ts'
import { llamaToGguf } from '../../harness/fixtures/llama-gguf.ts'
import {
  buildLlamaWeights,
  FIXTURE_SHAPES,
  type FixtureSize,
  findTensor,
} from '../../harness/fixtures/llama-weights.ts'
import { FIXTURE_GENERATOR_VERSION, type FixtureManifest } from '../../harness/fixtures/manifest.ts'
import { llamaToOnnx } from '../../harness/fixtures/onnx-model.ts'

export const TEST_MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../.bench/test-models')

export interface TinyModels {
  dir: string
  manifests: FixtureManifest[]
  /** Absolute path of a variant of this size, e.g. path('tiny-q4_0'). */
  path(name: string): string
}

const generated = new Map<FixtureSize, Promise<TinyModels>>()

/** Every fixture variant of one size (generated on first use in this process, verified otherwise). */
function fixturesOf(size: FixtureSize): Promise<TinyModels> {
  let models = generated.get(size)
  if (models === undefined) {
    models = generateFixtures({ outDir: TEST_MODELS_DIR, sizes: [size] }).then((manifests) => ({
      dir: TEST_MODELS_DIR,
      manifests,
      path(name: string) {
        const m = manifests.find((x) => x.name === name)
        if (!m)
          throw new Error(
            `no ${size} fixture named ${name} (have: ${manifests.map((x) => x.name).join(', ')})`,
          )
        return join(TEST_MODELS_DIR, m.file)
      },
    }))
    generated.set(size, models)
  }
  return models
}

/** Every tiny fixture variant (64 wide, 2 layers: overhead-dominated, fast to load). */
export const tinyModels = (): Promise<TinyModels> => fixturesOf('tiny')

/**
 * The bench-size fixtures (512 wide, 8 layers, ~21 M parameters: compute dominates, as in real serving),
 * for suites that need realistic speed, such as the real llama-server suite. ~20 s to build the first time.
 */
export const benchModels = (): Promise<TinyModels> => fixturesOf('bench')

/** The knowledge teacher's variants (harness/fixtures/teacher: 64 wide, 3 blocks, trained; built in ~1 s). */
export const teacherModels = (): Promise<TinyModels> => fixturesOf('teacher')

/** Bump when the EOS model's weights change, so cached files are rebuilt. */
const EOS_MODEL_VERSION = 1

/**
 * The tiny next-byte model, changed so that EOS follows every "c": its output row is 1.5 × the row of "d"
 * (which copies the embedding of "c"), so after "c" EOS's logit ≈ 18 beats "d"'s ≈ 12, and elsewhere it
 * stays far below the next byte's. Greedy "ab" → "c" then EOS. Same weights as GGUF (F32) and ONNX (fp32).
 */
export function eosModels(): { gguf: string; onnx: string } {
  const base = `tiny-eos-after-c-g${FIXTURE_GENERATOR_VERSION}-v${EOS_MODEL_VERSION}`
  const gguf = join(TEST_MODELS_DIR, `${base}.gguf`)
  const onnx = join(TEST_MODELS_DIR, `${base}.onnx`)
  if (existsSync(gguf) && existsSync(onnx)) return { gguf, onnx }
  const weights = buildLlamaWeights(FIXTURE_SHAPES.tiny, 'next-byte', weightSeed(42, 'tiny', 'next-byte'))
  const n = weights.shape.embeddingLength
  const output = findTensor(weights, 'output.weight').values
  const d = 0x64 + 3
  for (let j = 0; j < n; j++) output[EOS_ID * n + j] = 1.5 * output[d * n + j]!
  mkdirSync(TEST_MODELS_DIR, { recursive: true })
  writeAtomically(gguf, llamaToGguf(weights, { name: base, type: 'F32' }).bytes)
  writeAtomically(onnx, llamaToOnnx(weights, { name: base, weightFormat: 'fp32' }).bytes)
  return { gguf, onnx }
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, bytes)
  renameSync(tmp, path)
}
