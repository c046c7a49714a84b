/**
 * Stored hashes must not move: scenario hashes and fingerprints key every existing history. These values
 * were computed before canonical JSON became one function (harness/canonical-json.ts), by the two it
 * replaced (db/identity.ts canonicalJson, harness/config stableStringify).
 */
import { describe, expect, it } from 'vitest'
import { runFingerprint } from '../../db/identity.ts'
import { canonicalJson } from '../../harness/canonical-json.ts'
import { parseScenario, scenarioHash } from '../../harness/config/index.ts'
import type { RunMeta } from '../../harness/results.ts'

const scenario = parseScenario({
  name: 'pin',
  prompts: { kind: 'synthetic', promptTokens: 32, outputTokens: 8 },
  loads: [{ kind: 'concurrent', concurrency: 4, requests: 10 }],
  targets: [{ name: 't', engine: { kind: 'openai', baseUrl: 'http://127.0.0.1:1', model: 'm' } }],
})

const engineOptions = {
  baseUrl: 'http://127.0.0.1:1',
  // Integer-like keys: canonical JSON puts them first, in numeric order (object key order).
  extraBody: { logit_bias: { '50256': -100, '9': 1 } },
  headers: { 'x-routing': 'a', authorization: 'Bearer k' },
}
const meta = {
  scenario: { name: 'pin', hash: scenarioHash(scenario) },
  engine: { kind: 'openai', model: 'm', engineVersion: '1.2' },
  engineOptions,
  load: { kind: 'concurrent', concurrency: 4, requests: 10 },
  environment: {
    cpuModel: 'cpu',
    cores: 2,
    ramBytes: 1024,
    gpus: [],
    os: 'linux',
    nodeVersion: 'v22',
    engineVersions: {},
  },
} as unknown as RunMeta

describe('canonical JSON and the hashes stored from it', () => {
  it('keeps the scenario hash of an existing history', () => {
    expect(scenarioHash(scenario), 'scenarioHash of the pinned scenario').toBe('169c83d9382d2876')
  })

  it('keeps the fingerprints of an existing history', () => {
    expect(runFingerprint(meta), 'redacted options only').toBe(
      '20890df9f13717cc2577eebb4c630044a8b31d12f04a6fee184a848e888df16f',
    )
    expect(runFingerprint(meta, engineOptions), 'with raw header values').toBe(
      '0d5864d8a526f2c0f92881d640072f3dec5856f2dce83731d4d79050a4a0984b',
    )
  })

  it('sorts keys (integer-like first, numerically), drops undefined members, keeps array holes as null', () => {
    expect(canonicalJson({ b: 1, a: { '10': 1, '9': 2, z: [3, { y: 1, x: undefined }, undefined] } })).toBe(
      '{"a":{"9":2,"10":1,"z":[3,{"y":1},null]},"b":1}',
    )
    expect(canonicalJson({ at: new Date(0) }), 'toJSON honoured').toBe('{"at":"1970-01-01T00:00:00.000Z"}')
  })
})
