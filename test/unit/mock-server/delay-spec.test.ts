import { describe, expect, it } from 'vitest'
import { mockOptionsFromFlags, parseDelaySpec } from '../../../harness/cli/commands/mock-server.ts'

describe('parseDelaySpec', () => {
  it('parses the three forms', () => {
    expect(parseDelaySpec('fixed:20', '--ttft'), 'fixed').toEqual({ kind: 'fixed', ms: 20 })
    expect(parseDelaySpec('fixed:0.5', '--itl'), 'fractional').toEqual({ kind: 'fixed', ms: 0.5 })
    expect(parseDelaySpec('uniform:10-30', '--itl'), 'uniform').toEqual({
      kind: 'uniform',
      minMs: 10,
      maxMs: 30,
    })
    expect(parseDelaySpec(' lognormal:20,0.5 ', '--ttft'), 'lognormal').toEqual({
      kind: 'lognormal',
      medianMs: 20,
      sigma: 0.5,
    })
  })

  it('rejects anything else, naming the flag and the accepted forms', () => {
    for (const bad of [
      '20',
      'fixed:',
      'fixed:-1',
      'fixed:abc',
      'uniform:30-10',
      'uniform:10',
      'lognormal:0,1',
      'normal:1,2',
      '',
    ]) {
      expect(() => parseDelaySpec(bad, '--itl'), `"${bad}"`).toThrow(
        /--itl: .*accepted forms: fixed:MS, uniform:MIN-MAX or lognormal:MEDIAN,SIGMA/,
      )
    }
  })
})

describe('mockOptionsFromFlags', () => {
  it('maps flags to options and reads the API key from the named variable', () => {
    const options = mockOptionsFromFlags(
      {
        host: '127.0.0.1',
        port: 0,
        itl: { kind: 'fixed', ms: 3 },
        faultDrop: 0.25,
        spinWindow: 0,
        apiKeyEnv: 'MOCK_KEY',
      },
      { MOCK_KEY: 'secret' },
    )
    expect(options.itl, 'itl').toEqual({ kind: 'fixed', ms: 3 })
    expect(options.faults.rateDrop, 'drop rate').toBe(0.25)
    expect(options.apiKey, 'api key from env').toBe('secret')
    expect(options.ttft, 'default ttft').toEqual({ kind: 'fixed', ms: 20 })
    expect(options.spinWindowMs, 'spin window').toBe(0)
    expect(options.outputTokens, 'default output tokens').toBe(16)
  })

  it('names the flag when validation fails and never prints the key', () => {
    expect(
      () => mockOptionsFromFlags({ host: 'h', port: 0, apiKeyEnv: 'MISSING' }, {}),
      'missing env',
    ).toThrow(/--api-key-env: the environment variable MISSING is not set/)
    expect(
      () => mockOptionsFromFlags({ host: 'h', port: 0, fault429: 0.6, faultStall: 0.6 }, {}),
      'sum',
    ).toThrow(/--fault-\*: the fault rates add up to more than 1/)
    expect(
      () => mockOptionsFromFlags({ host: 'h', port: 0, model: '', apiKeyEnv: 'K' }, { K: 'hush-123' }),
      'bad model',
    ).toThrow(/--model/)
    try {
      mockOptionsFromFlags({ host: 'h', port: 0, model: '', apiKeyEnv: 'K' }, { K: 'hush-123' })
    } catch (err) {
      expect((err as Error).message.includes('hush-123'), 'key not in the message').toBe(false)
    }
  })
})
