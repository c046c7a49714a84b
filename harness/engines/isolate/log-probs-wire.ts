/**
 * TokenLogProbs across the JSON IPC channel: the Float32Array of log-probabilities travels as base64 of its
 * bytes (JSON would turn it into an object with one key per float). Exact: the same float32 bits arrive.
 * One window per call bounds the message (rows × vocabulary × 4 bytes, × 4/3 as base64).
 * @module
 */
import type { TokenLogProbs } from '../engine.ts'

export type TokenLogProbsWire = Omit<TokenLogProbs, 'logProbs'> & { logProbsBase64: string }

export function toLogProbsWire(value: TokenLogProbs): TokenLogProbsWire {
  const { logProbs, ...rest } = value
  return {
    ...rest,
    logProbsBase64: Buffer.from(logProbs.buffer, logProbs.byteOffset, logProbs.byteLength).toString('base64'),
  }
}

export function fromLogProbsWire(wire: TokenLogProbsWire): TokenLogProbs {
  const { logProbsBase64, ...rest } = wire
  const bytes = Buffer.from(logProbsBase64, 'base64')
  // A copy into its own buffer: a Buffer's byteOffset need not be a multiple of 4.
  const logProbs = new Float32Array(bytes.byteLength / 4)
  new Uint8Array(logProbs.buffer).set(bytes)
  return { ...rest, logProbs }
}
