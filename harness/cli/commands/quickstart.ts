/**
 * `bench quickstart`: the first thing a newcomer runs. Builds the tiny fixture models if missing, runs the
 * quickstart matrix (scenarios/quickstart.ts: every tiny variant on llama-cpp / onnx plus the built-in mock
 * endpoint) into the results database (embedded PGlite under .bench/ unless DATABASE_URL is set), prints
 * the table, then serves the dashboard over it — or exits with `--no-serve`. Each step's code is imported
 * when the step starts.
 * @module
 */
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { action } from '../action.ts'

const SCENARIO = fileURLToPath(new URL('../../../scenarios/quickstart.ts', import.meta.url))
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
        await generateFixtures({ outDir: MODELS, sizes: ['tiny'] })
        process.stderr.write(`quickstart: running ${SCENARIO}\n`)
        const { runScenarios } = await import('../actions/run.ts')
        const code = await runScenarios([SCENARIO], { format: 'table' })
        if (!opts.serve) return code
        const { serveDashboard } = await import('../actions/dashboard.ts')
        await serveDashboard({ port: Number(opts.port), host: '127.0.0.1' })
        return code
      }),
    )
}
