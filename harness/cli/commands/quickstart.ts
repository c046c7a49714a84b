/**
 * `bench quickstart`: the first thing a newcomer runs. Runs the demo matrix (scenarios/mock-sweep.ts: the
 * built-in mock endpoint swept over load shapes) and prints its results table. `--no-serve` is accepted
 * now so scripts written today keep working when quickstart also serves the dashboard.
 * @module
 */
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { action } from '../action.ts'
import { runScenarios } from './run.ts'

const DEMO = fileURLToPath(new URL('../../../scenarios/mock-sweep.ts', import.meta.url))

export function registerQuickstartCommand(program: Command): void {
  program
    .command('quickstart')
    .description('run the demo matrix against the built-in mock server and print the results')
    .option('--no-serve', 'exit after the run (do not serve the dashboard)')
    .option('--out <file>', 'also append every run and outcome to this JSON-lines file')
    .action(
      action(async (opts: { serve: boolean; out?: string }) => {
        process.stderr.write(`quickstart: running ${DEMO}\n`)
        return runScenarios([DEMO], { format: 'table', ...(opts.out ? { out: opts.out } : {}) })
      }),
    )
}
