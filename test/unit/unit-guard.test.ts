/**
 * The unit project's guard (test/helpers/unit-guard.ts, its setup file): a socket or a child process in a
 * unit file fails at once, naming where the file belongs, instead of slowing the parallel pure suite.
 */
import { execFile, spawn } from 'node:child_process'
import { createServer, Socket } from 'node:net'
import { describe, expect, it } from 'vitest'

const WHERE = /test\/unit is pure .* Move the file to test\/io\/ .* or test\/e2e\//

describe('unit project guard', () => {
  it('refuses to listen or connect', () => {
    expect(() => createServer().listen(0, '127.0.0.1'), 'listen').toThrow(WHERE)
    expect(() => new Socket().connect(80, '127.0.0.1'), 'connect').toThrow(WHERE)
  })

  it('refuses child processes, also through named ESM imports', () => {
    expect(() => spawn(process.execPath, ['-e', '0']), 'spawn').toThrow(/child_process\.spawn in a unit test/)
    expect(() => execFile(process.execPath, ['-e', '0']), 'execFile').toThrow(WHERE)
  })
})
