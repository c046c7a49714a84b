import { describe, expect, it } from 'vitest'
import { createMockApp } from '../../../harness/mock-server/app.ts'
import { parseMockOptions } from '../../../harness/mock-server/parse-options.ts'

// The same app without a port (app.request): responses go through a ReadableStream instead of the Node response.
const zero = { ttft: { kind: 'fixed', ms: 0 }, itl: { kind: 'fixed', ms: 0 } } as const
const rates = { rate429: 0, rate500: 0, rateDrop: 0, rateMalformed: 0, rateStall: 0 }
const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
})
const dataLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6))

describe('createMockApp without a server', () => {
  it('streams a chat completion through app.request', async () => {
    const mock = createMockApp(parseMockOptions({ ...zero, tokensPerChunk: 4 }))
    try {
      const res = await mock.app.request(
        '/v1/chat/completions',
        json({ messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 8 }),
      )
      expect(res.status, 'status').toBe(200)
      const lines = dataLines(await res.text())
      // role + 2 content + finish + [DONE]
      expect(lines.length, 'data lines').toBe(5)
      expect(lines.at(-1), 'last').toBe('[DONE]')
      expect(mock.stats.tokensGenerated, 'stats.tokensGenerated').toBe(8)
      expect(mock.stats.streamsInFlight, 'stats.streamsInFlight').toBe(0)
      expect(mock.stats.scheduleError().count, 'schedule samples').toBe(2)
    } finally {
      mock.close()
    }
  })

  it('drop errors the body after half the chunks; 401 without the key', async () => {
    const mock = createMockApp(parseMockOptions({ ...zero, apiKey: 'k', faults: { ...rates, rateDrop: 1 } }))
    try {
      const denied = await mock.app.request('/v1/completions', json({ prompt: 'a' }))
      expect(denied.status, 'no key').toBe(401)
      const res = await mock.app.request(
        '/v1/completions',
        json({ prompt: 'a', stream: true, max_tokens: 6 }, { authorization: 'Bearer k' }),
      )
      const reader = res.body!.getReader()
      let text = ''
      const decoder = new TextDecoder()
      await expect(
        (async () => {
          for (;;) {
            const { done, value } = await reader.read()
            if (done) return
            text += decoder.decode(value)
          }
        })(),
        'body read',
      ).rejects.toThrow(/dropped/)
      expect(dataLines(text).length, 'ceil(6 / 2) content chunks before the drop').toBe(3)
      expect(mock.stats.faults.drop, 'drop counted').toBe(1)
    } finally {
      mock.close()
    }
  })
})
