/**
 * `bench quickstart`: the first thing a newcomer runs. Builds the fixture models if missing (the trained
 * knowledge teacher's variants from its committed weights, the random-weights tiny model) and the knowledge
 * set, runs the quickstart scenarios into the results database (embedded PGlite under .bench/ unless
 * DATABASE_URL is set) — scenarios/quickstart.ts (speed: every variant on llama-cpp / onnx plus the built-in
 * mock endpoint) and scenarios/quickstart-knowledge.ts (accuracy and KLD of the GGUF variants against the
 * F32 teacher) — prints the tables, the last one per variant (method, quant, bits, size, peak RSS, TTFT
 * p50, tok/s, acc ± stderr, KLD, top-1), then serves the dashboard over it — or exits with `--no-serve`.
 * Each step's code is imported when the step starts.
 * @module
 */
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { action } from '../action.ts'

const SCENARIOS = ['quickstart.ts', 'quickstart-knowledge.ts'].map((file) =>
  fileURLToPath(new URL(`../../../scenarios/${file}`, import.meta.url)),
)
const MODELS = fileURLToPath(new URL('../../../.bench/models', import.meta.url))

export function registerQuickstartCommand(program: Command): void {
  program
    .command('quickstart')
    .description(
      'build the tiny fixture models, run the demo matrix, then serve the dashboard over the results',
    )
    .option('--no-serve', 'exit after the run (do not serve the dashboard)')
    .option('--port <n>', 'dashboard port', '8787')
    .action(
      action(async (opts: { serve: boolean; port: string }) => {
        process.stderr.write(`quickstart: fixture models in ${MODELS}\n`)
        const { generateFixtures } = await import('../../fixtures/index.ts')
        await generateFixtures({ outDir: MODELS, sizes: ['tiny', 'teacher'] })
        const { writeSampleKnowledge } = await import('../actions/fixtures.ts')
        writeSampleKnowledge(MODELS)
        process.stderr.write(`quickstart: running ${SCENARIOS.join(' and ')}\n`)
        const { runScenarios } = await import('../actions/run.ts')
        const code = await runScenarios(SCENARIOS, { format: 'table' })
        if (!opts.serve) return code
        const { serveDashboard } = await import('../actions/dashboard.ts')
        await serveDashboard({ port: Number(opts.port), host: '127.0.0.1' })
        return code
      }),
    )
}
