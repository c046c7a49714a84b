/**
 * One target, five drafts (issue 20 item 6): `bench spec scenarios/spec-study.ts` runs a study per draft in
 * turn, stores each, and prints them side by side. The trained knowledge teacher is the target; its drafts
 * are itself (every drafted token accepted), its Q4_0 quantization, the distilled student, the untrained
 * student of the same shape, and an unrelated random model of the same vocabulary (acceptance near 0).
 * Models from `bench fixtures --size all`. Greedy, K = 1, 2, 4; node-llama-cpp's own predictor is left out
 * to keep the set to a minute or two on two cores (scenarios/spec-teacher.ts runs it).
 */
const base = {
  target: '.bench/models/teacher-f32.gguf',
  prompts: [
    'Question: What is 3 + 5?\nAnswer:',
    'Question: What is the capital of Norland?\nAnswer:',
    'The river runs past the city and',
    'Q: What is the',
  ],
  ks: [1, 2, 4],
  mode: 'greedy',
  seed: 0,
  maxTokens: 48,
  predictor: false,
}

const draft = (name: string, file: string, description: string) => ({
  ...base,
  name: `spec-study-${name}`,
  description,
  draft: `.bench/models/${file}`,
})

export default [
  draft('self', 'teacher-f32.gguf', 'teacher-f32 ← itself: α = 1, τ = K + 1'),
  draft('q4', 'teacher-q4_0.gguf', 'teacher-f32 ← its Q4_0'),
  draft('distilled', 'student-distilled-f32.gguf', 'teacher-f32 ← the distilled student (48 wide, 2 blocks)'),
  draft('untrained', 'student-untrained-f32.gguf', 'teacher-f32 ← the untrained student of the same shape'),
  draft('random', 'tiny-random-f32.gguf', 'teacher-f32 ← an unrelated random model of the same vocabulary'),
]
