/**
 * `bench import <file>`: results other tools already have — `vllm bench serve --save-result` JSON,
 * llama-bench `-o json`/`-o jsonl` — become runs in the results database, mapped to our metric names and
 * keeping the original document; a `bench export --format json` run from another database is stored as it
 * was. A malformed or unknown file exits 1 with a message naming it. Flags here; the import
 * (actions/import.ts) is imported when the command runs.
 * @module
 */
import { type Command, Option } from 'commander'
import { action } from '../action.ts'
import type { ImportFlags } from '../actions/import.ts'

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description(
      'import results of vllm bench serve (--save-result JSON), llama-bench (-o json / -o jsonl) or a run exported from another database (bench export --format json)',
    )
    .argument('<file>', 'result file')
    .addOption(
      new Option('--format <format>', 'file format')
        .choices(['auto', 'vllm', 'llama-bench', 'bench-run'])
        .default('auto'),
    )
    .option(
      '--scenario <name>',
      'scenario name of the imported runs (default: vllm-bench-serve or llama-bench; a bench-run keeps its own)',
    )
    .option('--json', 'print JSON')
    .option(
      '--db <path|url>',
      'embedded database directory or postgres:// URL (default: DATABASE_URL, BENCH_DB, .bench/db)',
    )
    .action(
      action(async (file: string, opts: ImportFlags) =>
        (await import('../actions/import.ts')).importCommand(file, opts),
      ),
    )
}
