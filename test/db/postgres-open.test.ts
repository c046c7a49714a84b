/**
 * DATABASE_URL (or `--db <url>`) that is not PostgreSQL is one clear error after one connection, not an
 * endless reconnect (issue 14: 13,542 connections in 20 s to an HTTP listener); a URL of another scheme is
 * refused before any connection; a PostgreSQL database with a newer schema is refused.
 */
import { execFile } from 'node:child_process'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type Server } from 'node:net'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb } from '../../db/client.ts'
import { DatabaseError } from '../../db/database-error.ts'
import { migratePostgres } from '../../db/migrate.ts'
import { probePostgres } from '../../db/postgres-probe.ts'
import { type PgCluster, pgClusterSkipReason, startPgCluster } from '../helpers/pg-cluster.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const DB_CLI = path.join(ROOT, 'test/db/fixtures/db-cli.ts')

/** A listener and how many connections it accepted. */
async function listen(server: Server): Promise<{ port: number; accepts: () => number; close(): void }> {
  let accepts = 0
  server.on('connection', () => accepts++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no port')
  return {
    port: address.port,
    accepts: () => accepts,
    close: () => {
      server.close()
      if ('closeAllConnections' in server) (server as { closeAllConnections(): void }).closeAllConnections()
    },
  }
}

const httpListener = () => listen(createHttpServer((_req, res) => res.end('hello')))

describe('a DATABASE_URL that is not PostgreSQL', () => {
  it('an HTTP listener: one connection, a clear error within a few seconds', async () => {
    const http = await httpListener()
    try {
      const started = Date.now()
      const error = (await createDb({
        env: { DATABASE_URL: `postgres://bench:s3cret@127.0.0.1:${http.port}/results` },
      }).catch((err: unknown) => err)) as Error
      const ms = Date.now() - started
      expect(error, 'a DatabaseError').toBeInstanceOf(DatabaseError)
      expect(error.message, 'names DATABASE_URL and what answered').toMatch(
        new RegExp(
          `^DATABASE_URL \\(postgres://bench:\\*\\*\\*@127\\.0\\.0\\.1:${http.port}/results\\): the server there is not PostgreSQL \\(it answered "HTTP/1\\.1 400`,
        ),
      )
      expect(error.message, 'no password').not.toContain('s3cret')
      expect(ms, 'fast').toBeLessThan(5_000)
      await sleep(300)
      expect(http.accepts(), 'one connection, none after the error').toBe(1)
    } finally {
      http.close()
    }
  })

  it('from the CLI: exit 1, one line on stderr, bounded connections', async () => {
    const http = await httpListener()
    try {
      const started = Date.now()
      const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', DB_CLI, 'db', 'info'],
          {
            cwd: ROOT,
            env: { ...process.env, DATABASE_URL: `postgres://127.0.0.1:${http.port}/x` },
            timeout: 30_000,
          },
          (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }),
        ),
      )
      expect(result.code, 'exit code').toBe(1)
      expect(result.stderr, 'the message').toMatch(
        /^bench: DATABASE_URL \(.*\): the server there is not PostgreSQL/,
      )
      expect(result.stderr, 'no stack').not.toMatch(/\n\s+at /)
      expect(Date.now() - started, 'within a few seconds (tsx start-up included)').toBeLessThan(15_000)
      expect(http.accepts(), 'connections').toBe(1)
    } finally {
      http.close()
    }
  })

  it('a listener that never answers: an error after the handshake timeout', async () => {
    const silent = await listen(createServer(() => {}))
    try {
      const started = Date.now()
      const error = (await probePostgres(`postgres://127.0.0.1:${silent.port}/x`, '--db', 300).catch(
        (err: unknown) => err,
      )) as Error
      expect(error.message, 'says so').toMatch(
        /^--db \(.*\): no answer to the PostgreSQL handshake within 0\.3 s/,
      )
      expect(Date.now() - started, 'bounded').toBeLessThan(2_000)
      expect(silent.accepts(), 'connections').toBe(1)
    } finally {
      silent.close()
    }
  })

  it('a server that passes the probe but is not PostgreSQL: the first query is bounded', async () => {
    // Answers the SSLRequest as PostgreSQL would ('N'), then closes every startup message.
    const impostor = await listen(
      createServer((socket) => {
        socket.on('error', () => {})
        socket.once('data', () => {
          socket.write('N')
          socket.once('data', () => socket.destroy())
        })
      }),
    )
    try {
      const url = `postgres://127.0.0.1:${impostor.port}/x`
      await probePostgres(url, '--db')
      const started = Date.now()
      const error = (await migratePostgres(url, url, { connect_timeout: 10 }, 1_000).catch(
        (err: unknown) => err,
      )) as Error
      expect(error.message, 'says so').toMatch(/no answer to a first query within 1 s/)
      expect(Date.now() - started, 'bounded').toBeLessThan(3_000)
      const after = impostor.accepts()
      await sleep(300)
      expect(impostor.accepts(), 'no connection after the error').toBe(after)
    } finally {
      impostor.close()
    }
  })

  it('nothing listening: connection refused, named', async () => {
    const gone = await httpListener()
    gone.close()
    const error = (await createDb({ url: `postgres://127.0.0.1:${gone.port}/x` }).catch(
      (err: unknown) => err,
    )) as Error
    expect(error.message, 'message').toMatch(/^--db \(.*\): cannot connect \(ECONNREFUSED\)/)
  })

  it('a URL of another scheme, or none: refused before any connection', async () => {
    const message = async (url: string) =>
      ((await createDb({ env: { DATABASE_URL: url } }).catch((err: unknown) => err)) as Error).message
    expect(await message('mysql://root@127.0.0.1/db'), 'mysql').toMatch(
      /^DATABASE_URL is not a PostgreSQL URL \(scheme mysql:\/\/\): set DATABASE_URL to postgres:\/\//,
    )
    expect(await message('localhost:5432'), 'no scheme').toMatch(
      /^DATABASE_URL is not a PostgreSQL URL \(no scheme\)/,
    )
  })
})

const skip = pgClusterSkipReason()

describe.skipIf(skip !== undefined)(
  `PostgreSQL with a newer schema${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let cluster: PgCluster
    beforeAll(async () => {
      cluster = await startPgCluster()
    }, 60_000)
    afterAll(() => cluster?.dispose())

    it('is refused with a clear error, nothing applied', async () => {
      const db = await createDb({ url: cluster.url })
      await db.close()
      const sql = postgres(cluster.url, { max: 1, onnotice: () => {} })
      const future = Date.parse('2030-01-01T00:00:00Z')
      await sql`insert into drizzle.__drizzle_migrations (hash, created_at) values ('newer', ${future})`
      const error = (await createDb({ url: cluster.url }).catch((err: unknown) => err)) as Error
      const [count] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`
      await sql.end()
      expect(error, 'a DatabaseError').toBeInstanceOf(DatabaseError)
      expect(error.message, 'says newer').toMatch(/does not know .*newest applied 2030-01-01T00:00:00\.000Z/)
      expect(count?.n, 'nothing applied or removed').toBeGreaterThan(1)
    })
  },
)
