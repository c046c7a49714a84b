/**
 * `bench mock-server`: serves the mock until SIGINT/SIGTERM.
 * @module
 */
import { startMockServer } from '../../mock-server/server.ts'
import { type MockServerFlags, mockOptionsFromFlags } from './mock-flags.ts'

/** Serves until SIGINT/SIGTERM; exit 0. */
export async function serveMock(flags: MockServerFlags): Promise<number> {
  const options = mockOptionsFromFlags(flags)
  const server = await startMockServer(options, { host: flags.host, port: flags.port })
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ url: server.url, port: server.port })}\n`
      : `mock server listening on ${server.url}\n`,
  )
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (received: NodeJS.Signals) => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve(received)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  await server.close()
  if (!flags.json) process.stderr.write(`mock server stopped (${signal})\n`)
  return 0
}
