import { fileURLToPath } from 'node:url'
import { defineScenario } from '../harness/config/index.ts'

/**
 * The quickstart matrix: every variant of the knowledge teacher (trained here, harness/fixtures/teacher) and
 * the student distilled from it (harness/fixtures/student) on its native engine (GGUF on llama-cpp, ONNX
 * on onnx, each in its own child process), the random-weights tiny model for contrast, and the built-in
 * mock endpoint; sequential and concurrent 4. Small request counts: about a minute on a 2-core machine,
 * most of it starting the engine processes. Accuracy and KLD of
 * the same variants: scenarios/quickstart-knowledge.ts (`bench quickstart` runs both and prints one
 * variant table). Models come from `.bench/models` of the repository (not the working directory):
 * `bench fixtures --size teacher` and `--size tiny` write them there.
 */
const models = (file: string) => fileURLToPath(new URL(`../.bench/models/${file}`, import.meta.url))

const GGUF = [
  'teacher-f32',
  'teacher-f16',
  'teacher-q8_0',
  'teacher-q4_0',
  'teacher-layerdrop-f32',
  'teacher-magprune50-f32',
  // Distilled from the teacher (under half its parameters): what distillation buys in speed.
  'student-distilled-f32',
  'tiny-random-f32',
]
const ONNX = ['teacher-onnx-fp32', 'teacher-onnx-int8']

export default defineScenario({
  name: 'quickstart',
  description:
    'Teacher fixture variants on llama-cpp and onnx, a random model and the mock endpoint: sequential, concurrent 4',
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
