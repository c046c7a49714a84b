import { defineScenario } from '../harness/config/index.ts'

/**
 * The demo and dry-run scenario: the built-in mock server (own thread) with lognormal TTFT and gaps and
 * 2 % rate-limit faults, swept from one stream to 32 and an open-loop Poisson arrival. The faults are
 * meant: the scenario declares its own maxErrorRate.
 */
export default defineScenario({
  name: 'mock-sweep',
  description: 'Built-in mock endpoint: sequential, concurrent 1/8/32 and Poisson 16 req/s',
  seed: 42,
  prompts: { kind: 'synthetic', promptTokens: { mean: 128, sd: 32, min: 16 }, outputTokens: 32 },
  targets: [
    {
      name: 'mock',
      engine: {
        kind: 'openai',
        model: 'mock-model',
        mock: {
          ttft: { kind: 'lognormal', medianMs: 40, sigma: 0.3 },
          itl: { kind: 'lognormal', medianMs: 8, sigma: 0.2 },
          faults: { rate429: 0.02 },
        },
      },
    },
  ],
  loads: [
    {
      kind: 'sweep',
      loads: [
        { kind: 'sequential', requests: 8 },
        { kind: 'concurrent', concurrency: 1, requests: 8 },
        { kind: 'concurrent', concurrency: 8, requests: 40 },
        { kind: 'concurrent', concurrency: 32, requests: 128 },
        { kind: 'poisson', ratePerS: 16, requests: 48 },
      ],
    },
  ],
  warmupRequests: 2,
  slo: { ttftMs: 100, tpotMs: 15 },
  // The 2 % injected 429s are the demo, not a failure: one in a step of 8 requests is 12.5 %. A client
  // that loses requests on top of them still fails the run (the default, 1 %, would fail it on the 429s).
  maxErrorRate: 0.15,
})
