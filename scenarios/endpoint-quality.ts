import { defineScenario } from '../harness/config/index.ts'

/**
 * Quality of a deployed OpenAI-compatible endpoint against a native reference of the same model
 * (harness/quality/README.md, "Endpoints"): KLD, Δp and top-1 agreement over a corpus from the endpoint's
 * top-20 log-probabilities at every position (vLLM: echo + logprobs of token ids), marked approximate.
 *   BASE_URL=http://127.0.0.1:8000/v1 MODEL=my-model REFERENCE_MODEL=/models/my-model-f16.gguf \
 *     [CORPUS=/data/wiki.txt] [API_KEY_ENV=OPENAI_API_KEY] bench run scenarios/endpoint-quality.ts
 * REFERENCE_MODEL resolves from the working directory (as every engine model), CORPUS from this file.
 * The reference must use the endpoint's vocabulary and tokenizer (the run compares the endpoint's /tokenize
 * of the corpus with the reference's ids and refuses any difference); a server without prompt logprobs
 * (llama-server, llama.cpp #27174) is refused with that reason. Defaults: the teacher fixture and its
 * knowledge corpus (`bench fixtures --size teacher` writes both under .bench/models). Against the mock:
 *   bench mock-server --personality vllm --logprobs-model .bench/models/teacher-q8_0.gguf --port 8000
 *   BASE_URL=http://127.0.0.1:8000/v1 MODEL=teacher-q8_0 bench run scenarios/endpoint-quality.ts
 */
const apiKeyEnv = process.env.API_KEY_ENV

export default defineScenario({
  name: 'endpoint-quality',
  description: 'KLD / top-1 agreement of an endpoint against a native reference, top-20 (approximate)',
  measure: ['quality'],
  quality: {
    corpus: process.env.CORPUS ?? '../.bench/models/knowledge/corpus.txt',
    reference: 'reference',
    contextTokens: 512,
    maxTokens: 2048,
  },
  targets: [
    {
      name: 'reference',
      engine: { kind: 'llama-cpp', model: process.env.REFERENCE_MODEL ?? '.bench/models/teacher-f32.gguf' },
    },
    {
      name: process.env.TARGET_NAME ?? 'endpoint',
      engine: {
        kind: 'openai',
        baseUrl: process.env.BASE_URL,
        model: process.env.MODEL ?? '',
        api: 'completions',
        ...(apiKeyEnv ? { apiKeyEnv } : {}),
      },
    },
  ],
  requestTimeoutMs: 120_000,
})
