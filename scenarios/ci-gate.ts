import { defineScenario } from '../harness/config/index.ts'

/**
 * The scenario recommended for `bench gate` in CI: a few seconds, low noise. The built-in mock with fixed
 * delays has no model noise of its own, so what varies is the runner (scheduling, HTTP) — the floor any
 * CI measurement has. Sequential requests (no queueing to amplify jitter), short outputs, a warm-up, and
 * enough requests that p50 and p95 are steady. Point a copy's target at your engine (baseUrl) to gate it;
 * run it with `bench run scenarios/ci-gate.ts --repeat 3` so the gate pools repetitions.
 */
export default defineScenario({
  name: 'ci-gate',
  description: 'Built-in mock, fixed delays, sequential: a short low-noise scenario for the CI gate',
  seed: 42,
  prompts: { kind: 'synthetic', promptTokens: 32, outputTokens: 16, count: 8 },
  targets: [
    {
      name: 'mock',
      engine: {
        kind: 'openai',
        model: 'mock-model',
        mock: { ttft: { kind: 'fixed', ms: 20 }, itl: { kind: 'fixed', ms: 2 } },
      },
    },
  ],
  loads: [{ kind: 'sequential', requests: 24 }],
  warmupRequests: 3,
})
