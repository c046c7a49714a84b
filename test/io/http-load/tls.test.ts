import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyTls } from '../../../harness/http-load/tls.ts'
import { freePort } from '../../helpers/free-port.ts'

/** autocannon never verifies certificates; bench load checks the endpoint's once (test/fixtures/tls). */
const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url)
const CERT = readFileSync(new URL('localhost-cert.pem', TLS_DIR))
const KEY = readFileSync(new URL('localhost-key.pem', TLS_DIR))

let server: Server
let origin: string
beforeAll(async () => {
  server = createServer({ cert: CERT, key: KEY }, (_req, res) => res.writeHead(404).end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
})

describe('verifyTls', () => {
  it('a self-signed certificate is refused, naming the problem and the fix', async () => {
    await expect(verifyTls(new URL(`${origin}/v1`))).rejects.toThrow(
      /the TLS certificate does not verify \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)[^)]*\)\. autocannon does not check certificates.*NODE_EXTRA_CA_CERTS/,
    )
  })
  it('the same server with its CA trusted passes, whatever the HTTP status (404 here)', async () => {
    await expect(verifyTls(new URL(`${origin}/v1`), { ca: CERT })).resolves.toBeUndefined()
  })
  it('http: is not checked; a refused https: connection is left to the load to report', async () => {
    await expect(verifyTls(new URL('http://127.0.0.1:1/v1'))).resolves.toBeUndefined()
    await expect(verifyTls(new URL(`https://127.0.0.1:${await freePort()}/v1`))).resolves.toBeUndefined()
  })
})
