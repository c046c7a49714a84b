/**
 * Validation of mock server options with every problem named by its field, for callers that do not go
 * through a scenario (CLI, tests, selftest).
 * @module
 */
import { HarnessError } from '../errors.ts'
import { type MockOptions, mockOptionsSchema } from './options.ts'

export class MockOptionsError extends HarnessError {
  override name = 'MockOptionsError'
  constructor(
    readonly issues: { path: string; message: string }[],
    options?: { cause?: unknown },
  ) {
    super(
      `invalid mock server options:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
      options,
    )
  }
}

export function parseMockOptions(input: unknown): MockOptions {
  const result = mockOptionsSchema.safeParse(input)
  if (result.success) return result.data
  throw new MockOptionsError(
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  )
}
