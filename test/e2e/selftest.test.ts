/**
 * `bench selftest --json` end to end: the real CLI, the mock in its own process, two small levels. Asserts
 * the JSON contract and what must hold on any machine (every request measured, by the harness and by the
 * bare reader, the mock never early);
 * the error figures themselves are a benchmark's to print, not a test's to bound.
 */
import { describe, expect, it } from 'vitest'
import type { SelftestLevel } from '../../harness/cli/commands/selftest.ts'
import { runCli } from '../helpers/cli.ts'

describe('bench selftest', () => {
  it('prints {"levels":[…]} with the error figures per level', async () => {
    // The undici client here; the default (http1) runs in every other CLI test against the mock.
    const args = ['selftest', '--json', '--levels', '1,8', '--requests', '24', '--client', 'undici']
    const timing = ['--ttft-ms', '20', '--itl-ms', '4', '--output-tokens', '4']
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
      for (const key of ['ttftP50ErrorMs', 'ttftP99ErrorMs', 'itlP50ErrorMs', 'itlP99ErrorMs'] as const)
        expect(level[key], `${at}: ${key} is |measured − injected|`).toBeGreaterThanOrEqual(0)
      expect(typeof level.clientSaturated, `${at}: clientSaturated`).toBe('boolean')
      expect(level.clientCpuUsPerChunk, `${at}: the client's CPU per chunk`).toBeGreaterThan(0)
      // The mock writes nothing before its deadline, counted from the client's own send stamp.
      expect(level.measuredTtftP50Ms, `${at}: TTFT never below the injected 20 ms`).toBeGreaterThanOrEqual(20)
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
