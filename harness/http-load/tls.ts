/**
 * autocannon 9.0.0 opens every TLS connection with `rejectUnauthorized: false` (lib/httpClient.js, not
 * overridable): it never checks a certificate. `bench load` sends an API key on those connections, so
 * before the load it makes one ordinary, verified TLS connection to the same host (Node's trust store,
 * NODE_EXTRA_CA_CERTS honoured) and refuses an endpoint whose certificate does not verify. Any HTTP answer,
 * whatever its status, passes: only the certificate is judged here.
 * @module
 */
import { request } from 'node:https'
import { HarnessError } from '../errors.ts'

/** Bound on the check, ms. */
const TLS_CHECK_TIMEOUT_MS = 5000

/**
 * Resolves when `url` is http:, or when an https: HEAD request to its origin completes the TLS handshake
 * with a verified certificate; throws a HarnessError naming the certificate problem otherwise. A
 * connection that fails for another reason (refused, timeout) passes: the load reports it.
 */
export function verifyTls(url: URL, options: { ca?: Buffer; timeoutMs?: number } = {}): Promise<void> {
  if (url.protocol !== 'https:') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const req = request(
      url.origin,
      {
        method: 'HEAD',
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
        timeout: options.timeoutMs ?? TLS_CHECK_TIMEOUT_MS,
      },
      (res) => {
        res.resume()
        resolve()
      },
    )
    req.on('timeout', () => req.destroy())
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? ''
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/.test(code))
        reject(
          new HarnessError(
            `${url.origin}: the TLS certificate does not verify (${code}: ${err.message}). autocannon does not check certificates, so bench load will not send requests (and a key) there; trust its CA with NODE_EXTRA_CA_CERTS=ca.pem, or use http:// on a trusted network`,
          ),
        )
      else resolve()
    })
    req.end()
  })
}
