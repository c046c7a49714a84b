import { describe, expect, it } from 'vitest'
import { parseScenario, scenarioHash } from '../../../harness/config/index.ts'
import { registerScrapeEndpoint, scrapeTarget } from '../../../harness/server-metrics/endpoint.ts'

const scenario = (extra: Record<string, unknown> = {}) =>
  parseScenario({
    name: 's',
    prompts: { kind: 'synthetic', promptTokens: 4, outputTokens: 2 },
    targets: [{ name: 't', engine: { kind: 'openai', model: 'm', baseUrl: 'http://127.0.0.1:8000/v1' } }],
    loads: [{ kind: 'sequential', requests: 1 }],
    ...extra,
  })

describe('serverMetrics (scenario field)', () => {
  it('takes auto, off or an http(s) URL, and leaves the scenario hash alone', () => {
    for (const value of ['auto', 'off', 'http://127.0.0.1:8000/metrics', 'https://h/x/metrics'])
      expect(scenario({ serverMetrics: value }).serverMetrics, value).toBe(value)
    expect(scenarioHash(scenario({ serverMetrics: 'off' })), 'hash').toBe(scenarioHash(scenario()))
  })
  it.each([
    'sometimes',
    'ftp://h/metrics',
    '127.0.0.1:8000/metrics',
    'http://u:pw@h/metrics',
    'http://h/metrics?key=k',
  ])('refuses %j, naming the field', (value) => {
    expect(() => scenario({ serverMetrics: value })).toThrow(
      /serverMetrics: must be "auto" \(the endpoint's <origin>\/metrics\), "off", or the http\(s\) URL of a Prometheus \/metrics/,
    )
  })
})

describe('scrapeTarget', () => {
  const engine = {}
  registerScrapeEndpoint(engine, {
    baseUrl: 'http://127.0.0.1:8000/v1',
    headers: { authorization: 'Bearer k' },
  })
  it('auto: the endpoint origin’s /metrics with its headers; nothing for an engine without an endpoint', () => {
    expect(scrapeTarget(undefined, engine)).toEqual({
      url: 'http://127.0.0.1:8000/metrics',
      headers: { authorization: 'Bearer k' },
    })
    expect(scrapeTarget('auto', engine)?.url).toBe('http://127.0.0.1:8000/metrics')
    expect(scrapeTarget('auto', {}), 'a native engine').toBeUndefined()
    expect(scrapeTarget('off', engine), 'off').toBeUndefined()
  })
  it('a URL: the headers only on the endpoint’s own origin (the key never goes to another host)', () => {
    expect(scrapeTarget('http://127.0.0.1:8000/other', engine)?.headers).toEqual({
      authorization: 'Bearer k',
    })
    expect(scrapeTarget('http://127.0.0.1:9090/metrics', engine)?.headers, 'another port').toEqual({})
    expect(scrapeTarget('http://10.0.0.1:8000/metrics', {}), 'a native engine, told where').toEqual({
      url: 'http://10.0.0.1:8000/metrics',
      headers: {},
    })
  })
})
