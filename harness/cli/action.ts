/**
 * The one place where CLI commands turn failures into messages and exit codes: 0 ok, 1 error (bad input,
 * engine failure), 2 regression (a result, set by the gate). No stack traces unless BENCH_DEBUG=1.
 * @module
 */
import { InvalidArgumentError } from 'commander'
import { HarnessError } from '../errors.ts'

export const EXIT_OK = 0
export const EXIT_ERROR = 1
export const EXIT_REGRESSION = 2

/** Wraps a commander action: awaits it, prints a clean message on failure, sets process.exitCode. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<number | undefined> | number | undefined,
) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args)
      process.exitCode = code ?? EXIT_OK
    } catch (err) {
      process.exitCode = EXIT_ERROR
      if (err instanceof HarnessError || process.env.BENCH_DEBUG !== '1') {
        const message = err instanceof Error ? err.message : String(err)
        process.stderr.write(`bench: ${message}\n`)
        if (!(err instanceof HarnessError))
          process.stderr.write('(set BENCH_DEBUG=1 to see where it came from)\n')
      } else {
        process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
      }
    }
  }
}

/**
 * Parses a numeric flag or argument. A bad value throws commander's InvalidArgumentError, which commander
 * reports as one line naming the flag (`error: option '--limit <n>' argument 'x' is invalid. …`) with exit
 * 1; any other error thrown from a parser would escape commander as a stack trace.
 */
export function parseNumberFlag(
  flag: string,
  kind: 'int' | 'number' = 'number',
  min = Number.NEGATIVE_INFINITY,
) {
  return (value: string): number => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n)) || n < min)
      throw new InvalidArgumentError(
        `${flag} expects ${kind === 'int' ? 'an integer' : 'a number'}${min > Number.NEGATIVE_INFINITY ? ` ≥ ${min}` : ''}, got "${value}"`,
      )
    return n
  }
}
