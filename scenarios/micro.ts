import { fileURLToPath } from 'node:url'
import { defineScenario } from '../harness/config/index.ts'

/**
 * Micro tasks with tinybench (harness/micro/README.md) on the fixture models: tokenize 1000 characters,
 * one forward pass of 128 tokens and 128 prompt tokens + one decoded token, on llama-cpp (GGUF) and onnx
 * (ONNX), tiny (64 wide, 2 layers: overhead-dominated) and bench size (512 wide, 8 layers: compute-bound).
 * Each task runs until 500 ms of measured time and 10 iterations, after a 100 ms warmup; the bench-size
 * forward passes (~0.3 s each here) take most of the time: 47 s in all on the shared 2-vCPU dev box at load
 * average 15, with 14 s of CPU. Models come from `.bench/models` of the repository: `npx bench fixtures
 * --size tiny` and `--size bench` write them. Run it with `npx bench run scenarios/micro.ts`: a row per
 * target and task, and one run per target in the database.
 */
const models = (file: string) => fileURLToPath(new URL(`../.bench/models/${file}`, import.meta.url))

export default defineScenario({
  name: 'micro',
  description: 'tinybench micro tasks (tokenize, forward, prefill + 1 decode) on tiny and bench fixtures',
  seed: 7,
  targets: [
    // threads 1: the harness keeps the other core; contextSize holds the 128-token tasks.
    ...['tiny-f32', 'bench-q4_0'].map((name) => ({
      name,
      engine: { kind: 'llama-cpp' as const, model: models(`${name}.gguf`), threads: 1, contextSize: 256 },
    })),
    ...['tiny-onnx-fp32', 'bench-onnx-fp32'].map((name) => ({
      name,
      engine: { kind: 'onnx' as const, model: models(`${name}.onnx`), intraOpNumThreads: 1 },
    })),
  ],
  loads: [
    {
      kind: 'micro',
      tasks: [
        { kind: 'tokenize', chars: 1000 },
        { kind: 'forward', promptTokens: 128 },
        { kind: 'prefill-decode', promptTokens: 128 },
      ],
      timeMs: 500,
      iterations: 10,
      warmupTimeMs: 100,
      warmupIterations: 2,
      maxTimeMs: 20_000,
    },
  ],
})
