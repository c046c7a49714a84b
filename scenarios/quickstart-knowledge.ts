import { fileURLToPath } from 'node:url'
import { defineScenario } from '../harness/config/index.ts'

/**
 * What the quickstart's variants keep (METRICS.md "Accuracy" and "Quality"): the teacher's GGUF variants, the
 * distilled student and its untrained twin, and the random tiny model on llama-cpp,
 * - accuracy on the knowledge set (`.bench/models/knowledge`: 136 held-out test items over 4 subjects),
 *   lm-eval's mmlu_continuation after 5 dev shots, each choice's text scored by log-likelihood;
 * - quality against the F32 teacher: KLD and top-1 agreement of the full next-token distributions over the
 *   knowledge corpus, llama-perplexity --kl-divergence windows (the reference runs first).
 * The ONNX exports are not here: their byte tokenizer writes spaces as 0x20 where llama.cpp's writes "▁",
 * so their token ids differ from the reference's and a KLD would be refused (scenarios/mmlu-sample.ts
 * scores their accuracy). The target names are scenarios/quickstart.ts's, so `bench quickstart` prints one
 * table per variant joining speed, accuracy and quality.
 */
const models = (file: string) => fileURLToPath(new URL(`../.bench/models/${file}`, import.meta.url))

const GGUF = [
  'teacher-f32',
  'teacher-f16',
  'teacher-q8_0',
  'teacher-q4_0',
  'teacher-layerdrop-f32',
  'teacher-magprune50-f32',
  // The student distilled from the teacher and its untrained twin (harness/fixtures/student): same
  // vocabulary and tokenizer, so their KLD against the teacher is defined token for token.
  'student-distilled-f32',
  'student-untrained-f32',
  'tiny-random-f32',
]

export default defineScenario({
  name: 'quickstart-knowledge',
  description:
    'Accuracy (knowledge set, mmlu_continuation 5-shot) and KLD vs the F32 teacher of the quickstart GGUF variants',
  seed: 42,
  measure: ['accuracy', 'quality'],
  accuracy: { dataset: models('knowledge'), shots: 5, prompt: 'mmlu-continuation', scoring: 'loglik' },
  quality: {
    corpus: models('knowledge/corpus.txt'),
    reference: 'teacher-f32',
    maxTokens: 512,
    contextTokens: 256,
  },
  targets: GGUF.map((name) => ({
    name,
    engine: { kind: 'llama-cpp' as const, model: models(`${name}.gguf`), threads: 1, contextSize: 2048 },
  })),
})
