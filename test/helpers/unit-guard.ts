/**
 * Setup file of the `unit` project (vitest.config.ts): unit files are pure, so listening, connecting or
 * starting a child process there throws, naming where such a file belongs. Patches only this worker
 * thread's copies of node:net and node:child_process; the io and e2e projects never load it.
 * @module
 */
import childProcess from 'node:child_process'
import { syncBuiltinESMExports } from 'node:module'
import net from 'node:net'

function refuse(what: string): never {
  throw new Error(
    `${what} in a unit test: test/unit is pure (no sockets, databases or child processes). ` +
      'Move the file to test/io/ (loopback servers, databases) or test/e2e/ (CLI, children, native engines).',
  )
}

net.Server.prototype.listen = function listen(): never {
  refuse('net.Server.listen')
}
net.Socket.prototype.connect = function connect(): never {
  refuse('net.Socket.connect')
}
const spawners = ['spawn', 'spawnSync', 'fork', 'exec', 'execSync', 'execFile', 'execFileSync'] as const
for (const name of spawners)
  (childProcess as Record<string, unknown>)[name] = () => refuse(`child_process.${name}`)
// So `import { spawn } from 'node:child_process'` sees the patched functions too.
syncBuiltinESMExports()
