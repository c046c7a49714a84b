/**
 * `bench load --rate`: whole requests per second only. autocannon 9 refuses an overallRate below 1 and paces
 * a fraction as the next whole rate (1.5 sends 2/s: measured, harness/cli/commands/load.ts parseRateFlag),
 * so 0.5 or 1.5 is refused at parse time naming the flag and the fix, and a whole rate reaches the action.
 */
import { Command, CommanderError } from 'commander'
import { describe, expect, it } from 'vitest'
import { parseRateFlag, registerLoadCommand } from '../../../harness/cli/commands/load.ts'

/** Parses `bench load <args>` with the real flag definitions; the action only records its options. */
function parseLoad(args: string[]): { rate?: number } {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
  registerLoadCommand(program)
  const load = program.commands.find((c) => c.name() === 'load')!
  let seen: { rate?: number } = {}
  load.exitOverride().action((_url: string, opts: { rate?: number }) => {
    seen = opts
  })
  program.parse(['load', 'http://127.0.0.1:8000/v1', ...args], { from: 'user' })
  return seen
}

/** The message commander would print for a refused flag value. */
function refusal(args: string[]): string {
  try {
    parseLoad(args)
  } catch (err) {
    if (err instanceof CommanderError) return err.message
    throw err
  }
  return expect.unreachable(`${args.join(' ')} should be refused`)
}

describe('bench load --rate', () => {
  it('takes a whole rate ≥ 1', () => {
    expect(parseLoad(['--rate', '1']).rate, '1/s').toBe(1)
    expect(parseLoad(['--rate', '50']).rate, '50/s').toBe(50)
    expect(parseLoad([]).rate, 'absent: unpaced').toBeUndefined()
  })

  it('refuses a fraction or a rate below 1, naming the flag, why and the fix', () => {
    const half = refusal(['--rate', '0.5'])
    expect(half, 'flag and value').toContain('--rate expects a whole number of requests/s ≥ 1, got "0.5"')
    expect(half, 'why').toContain('autocannon paces whole requests per connection per second')
    expect(half, 'the fix').toContain('a constant-rate load (ratePerS: 0.5)')
    for (const bad of ['1.5', '0', '-2', 'fast', ''])
      expect(() => parseRateFlag(bad), `--rate "${bad}"`).toThrow(
        `--rate expects a whole number of requests/s ≥ 1, got "${bad}"`,
      )
  })
})
