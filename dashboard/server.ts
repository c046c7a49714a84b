/**
 * Serves the dashboard app with @hono/node-server on 127.0.0.1 unless another host is given (reads are
 * open, so binding wider is a choice the caller makes explicitly).
 * @module
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { analyzeIfMissing } from '../db/analyze.ts'
import type { Db } from '../db/client.ts'
import { createApp, type DashboardAuth } from './app.ts'

export interface StartDashboardOptions {
  db: Db
  auth: DashboardAuth
  /** TCP port; 0 picks a free one. @default 8787 */
  port?: number
  /** Interface to bind. @default '127.0.0.1' */
  host?: string
  /** Passed to createApp (dashboard/app.ts): largest ingest body, bytes. @default 256 MiB */
  maxIngestBytes?: number
  /** Passed to createApp: a read waiting on the database longer than this is a 503, ms. @default 15000 */
  queryTimeoutMs?: number
}

export interface RunningDashboard {
  /** e.g. `http://127.0.0.1:8787/`. */
  url: string
  port: number
  /**
   * Stops accepting connections, lets requests in progress finish (up to 5 s), then closes every
   * connection; resolves when the server is closed.
   */
  close(): Promise<void>
}

export const DEFAULT_DASHBOARD_PORT = 8787
export const DEFAULT_DASHBOARD_HOST = '127.0.0.1'
/** How long close() lets requests in progress finish before cutting connections, ms. */
const CLOSE_GRACE_MS = 5000

export async function startDashboard(options: StartDashboardOptions): Promise<RunningDashboard> {
  // A database whose tables were never analyzed (PGlite never does it on its own) plans every page as if
  // its tables were empty: gather the statistics first (db/analyze.ts; one catalog read when present).
  await analyzeIfMissing(options.db)
  const app = createApp({
    db: options.db,
    auth: options.auth,
    ...(options.maxIngestBytes !== undefined ? { maxIngestBytes: options.maxIngestBytes } : {}),
    ...(options.queryTimeoutMs !== undefined ? { queryTimeoutMs: options.queryTimeoutMs } : {}),
  })
  const host = options.host ?? DEFAULT_DASHBOARD_HOST
  // Handlers still running when close() is called must finish before the caller closes the database.
  let inFlight = 0
  let drained: (() => void) | undefined
  const fetch = async (request: Request) => {
    inFlight++
    try {
      return await app.fetch(request)
    } finally {
      inFlight--
      if (inFlight === 0) drained?.()
    }
  }
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port: options.port ?? DEFAULT_DASHBOARD_PORT, hostname: host })
    server.once('error', reject)
    server.once('listening', () => {
      server.off('error', reject)
      const { port } = server.address() as AddressInfo
      const shownHost = host.includes(':') ? `[${host}]` : host
      resolve({
        url: `http://${shownHost}:${port}/`,
        port,
        close: async () => {
          const closed = new Promise<void>((done) => server.close(() => done()))
          if ('closeIdleConnections' in server) server.closeIdleConnections()
          const idle = inFlight === 0 ? Promise.resolve() : new Promise<void>((done) => (drained = done))
          let timer: NodeJS.Timeout | undefined
          const grace = new Promise<void>((done) => {
            timer = setTimeout(done, CLOSE_GRACE_MS)
          })
          await Promise.race([idle, grace])
          clearTimeout(timer)
          // Keep-alive connections would otherwise hold server.close() open.
          if ('closeAllConnections' in server) server.closeAllConnections()
          await closed
        },
      })
    })
  })
}
