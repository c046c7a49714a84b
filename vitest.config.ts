import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Timing-sensitive suites (real servers on loopback) share 2 cores; forks keep event loops apart.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
