import { defineScenario } from '../harness/config/index.ts'

/**
 * Load-test a deployed OpenAI-compatible chat endpoint (vLLM, TGI, SGLang, llama-server, Ollama, a hosted
 * API). Configure it from the environment:
 *   BASE_URL=http://127.0.0.1:8000/v1 MODEL=my-model [API_KEY_ENV=OPENAI_API_KEY] bench run scenarios/endpoint-chat.ts
 * API_KEY_ENV names the variable that holds the key; the key itself is never stored or logged.
 */
const apiKeyEnv = process.env.API_KEY_ENV

export default defineScenario({
  name: 'endpoint-chat',
  description: 'Chat endpoint: 256-token prompts, 128-token answers, concurrency 1 → 16',
  prompts: { kind: 'synthetic', promptTokens: 256, outputTokens: 128 },
  targets: [
    {
      name: process.env.TARGET_NAME ?? 'endpoint',
      engine: {
        kind: 'openai',
        baseUrl: process.env.BASE_URL,
        model: process.env.MODEL ?? '',
        api: 'chat',
        ...(apiKeyEnv ? { apiKeyEnv } : {}),
      },
    },
  ],
  loads: [
    {
      kind: 'sweep',
      loads: [
        { kind: 'concurrent', concurrency: 1, requests: 16 },
        { kind: 'concurrent', concurrency: 4, requests: 32 },
        { kind: 'concurrent', concurrency: 16, requests: 64 },
      ],
    },
  ],
  requestTimeoutMs: 120_000,
})
