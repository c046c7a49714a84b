/**
 * `bench selftest --json` end to end: the real CLI, the mock in its own process, two small levels. Asserts
 * the JSON contract and what must hold on any machine (every request measured, by the harness and by the
 * bare reader, the mock never early), and bounds the medians generously: the p99 figures are a
 * benchmark's to print (`npx bench selftest`), not a test's to bound.
 *
 * Bounds, ms, against figures seen on these 2 vCPUs while a full `npm test` ran beside (p50 TTFT error
 * 0.2–0.5, p50 ITL error ≤ 0.13, p50 excess over the bare reader ≤ 0.4): a median TTFT more than
 * 25 ms late, an ITL median 3 ms off the injected 4 ms, or a median excess over the bare reader of more
 * than 5 ms (TTFT) or 2 ms (ITL) — harness and reader alternate ABBA in the same run, so load cancels — is a
 * measuring bug (a wrong stamp, a unit slip, a stream read late), not noise.
 */
import { describe, expect, it } from 'vitest'
import type { SelftestLevel } from '../../harness/cli/commands/selftest.ts'
import { runCli } from '../helpers/cli.ts'

const INJECTED_TTFT_MS = 20
const INJECTED_ITL_MS = 4
/** Median TTFT − injected, ms: generous for a loaded 2-core box (seen ≤ 0.6). */
const TTFT_P50_LATE_LIMIT_MS = 25
/** |median ITL − injected|, ms (seen ≤ 0.13). */
const ITL_P50_OFF_LIMIT_MS = 3
/** |harness median error − bare reader median error|, ms (seen ≤ 0.4 TTFT, ≤ 0.13 ITL). */
const TTFT_P50_EXCESS_LIMIT_MS = 5
const ITL_P50_EXCESS_LIMIT_MS = 2

describe('bench selftest', () => {
  it('prints {"levels":[…]} with the error figures per level', async () => {
    // The undici client here; the default (http1) runs in every other CLI test against the mock.
    const args = ['selftest', '--json', '--levels', '1,8', '--requests', '24', '--client', 'undici']
    const timing = [
      '--ttft-ms',
      `${INJECTED_TTFT_MS}`,
      '--itl-ms',
      `${INJECTED_ITL_MS}`,
      '--output-tokens',
      '4',
    ]
    const { code, stdout, stderr } = await runCli([...args, ...timing], { timeoutMs: 120_000 })
    expect(code, stderr).toBe(0)
    const { levels } = JSON.parse(stdout) as { levels: SelftestLevel[] }
    expect(
      levels.map((l) => l.concurrency),
      'one entry per level',
    ).toEqual([1, 8])
    expect(
      levels.map((l) => l.order),
      'harness and bare reader in ABBA order, alternating by level',
    ).toEqual(['HBBH', 'BHHB'])
    for (const level of levels) {
      const at = `concurrency ${level.concurrency}`
      expect(level.ok, `${at}: every request measured`).toBe(24)
      // The CLI's error figures are |measured − injected| of its own measured figures.
      for (const [error, measured, injected] of [
        ['ttftP50ErrorMs', 'measuredTtftP50Ms', INJECTED_TTFT_MS],
        ['ttftP99ErrorMs', 'measuredTtftP99Ms', INJECTED_TTFT_MS],
        ['itlP50ErrorMs', 'measuredItlP50Ms', INJECTED_ITL_MS],
        ['itlP99ErrorMs', 'measuredItlP99Ms', INJECTED_ITL_MS],
      ] as const)
        expect(level[error], `${at}: ${error} = |${measured} − ${injected}|`).toBeCloseTo(
          Math.abs(level[measured] - injected),
          9,
        )
      // Bounds that can fail: see the header for the figures they were set against.
      expect(
        level.measuredTtftP50Ms - INJECTED_TTFT_MS,
        `${at}: median TTFT at most ${TTFT_P50_LATE_LIMIT_MS} ms late`,
      ).toBeLessThan(TTFT_P50_LATE_LIMIT_MS)
      expect(
        Math.abs(level.measuredItlP50Ms - INJECTED_ITL_MS),
        `${at}: median ITL within ${ITL_P50_OFF_LIMIT_MS} ms of the injected ${INJECTED_ITL_MS} ms`,
      ).toBeLessThan(ITL_P50_OFF_LIMIT_MS)
      expect(
        Math.abs(level.ttftP50ExcessMs),
        `${at}: median TTFT error within ${TTFT_P50_EXCESS_LIMIT_MS} ms of the bare reader's`,
      ).toBeLessThan(TTFT_P50_EXCESS_LIMIT_MS)
      expect(
        Math.abs(level.itlP50ExcessMs),
        `${at}: median ITL error within ${ITL_P50_EXCESS_LIMIT_MS} ms of the bare reader's`,
      ).toBeLessThan(ITL_P50_EXCESS_LIMIT_MS)
      expect(typeof level.clientSaturated, `${at}: clientSaturated`).toBe('boolean')
      expect(level.clientCpuUsPerChunk, `${at}: the client's CPU per chunk`).toBeGreaterThan(0)
      // The mock writes nothing before its deadline, counted from the client's own send stamp.
      expect(level.measuredTtftP50Ms, `${at}: TTFT never below the injected 20 ms`).toBeGreaterThanOrEqual(
        INJECTED_TTFT_MS,
      )
      expect(level.serverTtftLateP50Ms, `${at}: the mock is never early`).toBeGreaterThanOrEqual(0)
      expect(level.ttftClientErrorP50Ms, `${at}: the client share is measured`).not.toBeNull()
      // The floor: a bare raw-socket reader at the same load, and the harness's excess over it.
      expect(level.bareOk, `${at}: the bare reader measured every request`).toBe(24)
      for (const key of [
        'bareTtftP50ErrorMs',
        'bareTtftP99ErrorMs',
        'bareItlP50ErrorMs',
        'bareItlP99ErrorMs',
        'ttftP50ExcessMs',
        'ttftP99ExcessMs',
        'itlP50ExcessMs',
        'itlP99ExcessMs',
        'bareCpuUsPerChunk',
      ] as const)
        expect(Number.isFinite(level[key]), `${at}: ${key} is a finite number`).toBe(true)
      expect(level.ttftP99ExcessMs, `${at}: excess = harness error − bare error`).toBeCloseTo(
        level.ttftP99ErrorMs - level.bareTtftP99ErrorMs,
        9,
      )
    }
  }, 150_000)

  it('refuses a bad --requests with one line naming it', async () => {
    const { code, stderr } = await runCli(['selftest', '--requests', '0'])
    expect(code, 'exit code').toBe(1)
    expect(stderr.trim(), 'message').toMatch(/--requests expects an integer ≥ 1, got "0"/)
    expect(stderr, 'no stack trace').not.toMatch(/\n\s+at /)
    const client = await runCli(['selftest', '--client', 'curl'])
    expect(client.code, 'exit code').toBe(1)
    expect(client.stderr, 'the choices').toMatch(
      /--client .+ 'curl' is invalid\. Allowed choices are http1, undici, sdk/,
    )
  })
})
