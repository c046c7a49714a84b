/**
 * `bench mock-server`: serves the mock until SIGINT/SIGTERM.
 * @module
 */
import { extname, resolve } from 'node:path'
import { HarnessError } from '../../errors.ts'
import type { LogprobsModel } from '../../mock-server/model-logprobs.ts'
import { type MockServerHandle, startMockServer } from '../../mock-server/server.ts'
import { type MockServerFlags, mockOptionsFromFlags } from './mock-flags.ts'

/**
 * The mock the flags describe, started; with `--logprobs-model` a native engine on that file answers the
 * vllm personality's /tokenize and echo logprobs (harness/quality/mock-model.ts), disposed by close().
 * @throws HarnessError naming --logprobs-model without --personality vllm; the engine's EngineStartError
 */
export async function startMockFromFlags(flags: MockServerFlags): Promise<MockServerHandle> {
  const options = mockOptionsFromFlags(flags)
  let model: (LogprobsModel & AsyncDisposable) | undefined
  if (flags.logprobsModel !== undefined) {
    if (flags.personality !== 'vllm')
      throw new HarnessError(
        "--logprobs-model answers vLLM's /tokenize and echo with logprobs: add --personality vllm",
      )
    const { createEngineLogprobsModel } = await import('../../quality/mock-model.ts')
    const modelPath = resolve(flags.logprobsModel)
    model = await createEngineLogprobsModel({
      kind: extname(modelPath).toLowerCase() === '.onnx' ? 'onnx' : 'llama-cpp',
      modelPath,
    })
  }
  try {
    const server = await startMockServer(
      options,
      { host: flags.host, port: flags.port },
      model !== undefined ? { logprobsModel: model } : {},
    )
    return {
      ...server,
      close: async () => {
        try {
          await server.close()
        } finally {
          await model?.[Symbol.asyncDispose]()
        }
      },
    }
  } catch (err) {
    await model?.[Symbol.asyncDispose]()
    throw err
  }
}

/** Serves until SIGINT/SIGTERM; exit 0. */
export async function serveMock(flags: MockServerFlags): Promise<number> {
  const server = await startMockFromFlags(flags)
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
