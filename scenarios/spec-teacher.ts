/**
 * A speculative-decoding acceptance study (`bench spec scenarios/spec-teacher.ts`, harness/speculative):
 * the trained teacher with its Q4_0 quantization as the draft, greedy, K = 1 … 8, on knowledge-set-like
 * openings. Models from `bench fixtures --size teacher`. A plain object: scenarios import only
 * harness/config; `bench spec` validates it (harness/speculative/study-file.ts).
 */
export default {
  name: 'spec-teacher-q4',
  description: 'teacher-f32 target, teacher-q4_0 draft, greedy, K 1..8',
  target: '.bench/models/teacher-f32.gguf',
  draft: '.bench/models/teacher-q4_0.gguf',
  prompts: ['The capital of', 'Q: What is the', 'The answer is', 'abc'],
  ks: [1, 2, 3, 4, 5, 6, 7, 8],
  mode: 'greedy',
  seed: 0,
  maxTokens: 64,
}
