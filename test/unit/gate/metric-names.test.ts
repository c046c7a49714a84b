import { describe, expect, it } from 'vitest'
import { gatedDirection } from '../../../db/gate/gate.ts'

describe('gatedDirection', () => {
  it('knows the stored names and which way is better', () => {
    expect(gatedDirection('ttftMsP95')).toBe('lower')
    expect(gatedDirection('outputTokensPerS')).toBe('higher')
  })

  it('refuses an unknown name with the names it was probably meant to be, with a statistic', () => {
    expect(() => gatedDirection('ttftP95')).toThrow(/did you mean ttftMsP95, /)
    expect(() => gatedDirection('tpotP99')).toThrow(/did you mean tpotMsP99\b/)
    expect(() => gatedDirection('outputTokensPerSecond')).toThrow(/did you mean outputTokensPerS\b/)
  })

  it('points at the definitions inside the repository, never outside it', () => {
    expect(() => gatedDirection('zz')).toThrow(/harness\/metrics\/README\.md/)
    expect(() => gatedDirection('zz')).not.toThrow(/shared|did you mean/)
  })
})
