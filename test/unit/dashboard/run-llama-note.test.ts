/**
 * The run page's note on llama-cpp runs: the engine is llama.cpp through node-llama-cpp, with the gap to
 * llama-bench that bench:native measured, and the run's own pp/tg figures when it has them.
 */
import { describe, expect, it } from 'vitest'
import { LLAMA_CPP_GAP, llamaCppNote } from '../../../dashboard/views/run.ts'

describe('run page: llama-cpp note', () => {
  it('says nothing on other engines', () => {
    expect(String(llamaCppNote({ engineKind: 'openai', genTokensPerS: 100 })), 'openai').toBe('')
  })

  it('states the measured gap and asks for nativeSpeed when the run has none', () => {
    const html = String(llamaCppNote({ engineKind: 'llama-cpp' }))
    expect(html, 'not llama-server').toContain('through node-llama-cpp, not llama-server')
    expect(html, 'the gap').toContain(
      `decode-only tg ${LLAMA_CPP_GAP.sameCodeTgRatio} of a bare llama_decode loop`,
    )
    expect(html, 'how to measure').toContain('<code>nativeSpeed</code>')
  })

  it("shows the run's own tg next to its per-request decode speed", () => {
    const html = String(
      llamaCppNote({ engineKind: 'llama-cpp', genTokensPerS: 800, decodeTokensPerSP50: 600 }),
    )
    expect(html, 'ratio of request decode to tg').toContain('0.75 of it')
    expect(html, 'no request for nativeSpeed').not.toContain('<code>nativeSpeed</code>')
  })
})
