import { fileURLToPath } from 'node:url'
import { defineScenario } from '../harness/config/index.ts'

/**
 * The quickstart matrix: every tiny fixture variant on its native engine (GGUF on llama-cpp, ONNX on onnx,
 * each in its own child process) plus the built-in mock endpoint, sequential and concurrent 4. Small
 * request counts: well under a minute on a 2-core machine, most of it starting the engine processes.
 * Models come from `.bench/models` of the repository (not the working directory):
 * `bench fixtures --size tiny` writes them there.
 */
const models = (file: string) => fileURLToPath(new URL(`../.bench/models/${file}`, import.meta.url))

const GGUF = [
  'tiny-f32',
  'tiny-f16',
  'tiny-q8_0',
  'tiny-q4_0',
  'tiny-layerdrop-f32',
  'tiny-magprune50-f32',
  'tiny-random-f32',
  'tiny-random-q4_0',
]
const ONNX = ['tiny-onnx-fp32', 'tiny-onnx-int8', 'tiny-random-onnx-fp32']

export default defineScenario({
  name: 'quickstart',
  description: 'Tiny fixture variants on llama-cpp and onnx, and the mock endpoint: sequential, concurrent 4',
  seed: 42,
  prompts: { kind: 'synthetic', promptTokens: 16, outputTokens: 32, count: 16 },
  targets: [
    ...GGUF.map((name) => ({
      name,
      // threads 1: the harness keeps the other core; 4 sequences so concurrent 4 decodes in one batch.
      engine: {
        kind: 'llama-cpp' as const,
        model: models(`${name}.gguf`),
        threads: 1,
        parallel: 4,
        contextSize: 512,
      },
    })),
    ...ONNX.map((name) => ({
      name,
      // The Hugging Face tokenizer.json the fixtures ship, as a real export would be configured.
      engine: {
        kind: 'onnx' as const,
        model: models(`${name}.onnx`),
        tokenizer: models('tokenizer.json'),
        intraOpNumThreads: 1,
      },
    })),
    {
      name: 'mock',
      engine: {
        kind: 'openai',
        model: 'mock-model',
        mock: {
          ttft: { kind: 'lognormal', medianMs: 20, sigma: 0.3 },
          itl: { kind: 'lognormal', medianMs: 2, sigma: 0.2 },
        },
      },
    },
  ],
  loads: [
    { kind: 'sequential', requests: 6 },
    { kind: 'concurrent', concurrency: 4, requests: 16 },
  ],
  warmupRequests: 2,
})
