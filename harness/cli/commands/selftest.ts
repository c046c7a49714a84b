/**
 * `bench selftest`: its flags. The measurement (actions/selftest.ts: the harness timing error against a
 * mock server with known injected delays) is imported when the command runs.
 * @module
 */
import { type Command, Option } from 'commander'
import { action, parseNumberFlag } from '../action.ts'
import type { SelftestFlags } from '../actions/selftest.ts'
import { OPENAI_CLIENT_CHOICES } from '../choices.ts'

export type { SelftestLevel, SelftestOptions } from '../actions/selftest.ts'

export function registerSelftestCommand(program: Command): void {
  program
    .command('selftest')
    .description('measure the harness timing error against a mock server with known injected delays')
    .option('--json', 'print {"levels":[…]} as JSON')
    .option('--levels <list>', 'comma-separated concurrency levels', '1,64,256')
    .option('--ttft-ms <ms>', 'injected time to first token', parseNumberFlag('--ttft-ms', 'number', 0), 50)
    .option('--itl-ms <ms>', 'injected gap between chunks', parseNumberFlag('--itl-ms', 'number', 0), 10)
    .option('--output-tokens <n>', 'tokens per response', parseNumberFlag('--output-tokens', 'int', 2), 32)
    .addOption(
      new Option('--client <client>', "the openai engine's HTTP client").choices(OPENAI_CLIENT_CHOICES),
    )
    .option(
      '--requests <n>',
      'measured requests per level (default max(300, 16 × streams): a p99 needs a few hundred)',
      parseNumberFlag('--requests', 'int', 1),
    )
    .option(
      '--rounds <n>',
      'rounds per level, figures = median over rounds (judge the goal with ≥ 5: one p99 swings by ms)',
      parseNumberFlag('--rounds', 'int', 1),
      1,
    )
    .action(
      action(async (opts: SelftestFlags) => (await import('../actions/selftest.ts')).selftestCommand(opts)),
    )
}
