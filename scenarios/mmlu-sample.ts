import { fileURLToPath } from 'node:url'
import { defineScenario } from '../harness/config/index.ts'

/**
 * MMLU-style accuracy on the fixture models (METRICS.md "Accuracy"): the knowledge fixture set that
 * `bench fixtures` writes beside the models (`.bench/models/knowledge`, MMLU CSV layout: 4 subjects, 5 dev
 * shots each), 10 test items per subject, lm-eval's 5-shot prompt, scored by log-likelihood where the engine
 * can (`auto`). Targets: tiny GGUF variants on llama-cpp, the tiny ONNX decoder on onnx, the random model
 * (chance), and the built-in mock answering right with probability 0.7 (its vllm personality returns prompt
 * logprobs): its acc must read near 0.7, a check of the measurement itself. `bench run` prints
 * acc ± stderr per target; every item is stored (accuracy_items) for paired comparisons.
 * Build the inputs first: `npx bench fixtures --size tiny`.
 */
const models = (file: string) => fileURLToPath(new URL(`../.bench/models/${file}`, import.meta.url))
const knowledge = models('knowledge')

export default defineScenario({
  name: 'mmlu-sample',
  description:
    'MMLU-layout knowledge set, 5-shot, 10 items per subject: fixture variants and a mock of known accuracy',
  seed: 42,
  measure: ['accuracy'],
  accuracy: { dataset: knowledge, shots: 5, limitPerSubject: 10, scoring: 'auto' },
  targets: [
    ...['tiny-f32', 'tiny-q4_0', 'tiny-random-f32'].map((name) => ({
      name,
      engine: { kind: 'llama-cpp' as const, model: models(`${name}.gguf`), threads: 1, contextSize: 2048 },
    })),
    {
      name: 'tiny-onnx-fp32',
      engine: {
        kind: 'onnx' as const,
        model: models('tiny-onnx-fp32.onnx'),
        tokenizer: models('tokenizer.json'),
        intraOpNumThreads: 1,
      },
    },
    {
      name: 'mock-p70',
      engine: {
        kind: 'openai',
        model: 'mock-model',
        api: 'completions',
        mock: { personality: 'vllm', answers: { p: 0.7, key: knowledge, seed: 1 } },
      },
    },
  ],
})
