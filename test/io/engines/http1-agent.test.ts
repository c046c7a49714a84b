/**
 * Http1Agent against real loopback servers: node:http for ordinary exchanges, node:net writing raw bytes
 * for byte-exact and misbehaving ones, node:https with the test certificate in test/fixtures/tls.
 */
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { wallMs } from '../../../harness/clock.ts'
import { connectionRetriesOf } from '../../../harness/engines/openai/connection-retry.ts'
import {
  Http1Agent,
  type Http1AgentOptions,
  Http1Error,
  HttpParseError,
} from '../../../harness/engines/openai/http1/agent.ts'
import { AbortSource } from '../../../harness/engines/openai/openai-scope.ts'

const cleanups: (() => unknown)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url)
const CERT = readFileSync(new URL('localhost-cert.pem', TLS_DIR))
const KEY = readFileSync(new URL('localhost-key.pem', TLS_DIR))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls until `condition` holds; the bound only stops a broken test from hanging. */
async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

interface Listening {
  port: number
  /** Server-side sockets, in the order they connected. */
  sockets: Socket[]
}

async function listen(server: NetServer): Promise<Listening> {
  const sockets: Socket[] = []
  server.on('connection', (socket: Socket) => sockets.push(socket))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  return { port: (server.address() as AddressInfo).port, sockets }
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void

interface Received {
  method: string | undefined
  url: string | undefined
  headers: IncomingMessage['headers']
  body: Buffer
  /** The server-side socket's index in Listening.sockets. */
  socket: number
}

/** A node:http server recording each request, answering through `handler`. */
async function httpServer(handler: Handler): Promise<Listening & { url: string; received: Received[] }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (part: Buffer) => parts.push(part))
    req.on('end', () => {
      const body = Buffer.concat(parts)
      const socket = listening.sockets.indexOf(req.socket)
      received.push({ method: req.method, url: req.url, headers: req.headers, body, socket })
      handler(req, res, body)
    })
  })
  const listening = await listen(server)
  return { ...listening, url: `http://127.0.0.1:${listening.port}`, received }
}

/**
 * A node:net server answering each request head it receives (requests here carry no body) by calling
 * `respond` with the server socket, the request's index and its path.
 */
async function rawServer(
  respond: (socket: Socket, index: number, path: string) => void,
): Promise<Listening & { url: string; requests: string[]; server: NetServer }> {
  const requests: string[] = []
  const server = createNetServer((socket) => {
    let pending = ''
    socket.on('data', (bytes) => {
      pending += bytes.toString('latin1')
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end)
        requests.push(head)
        pending = pending.slice(end + 4)
        respond(socket, requests.length - 1, head.split(' ')[1] ?? '')
      }
    })
    socket.on('error', () => {})
  })
  const listening = await listen(server)
  return { ...listening, url: `http://127.0.0.1:${listening.port}`, requests, server }
}

function agentFor(url: string, options?: Http1AgentOptions): Http1Agent {
  const agent = new Http1Agent(url, options)
  cleanups.push(() => agent.destroy())
  return agent
}

const get = (agent: Http1Agent, path = '/', signal?: AbortSource) =>
  agent.request({ method: 'GET', path, headers: {}, ...(signal ? { signal } : {}) })

const closed = (socket: Socket) =>
  new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())))

/** What the promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

/** A response head and a first chunk, then nothing until the test writes more. */
const STREAM_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n'
const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`

describe('Http1Agent over http:', () => {
  it('GET: method, path, host and headers reach the server; the response comes back', async () => {
    const server = await httpServer((_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.setHeader('x-multi', ['a', 'b'])
      res.end('{"ok":true}')
    })
    const agent = agentFor(server.url)
    const response = await agent.request({
      method: 'GET',
      path: '/v1/models?limit=2',
      headers: { authorization: 'Bearer k', 'x-custom': 'v' },
    })
    expect(response.statusCode).toBe(200)
    expect(response.keepAlive).toBe(true)
    expect(response.headers['content-type']).toBe('application/json')
    expect(response.headers['x-multi']).toBe('a, b')
    expect(await response.body.text()).toBe('{"ok":true}')
    const [request] = server.received
    expect(request?.method).toBe('GET')
    expect(request?.url).toBe('/v1/models?limit=2')
    expect(request?.headers.host).toBe(`127.0.0.1:${server.port}`)
    expect(request?.headers.authorization).toBe('Bearer k')
    expect(request?.headers['x-custom']).toBe('v')
    expect(request?.headers['content-length'], 'no body, no length').toBeUndefined()
    expect(request?.headers['transfer-encoding']).toBeUndefined()
  })

  it('POST: a UTF-8 body arrives byte-exact with its byte length as Content-Length', async () => {
    const server = await httpServer((_req, res, body) => {
      res.setHeader('content-type', 'text/plain; charset=utf-8')
      res.end(body)
    })
    const agent = agentFor(server.url)
    const text = 'héllo ✓ 日本語 🚀 "quoted"\n'
    const response = await agent.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: text,
    })
    expect(response.statusCode).toBe(200)
    expect(await response.body.text(), 'echoed and decoded as UTF-8').toBe(text)
    const [request] = server.received
    expect(request?.method).toBe('POST')
    expect(request?.url).toBe('/v1/chat/completions')
    expect(request?.headers['content-length']).toBe(String(Buffer.byteLength(text)))
    expect(Buffer.byteLength(text)).toBeGreaterThan(text.length)
    expect(request?.body.equals(Buffer.from(text, 'utf8'))).toBe(true)
  })

  it('reports non-2xx statuses as responses, with their body', async () => {
    const server = await httpServer((_req, res) => {
      res.statusCode = 503
      res.end('busy')
    })
    const response = await get(agentFor(server.url))
    expect(response.statusCode).toBe(503)
    expect(await response.body.text()).toBe('busy')
  })

  it('reuses a keep-alive connection for sequential requests', async () => {
    const server = await httpServer((_req, res) => res.end('ok'))
    const agent = agentFor(server.url)
    for (let i = 0; i < 3; i++) {
      const response = await get(agent, `/${i}`)
      expect(await response.body.text()).toBe('ok')
      expect(agent.connections).toBe(1)
    }
    expect(server.sockets.length, 'server connections').toBe(1)
    expect(server.received.map((r) => r.socket)).toEqual([0, 0, 0])
  })

  it('does not reuse a connection after Connection: close', async () => {
    const server = await httpServer((_req, res) => {
      res.setHeader('connection', 'close')
      res.end('bye')
    })
    const agent = agentFor(server.url)
    const first = await get(agent)
    expect(first.keepAlive).toBe(false)
    expect(await first.body.text()).toBe('bye')
    const second = await get(agent)
    expect(await second.body.text()).toBe('bye')
    expect(server.sockets.length).toBe(2)
    await until(() => agent.connections === 0, 'the agent to drop both connections')
  })

  it('does not reuse a connection whose body was delimited by its close', async () => {
    const server = await rawServer((socket) =>
      socket.end('HTTP/1.1 200 OK\r\nX-Framing: none\r\n\r\nall of it'),
    )
    const agent = agentFor(server.url)
    for (let i = 0; i < 2; i++) {
      const response = await get(agent)
      expect(response.keepAlive).toBe(false)
      expect(await response.body.text()).toBe('all of it')
    }
    expect(server.sockets.length).toBe(2)
    await until(() => agent.connections === 0, 'the agent to drop both connections')
  })

  it('maxConnections=2: four concurrent requests share two connections and all complete', async () => {
    let inFlight = 0
    let maxInFlight = 0
    const server = await httpServer((req, res) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight)
      setTimeout(() => {
        inFlight--
        res.end(`reply to ${req.url}`)
      }, 30)
    })
    const agent = agentFor(server.url, { maxConnections: 2 })
    const requests = [0, 1, 2, 3].map((i) => get(agent, `/${i}`))
    expect(agent.connections, 'no more than two opened').toBe(2)
    const texts = await Promise.all(requests.map(async (r) => (await r).body.text()))
    expect(texts).toEqual(['reply to /0', 'reply to /1', 'reply to /2', 'reply to /3'])
    expect(server.sockets.length, 'server connections').toBe(2)
    expect(maxInFlight).toBeLessThanOrEqual(2)
    expect(agent.connections).toBe(2)
  })

  it('maxConnections=1 with Connection: close: each waiting request gets a fresh connection in turn', async () => {
    let open = 0
    let maxOpen = 0
    const server = await rawServer((socket, index) =>
      socket.end(`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n${index}`),
    )
    server.server.on('connection', (socket: Socket) => {
      maxOpen = Math.max(maxOpen, ++open)
      socket.on('close', () => open--)
    })
    const agent = agentFor(server.url, { maxConnections: 1 })
    const texts = await Promise.all([0, 1, 2].map(async () => (await get(agent)).body.text()))
    expect(texts.sort()).toEqual(['0', '1', '2'])
    expect(server.sockets.length).toBe(3)
    expect(maxOpen, 'one connection at a time, counting the server side').toBeLessThanOrEqual(2)
  })

  it('a request waiting for a connection fails with the abort reason and leaves the pool working', async () => {
    const held: ServerResponse[] = []
    const server = await httpServer((_req, res) => held.push(res))
    const agent = agentFor(server.url, { maxConnections: 1 })
    const first = get(agent, '/first')
    await until(() => held.length === 1, 'the first request to reach the server')
    const source = new AbortSource()
    const waiting = get(agent, '/waiting', source)
    const reason = new Error('caller gave up')
    source.abort(reason)
    expect(await rejection(waiting)).toBe(reason)
    expect(source.listenerCount('abort'), 'the abort listener is removed').toBe(0)
    held[0]!.end('first done')
    expect(await (await first).body.text()).toBe('first done')
    const third = get(agent, '/third')
    await until(() => held.length === 2, 'the third request to reach the server')
    held[1]!.end('third done')
    expect(await (await third).body.text()).toBe('third done')
    expect(
      server.received.map((r) => r.url),
      'the aborted request was never sent',
    ).toEqual(['/first', '/third'])
    expect(server.sockets.length).toBe(1)
  })

  it('an already-aborted signal rejects at once, without connecting', async () => {
    const server = await httpServer((_req, res) => res.end())
    const agent = agentFor(server.url)
    const source = new AbortSource()
    source.abort('already')
    expect(await rejection(get(agent, '/', source))).toBe('already')
    expect(agent.connections).toBe(0)
  })

  it('abort before the head arrives rejects the request and closes its connection', async () => {
    const server = await rawServer(() => {})
    const agent = agentFor(server.url)
    const source = new AbortSource()
    const pending = get(agent, '/', source)
    await until(() => server.requests.length === 1, 'the request to reach the server')
    const reason = new Error('stop')
    source.abort(reason)
    expect(await rejection(pending)).toBe(reason)
    await closed(server.sockets[0]!)
    await until(() => agent.connections === 0, 'the agent to drop the connection')
  })

  it('abort while streaming fails the body read with the reason, closes the socket, and the pool works on', async () => {
    const server = await rawServer((socket, index) => {
      if (index === 0) socket.write(STREAM_HEAD + chunk('data: 1\n\n'))
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain')
    })
    const agent = agentFor(server.url)
    const source = new AbortSource()
    const response = await get(agent, '/', source)
    expect((await response.body.read())?.bytes.toString()).toBe('data: 1\n\n')
    const reason = new Error('enough')
    const next = response.body.read()
    source.abort(reason)
    expect(await rejection(next)).toBe(reason)
    expect(await rejection(response.body.read()), 'later reads fail the same way').toBe(reason)
    await closed(server.sockets[0]!)
    await until(() => agent.connections === 0, 'the agent to drop the connection')
    expect(await (await get(agent)).body.text()).toBe('again')
    expect(server.sockets.length).toBe(2)
  })

  it('an abort after the response completed changes nothing', async () => {
    const server = await httpServer((_req, res) => res.end('done'))
    const agent = agentFor(server.url)
    const source = new AbortSource()
    const response = await get(agent, '/', source)
    expect(await response.body.text()).toBe('done')
    expect(source.listenerCount('abort'), 'the abort listener is removed').toBe(0)
    source.abort(new Error('late'))
    expect(await (await get(agent)).body.text()).toBe('done')
    expect(server.sockets.length, 'the connection stayed reusable').toBe(1)
  })

  it('after the server closes an idle keep-alive connection the next request opens a new one', async () => {
    const server = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      setTimeout(() => socket.end(), 20)
    })
    const agent = agentFor(server.url)
    expect(await (await get(agent)).body.text()).toBe('ok')
    await until(() => agent.connections === 0, 'the agent to see the server close')
    expect(await (await get(agent)).body.text()).toBe('ok')
    expect(server.sockets.length).toBe(2)
  })

  it('Keep-Alive: timeout=1 leaves no idle time (N−1 s): the agent closes, and the next request still succeeds', async () => {
    const server = await rawServer((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok'),
    )
    const agent = agentFor(server.url)
    const started = performance.now()
    expect(await (await get(agent)).body.text()).toBe('ok')
    // Straight away, as a benchmark loop would: the connection being closed must not be handed out.
    expect(await (await get(agent)).body.text()).toBe('ok')
    expect(server.sockets.length).toBe(2)
    await Promise.all(server.sockets.map(closed))
    expect(
      performance.now() - started,
      'closed by the agent, not by the server (which never closes)',
    ).toBeLessThan(1_500)
    await until(() => agent.connections === 0, 'the agent to drop both connections')
  })

  it('closes a connection idle for keepAliveMs', async () => {
    const server = await httpServer((_req, res) => res.end('ok'))
    const agent = agentFor(server.url, { keepAliveMs: 250 })
    expect(await (await get(agent)).body.text()).toBe('ok')
    const idleSince = performance.now()
    await closed(server.sockets[0]!)
    const idleFor = performance.now() - idleSince
    expect(idleFor).toBeGreaterThanOrEqual(200)
    expect(idleFor).toBeLessThan(1_500)
    await until(() => agent.connections === 0, 'the agent to drop the connection')
  })

  it('does not reuse a connection that sent more than the response', async () => {
    const server = await rawServer((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n'),
    )
    const agent = agentFor(server.url)
    expect(await (await get(agent)).body.text()).toBe('ok')
    await closed(server.sockets[0]!)
    expect(await (await get(agent)).body.text()).toBe('ok')
    expect(server.sockets.length).toBe(2)
  })

  it('drops an idle connection that receives bytes nobody asked for', async () => {
    const server = await rawServer((socket, index) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      if (index === 0) setTimeout(() => socket.write('garbage'), 20)
    })
    const agent = agentFor(server.url)
    expect(await (await get(agent)).body.text()).toBe('ok')
    await closed(server.sockets[0]!)
    await until(() => agent.connections === 0, 'the agent to drop the connection')
    expect(await (await get(agent)).body.text()).toBe('ok')
  })

  describe('a request lost to a reused connection the server closed (as llama-server does after a stream)', () => {
    const ok = 'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 2\r\n\r\nok'
    /** Answers the first request of the first connection; what `second` says for the second on it. */
    const closingAfterFirst = (
      second: (socket: Socket) => void,
      fresh: (socket: Socket) => void = (s) => s.write(ok),
    ) =>
      rawServer((socket, index) => {
        if (index === 0) socket.write(ok)
        else if (index === 1) second(socket)
        else fresh(socket)
      })

    for (const [how, close] of [
      ['FIN (EOF)', (socket: Socket) => socket.end()],
      ['reset (ECONNRESET)', (socket: Socket) => socket.resetAndDestroy()],
    ] as const) {
      it(`${how} before any response byte: sent once more on a fresh connection, and counted`, async () => {
        const server = await closingAfterFirst(close)
        const agent = agentFor(server.url)
        const first = await get(agent, '/a')
        expect(await first.body.text()).toBe('ok')
        expect(first.connectionRetries, 'first request').toBe(0)
        const second = await get(agent, '/b')
        expect(await second.body.text(), 'the retry is answered').toBe('ok')
        expect(second.connectionRetries, 'counted').toBe(1)
        expect(
          server.requests.map((head) => head.split(' ')[1]),
          'sent twice',
        ).toEqual(['/a', '/b', '/b'])
        expect(server.sockets.length, 'the retry opened a connection of its own').toBe(2)
      })
    }

    /** As llama-server after a stream: FIN 1 ms after the response; a request meanwhile is never answered. */
    const closing = new WeakSet<Socket>()
    const closeAfterEachResponse = (socket: Socket) => {
      if (closing.has(socket)) return
      closing.add(socket)
      socket.write(ok)
      setTimeout(() => socket.end(), 1)
    }

    it('once the server is seen to close right after responses, finished connections are not kept', async () => {
      const server = await rawServer(closeAfterEachResponse)
      const agent = agentFor(server.url)
      // Sent at once: the first reuse meets the closing connection and is retried (which teaches the agent).
      expect(await (await get(agent, '/a')).body.text()).toBe('ok')
      const second = await get(agent, '/b')
      expect(await second.body.text()).toBe('ok')
      for (const path of ['/c', '/d', '/e']) {
        const response = await get(agent, path)
        expect(await response.body.text()).toBe('ok')
        expect(response.connectionRetries, `${path}: a fresh connection, no lost attempt`).toBe(0)
      }
      expect(server.requests.length, 'at most one lost attempt in all').toBeLessThanOrEqual(6)
      expect(server.sockets.length, 'a connection per request (a lost one shares the first)').toBe(5)
    })

    it('an idle connection closed by the server within 100 ms of its response teaches the same', async () => {
      const server = await rawServer(closeAfterEachResponse)
      const agent = agentFor(server.url)
      expect(await (await get(agent, '/a')).body.text()).toBe('ok')
      await until(() => agent.connections === 0, 'the agent to see the FIN')
      for (const path of ['/b', '/c']) {
        const response = await get(agent, path)
        expect(await response.body.text()).toBe('ok')
        expect(response.connectionRetries, path).toBe(0)
      }
      expect(server.requests.length, 'nothing lost').toBe(3)
      expect(server.sockets.length, 'a connection per request').toBe(3)
    })

    it('a fresh connection that closes before answering is not retried (the server saw the request)', async () => {
      const server = await rawServer((socket) => socket.end())
      const agent = agentFor(server.url)
      const error = await rejection(get(agent))
      expect(String(error)).toContain('closed before a response')
      expect(connectionRetriesOf(error), 'no retry').toBe(0)
      expect(server.requests.length, 'sent once').toBe(1)
    })

    it('a reused connection that closes after a response byte is not retried', async () => {
      const server = await closingAfterFirst((socket) => socket.end('HTTP/1.1 200 OK\r\n'))
      const agent = agentFor(server.url)
      expect(await (await get(agent)).body.text()).toBe('ok')
      const error = await rejection(get(agent))
      expect(String(error)).toContain('closed before a response')
      expect(server.requests.length, 'sent once').toBe(2)
      expect(connectionRetriesOf(error), 'no retry').toBe(0)
    })

    it('a retry that fails too rejects with that failure, counted once, and is not retried again', async () => {
      const server = await closingAfterFirst(
        (socket) => socket.end(),
        (socket) => socket.end(),
      )
      const agent = agentFor(server.url)
      expect(await (await get(agent)).body.text()).toBe('ok')
      const error = await rejection(get(agent))
      expect(String(error)).toContain('closed before a response')
      expect(connectionRetriesOf(error), 'the failure says the request was retried').toBe(1)
      expect(server.requests.length, 'first, lost, retry').toBe(3)
    })

    it('an abort while the request waits for its retry rejects with the reason and sends nothing more', async () => {
      let retrySocket: Socket | undefined
      const server = await closingAfterFirst(
        (socket) => socket.end(),
        (socket) => {
          retrySocket = socket
        },
      )
      const agent = agentFor(server.url)
      expect(await (await get(agent)).body.text()).toBe('ok')
      const source = new AbortSource()
      const pending = get(agent, '/', source)
      await until(() => retrySocket !== undefined, 'the retry to arrive')
      source.abort(new Error('stop'))
      expect(String(await rejection(pending))).toContain('stop')
      await closed(retrySocket!)
      expect(server.requests.length).toBe(3)
    })
  })

  it('a connection reset mid-body fails the read with ECONNRESET', async () => {
    const server = await rawServer((socket) => {
      socket.write(STREAM_HEAD + chunk('part'))
      setTimeout(() => socket.resetAndDestroy(), 20)
    })
    const agent = agentFor(server.url)
    const response = await get(agent)
    expect((await response.body.read())?.bytes.toString()).toBe('part')
    const error = (await rejection(response.body.read())) as NodeJS.ErrnoException
    expect(error.code).toBe('ECONNRESET')
    await until(() => agent.connections === 0, 'the agent to drop the connection')
  })

  it('rejects a header value with CR/LF or NUL, or a bad header name, before sending anything', async () => {
    const server = await httpServer((_req, res) => res.end())
    const agent = agentFor(server.url)
    const send = (headers: Record<string, string>) => agent.request({ method: 'GET', path: '/', headers })
    const injected = await rejection(send({ 'x-custom': 'a\r\nx-evil: 1' }))
    expect(injected).toBeInstanceOf(Http1Error)
    expect((injected as Error).message).toMatch(/header x-custom contains a line break/)
    expect(((await rejection(send({ 'x-lf': 'a\nb' }))) as Error).message).toMatch(/header x-lf/)
    expect(((await rejection(send({ 'x-nul': 'a\0b' }))) as Error).message).toMatch(/header x-nul .*NUL/)
    expect(((await rejection(send({ 'bad name': 'v' }))) as Error).message).toBe(
      'invalid header name "bad name"',
    )
    expect(((await rejection(send({ 'x-a:': 'v' }))) as Error).message).toMatch(/invalid header name/)
    const badPath = (path: string) => agent.request({ method: 'GET', path, headers: {} })
    expect(((await rejection(badPath('/a b'))) as Error).message).toMatch(/invalid request path "\/a b"/)
    expect(((await rejection(badPath('/a\r\nx: 1'))) as Error).message).toMatch(/invalid request path/)
    expect(((await rejection(badPath('a'))) as Error).message).toMatch(/must start with \//)
    expect(agent.connections, 'nothing connected').toBe(0)
    await sleep(20)
    expect(server.sockets.length, 'nothing reached the server').toBe(0)
  })

  it('a refused connection rejects with ECONNREFUSED', async () => {
    const probe = createNetServer()
    const { port } = await listen(probe)
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const agent = agentFor(`http://127.0.0.1:${port}`)
    const error = (await rejection(get(agent))) as NodeJS.ErrnoException
    expect(error.code).toBe('ECONNREFUSED')
    expect(error.message).toMatch(/ECONNREFUSED/)
    await until(() => agent.connections === 0, 'the failed connection to be dropped')
  })

  it('a malformed response head rejects with HttpParseError and drops the connection', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 OK\r\n\r\n'))
    const agent = agentFor(server.url)
    const error = await rejection(get(agent))
    expect(error).toBeInstanceOf(HttpParseError)
    expect((error as Error).message).toMatch(/not an HTTP\/1\.x status line/)
    await closed(server.sockets[0]!)
    await until(() => agent.connections === 0, 'the agent to drop the connection')
  })

  it('a malformed chunk mid-body fails the body read with HttpParseError', async () => {
    const server = await rawServer((socket) => {
      socket.write(STREAM_HEAD + chunk('first'))
      setTimeout(() => socket.write('zz\r\n'), 20)
    })
    const agent = agentFor(server.url)
    const response = await get(agent)
    expect((await response.body.read())?.bytes.toString()).toBe('first')
    const error = await rejection(response.body.read())
    expect(error).toBeInstanceOf(HttpParseError)
    expect((error as Error).message).toMatch(/invalid chunk size/)
    await closed(server.sockets[0]!)
  })

  it('a connection cut mid-body fails the read; before the head, the request', async () => {
    const server = await rawServer((socket, index) => {
      if (index === 0) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf')
      else socket.end()
    })
    const agent = agentFor(server.url)
    const response = await get(agent)
    const error = await rejection(response.body.text())
    expect(error).toBeInstanceOf(HttpParseError)
    expect((error as Error).message).toBe('the connection closed before the response ended')
    const early = await rejection(get(agent))
    expect((early as Error).message).toBe('the connection closed before a response')
  })

  it('body.destroy() mid-body closes the connection; later requests still work', async () => {
    const server = await rawServer((socket, index) => {
      if (index === 0) socket.write(STREAM_HEAD + chunk('data: 1\n\n'))
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext')
    })
    const agent = agentFor(server.url)
    const response = await get(agent)
    expect((await response.body.read())?.bytes.toString()).toBe('data: 1\n\n')
    response.body.destroy()
    await closed(server.sockets[0]!)
    await until(() => agent.connections === 0, 'the agent to drop the connection')
    const error = await rejection(response.body.read())
    expect((error as Error).message).toBe('the body was abandoned')
    expect(await (await get(agent)).body.text()).toBe('next')
  })

  it('body.destroy() after the body ended keeps the connection for reuse', async () => {
    const server = await httpServer((_req, res) => res.end('whole'))
    const agent = agentFor(server.url)
    const response = await get(agent)
    expect(await response.body.text()).toBe('whole')
    response.body.destroy()
    expect(await (await get(agent)).body.text()).toBe('whole')
    expect(server.sockets.length).toBe(1)
  })

  it('stamps each read when it left the socket: non-decreasing, on the wall-aligned clock', async () => {
    const server = await rawServer((socket) => {
      socket.write(STREAM_HEAD + chunk('one'))
      setTimeout(() => socket.write(chunk('two')), 30)
      setTimeout(() => socket.write(`${chunk('three')}0\r\n\r\n`), 60)
    })
    const agent = agentFor(server.url)
    const before = wallMs()
    const response = await get(agent)
    const stamps: number[] = []
    const texts: string[] = []
    for (let read = await response.body.read(); read !== undefined; read = await response.body.read()) {
      const now = performance.timeOrigin + performance.now()
      expect(read.atMs).toBeGreaterThanOrEqual(before)
      expect(read.atMs).toBeLessThanOrEqual(now)
      expect(now - read.atMs, 'stamped near its delivery').toBeLessThan(1_000)
      stamps.push(read.atMs)
      texts.push(read.bytes.toString())
    }
    expect(texts.join('')).toBe('onetwothree')
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b))
  })

  it('stamps at the socket read, not when the reader gets to it', async () => {
    // Head and body in one write: one read on loopback, stamped before request() resolves.
    const server = await rawServer((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody'),
    )
    const agent = agentFor(server.url)
    const response = await get(agent)
    const headSeen = wallMs()
    await sleep(200)
    const readCalled = wallMs()
    const read = await response.body.read()
    expect(read?.bytes.toString()).toBe('body')
    expect(read!.atMs).toBeLessThanOrEqual(headSeen)
    expect(readCalled - read!.atMs).toBeGreaterThanOrEqual(150)
  })

  it('destroy() fails requests in flight and closes idle sockets; later requests are refused', async () => {
    const server = await rawServer((socket, _index, path) => {
      if (path === '/idle') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nidle')
      else if (path === '/streaming') socket.write(STREAM_HEAD + chunk('streaming'))
      // '/headless': no answer at all
    })
    const agent = agentFor(server.url)
    const warmups = await Promise.all([0, 1, 2].map(() => get(agent, '/idle')))
    for (const response of warmups) expect(await response.body.text()).toBe('idle')
    expect(agent.connections).toBe(3)
    const streaming = await get(agent, '/streaming')
    expect((await streaming.body.read())?.bytes.toString()).toBe('streaming')
    const headless = get(agent, '/headless')
    await until(() => server.requests.length === 5, 'the last request to reach the server')
    expect(server.sockets.length, 'both reused idle connections, one still idle').toBe(3)
    await agent.destroy()
    expect(((await rejection(headless)) as Error).message, 'in flight, no head').toBe('the client is closed')
    expect(((await rejection(streaming.body.read())) as Error).message, 'mid-body').toBe(
      'the client is closed',
    )
    await Promise.all(server.sockets.map(closed))
    await until(() => agent.connections === 0, 'every connection to close')
    expect(((await rejection(get(agent))) as Error).message).toBe('the client is closed')
  })

  it('destroy() fails requests waiting for a connection', async () => {
    const server = await rawServer(() => {})
    const agent = agentFor(server.url, { maxConnections: 1 })
    const busy = get(agent, '/busy')
    const queued = get(agent, '/queued')
    await until(() => server.requests.length === 1, 'the first request to reach the server')
    await agent.destroy()
    expect(((await rejection(queued)) as Error).message).toBe('the client is closed')
    expect(await rejection(busy)).toBeInstanceOf(Http1Error)
    expect(server.requests.length, 'the queued request was never sent').toBe(1)
  })

  it('reaches an IPv6 literal origin, with the brackets kept in Host', async (context) => {
    const server = createServer((req, res) => res.end(req.headers.host))
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(0, '::1', () => resolve(true))
    })
    if (!ok) return context.skip('no IPv6 loopback here')
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    server.on('connection', (socket) => cleanups.push(() => socket.destroy()))
    const { port } = server.address() as AddressInfo
    const agent = agentFor(`http://[::1]:${port}`)
    expect(await (await get(agent)).body.text()).toBe(`[::1]:${port}`)
  })

  it('rejects origins other than http: and https:', () => {
    expect(() => new Http1Agent('ws://127.0.0.1:1')).toThrow(/ws: URLs are not supported/)
  })
})

describe('Http1Agent over https:', () => {
  async function httpsServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
    const server = createHttpsServer({ cert: CERT, key: KEY }, handler)
    let handshakes = 0
    server.on('secureConnection', () => handshakes++)
    const listening = await listen(server)
    return { ...listening, handshakes: () => handshakes }
  }

  it('round trip with the test CA, to an IP (SAN IP) and to localhost (SNI, SAN DNS), reusing the connection', async () => {
    const server = await httpsServer((req, res) => {
      res.setHeader('content-type', 'text/plain; charset=utf-8')
      res.end(`secure ${req.method} ${req.url} ✓`)
    })
    for (const host of ['127.0.0.1', 'localhost']) {
      const agent = agentFor(`https://${host}:${server.port}`, { tls: { ca: CERT } })
      for (let i = 0; i < 2; i++) {
        const response = await agent.request({ method: 'POST', path: `/${host}`, headers: {}, body: 'x' })
        expect(response.statusCode).toBe(200)
        expect(await response.body.text()).toBe(`secure POST /${host} ✓`)
      }
      expect(agent.connections).toBe(1)
    }
    expect(server.handshakes(), 'one TLS connection per agent').toBe(2)
  })

  it('an untrusted certificate fails the request naming the cause', async () => {
    const server = await httpsServer((_req, res) => res.end('never'))
    const agent = agentFor(`https://127.0.0.1:${server.port}`)
    const error = (await rejection(get(agent))) as NodeJS.ErrnoException
    expect(`${error.code} ${error.message}`).toMatch(/self[- ]signed|unable to verify/i)
    await until(() => agent.connections === 0, 'the failed connection to be dropped')
  })

  it('a server that never completes the TLS handshake hits the connect timeout', async () => {
    const silent = await rawServer(() => {})
    const agent = agentFor(`https://127.0.0.1:${silent.port}`, { connectTimeoutMs: 200 })
    const started = performance.now()
    const error = await rejection(get(agent))
    expect(error).toBeInstanceOf(Http1Error)
    expect((error as Error).message).toBe('could not connect within 200 ms (connect timeout)')
    expect(performance.now() - started).toBeGreaterThanOrEqual(150)
    await until(() => agent.connections === 0, 'the timed-out connection to be dropped')
  })
})
