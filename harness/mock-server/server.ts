/**
 * Serves the mock app over HTTP with @hono/node-server.
 * @module
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { loadAnswerKey } from './answers.ts'
import { createMockApp, type MockAppInternals } from './app.ts'
import { configureServer, connectionListener } from './connections.ts'
import type { MockOptionsInput } from './options.ts'
import { MockOptionsError, parseMockOptions } from './parse-options.ts'

export interface MockServerHandle {
  /** Base URL including /v1, e.g. http://127.0.0.1:43210/v1. */
  url: string
  port: number
  /** Stops listening, drops open connections (stalled streams included) and resolves once closed. */
  close(): Promise<void>
}

export interface MockListenOptions {
  /** @default '127.0.0.1' */
  host?: string
  /** 0 picks a free port. @default 0 */
  port?: number
}

/** Throws MockOptionsError naming each invalid field (an answers key that cannot be loaded: `answers.key`). */
export async function startMockServer(
  options: MockOptionsInput,
  listen: MockListenOptions = {},
  internals: MockAppInternals = {},
): Promise<MockServerHandle> {
  const parsed = parseMockOptions(options)
  const host = listen.host ?? '127.0.0.1'
  if (parsed.answers !== undefined && internals.answerKey === undefined) {
    try {
      internals = { ...internals, answerKey: await loadAnswerKey(parsed.answers, parsed.seed) }
    } catch (error) {
      throw new MockOptionsError([{ path: 'answers.key', message: (error as Error).message }], {
        cause: error,
      })
    }
  }
  const mock = createMockApp(parsed, internals)
  // @hono/node-server's listener under our own server, so the personality's connection handling wraps it.
  const server = createServer(
    // noDelay: each chunk leaves when written (Nagle would hold small writes back by up to 40 ms).
    { noDelay: true, keepAlive: true },
    connectionListener(parsed.personality, getRequestListener(mock.app.fetch)),
  )
  configureServer(server, parsed.personality)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(listen.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const urlHost = host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | undefined
  return {
    url: `http://${urlHost}:${port}/v1`,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        mock.close()
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      })
      return closing
    },
  }
}
