/**
 * The smallest speculative-decoding study (`bench spec scenarios/spec-fixture-study.ts`, or the
 * dashboard's Studies page through the queue): the trained teacher (F32) with its Q4_0 quantization as the
 * draft, greedy, K 1..4, two prompts, 16 tokens each, no node-llama-cpp predictor, no warm-up — done in a
 * few seconds on one CPU core, for tests and a first look. Models from `bench fixtures --size teacher`.
 * A plain object: scenarios import only harness/config; harness/speculative/study-file.ts validates it.
 */
export default {
  name: 'spec-fixture',
  description: 'teacher-f32 target, teacher-q4_0 draft, greedy, K 1..4, 2 prompts × 16 tokens',
  target: '.bench/models/teacher-f32.gguf',
  draft: '.bench/models/teacher-q4_0.gguf',
  prompts: ['The capital of', 'Q: What is the'],
  ks: [1, 2, 3, 4],
  mode: 'greedy',
  seed: 0,
  maxTokens: 16,
  predictor: false,
  warmup: 0,
}
