/**
 * `bench fixtures`: generates the fixture models (GGUF and ONNX variants with manifests) into a folder,
 * skipping files that are already up to date, and prints what is there. Flags here; the work
 * (actions/fixtures.ts) is imported when the command runs.
 * @module
 */
import type { Command } from 'commander'
import { action, parseNumberFlag } from '../action.ts'
import type { FixturesCommandOptions } from '../actions/fixtures.ts'

export function registerFixturesCommand(program: Command): void {
  program
    .command('fixtures')
    .description(
      'generate the fixture models (GGUF + ONNX variants with manifests); up-to-date files are kept',
    )
    .option('--out <dir>', 'output folder', '.bench/models')
    .option(
      '--size <size>',
      'tiny (tests), bench (compute-bound, ~576 MB), teacher (the trained knowledge teacher) or all',
      'all',
    )
    .option(
      '--seed <n>',
      'seed of the weights; same seed → same bytes',
      parseNumberFlag('--seed', 'int', 0),
      42,
    )
    .option('--json', 'print the manifests as JSON')
    .action(
      action(async (opts: FixturesCommandOptions) =>
        (await import('../actions/fixtures.ts')).fixturesCommand(opts),
      ),
    )
}
