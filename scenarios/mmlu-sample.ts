import { fileURLToPath } from 'node:url'
import { defineScenario } from '../harness/config/index.ts'

/**
 * MMLU-style accuracy on the fixture models (METRICS.md "Accuracy"): the knowledge fixture set that
 * `bench fixtures` writes beside the models (`.bench/models/knowledge`, MMLU CSV layout: 4 subjects, 136
 * held-out test items, 5 dev shots each), scored as lm-eval's `mmlu_continuation`: `Question: …\nAnswer:`
 * after the 5 dev shots, each choice's text scored by log-likelihood (acc, and acc_norm by its length).
 *
 * Why continuation and not the lettered prompt: the knowledge teacher (harness/fixtures/teacher, 156 k
 * parameters trained here) knows the facts but not multiple-choice symbol binding (choosing the letter
 * of the choice that holds the answer), which models this small do not learn
 * (harness/fixtures/train/README.md "Teacher runs"); lm-eval offers the continuation task for exactly
 * such models.
 *
 * Targets: the teacher's variants on llama-cpp (F32, Q4_0, layer-dropped) and its ONNX export on onnx,
 * which score well above chance, and the random-weights `tiny` model, which scores at chance. `bench run`
 * prints acc ± stderr per target; every item is stored (accuracy_items) for paired comparisons (McNemar).
 * Build the inputs first: `npx bench fixtures --size all` (or `--size teacher` and `--size tiny`).
 */
const models = (file: string) => fileURLToPath(new URL(`../.bench/models/${file}`, import.meta.url))
const knowledge = models('knowledge')

export default defineScenario({
  name: 'mmlu-sample',
  description:
    'knowledge set, lm-eval mmlu_continuation, 5-shot, all 136 test items: teacher variants vs a random model',
  seed: 42,
  measure: ['accuracy'],
  accuracy: { dataset: knowledge, shots: 5, prompt: 'mmlu-continuation', scoring: 'loglik' },
  targets: [
    ...['teacher-f32', 'teacher-q4_0', 'teacher-layerdrop-f32', 'tiny-random-f32'].map((name) => ({
      name,
      engine: { kind: 'llama-cpp' as const, model: models(`${name}.gguf`), threads: 1, contextSize: 2048 },
    })),
    {
      name: 'teacher-onnx-fp32',
      engine: {
        kind: 'onnx' as const,
        model: models('teacher-onnx-fp32.onnx'),
        tokenizer: models('tokenizer.json'),
        intraOpNumThreads: 1,
      },
    },
  ],
})
