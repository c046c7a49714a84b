import { describe, expect, it } from 'vitest'
import { logSoftmax } from '../../../harness/quality/log-softmax.ts'
import { comparePosition, compareSequence } from '../../../harness/quality/position.ts'
import { compareTopK } from '../../../harness/quality/top-k.ts'
import { createRandom } from '../../../harness/random.ts'

const logs = (ps: number[]) => Float64Array.from(ps, Math.log)

describe('logSoftmax', () => {
  it('logits [1, 2, 3] → x − ln(e + e² + e³) = x − 3.40760596', () => {
    const out = logSoftmax([1, 2, 3])
    expect(
      [...out].map((v) => v.toFixed(8)),
      'values',
    ).toEqual(['-2.40760596', '-1.40760596', '-0.40760596'])
  })

  it('stable for huge logits and -Infinity (masked) tokens', () => {
    const out = logSoftmax(new Float32Array([1000, 1001, 1002, Number.NEGATIVE_INFINITY]))
    expect(out[2], 'no overflow: same as [1, 2, 3]').toBeCloseTo(-0.40760596444438, 12)
    expect(out[3], 'masked stays impossible').toBe(Number.NEGATIVE_INFINITY)
  })

  it('refuses NaN, +Infinity and all -Infinity', () => {
    expect(() => logSoftmax([0, Number.NaN]), 'NaN').toThrow(/logit 1 is NaN/)
    expect(() => logSoftmax([Number.POSITIVE_INFINITY]), '+Inf').toThrow(/logit 0 is Infinity/)
    expect(() => logSoftmax([Number.NEGATIVE_INFINITY]), 'none possible').toThrow(/every logit is -Infinity/)
  })
})

describe('comparePosition on hand-computable 3-token distributions', () => {
  it('p_ref = (0.5, 0.3, 0.2), p_var = (0.4, 0.4, 0.2), next token 1', () => {
    // KLD = 0.5·ln(0.5/0.4) + 0.3·ln(0.3/0.4) + 0.2·ln(0.2/0.2)
    //     = 0.5·0.2231436 − 0.3·0.2876821 + 0 = 0.1115718 − 0.0863046 = 0.0252672
    // Δp = p_var(1) − p_ref(1) = 0.4 − 0.3 = 0.1. Tops: ref token 0; var tokens 0 and 1 tie → lowest, 0.
    const r = comparePosition(logs([0.5, 0.3, 0.2]), logs([0.4, 0.4, 0.2]), 1)
    expect(r.kld, 'KLD').toBeCloseTo(0.02526715392157057, 15)
    expect(r.deltaP, 'Δp').toBeCloseTo(0.1, 15)
    expect(r.sameTop, 'tie goes to the lowest id, 0 = 0').toBe(true)
    expect(r.nllRef, '−ln 0.3').toBeCloseTo(1.2039728043259361, 15)
    expect(r.nllVariant, '−ln 0.4').toBeCloseTo(0.916290731874155, 15)
  })

  it('p_var = (0.3, 0.5, 0.2): different top', () => {
    // KLD = 0.5·ln(0.5/0.3) + 0.3·ln(0.3/0.5) = (0.5 − 0.3)·ln(5/3) = 0.2·0.5108256 = 0.1021651
    const r = comparePosition(logs([0.5, 0.3, 0.2]), logs([0.3, 0.5, 0.2]), 0)
    expect(r.kld, 'KLD').toBeCloseTo(0.10216512475319814, 15)
    expect(r.sameTop, '0 vs 1').toBe(false)
    expect(r.deltaP, '0.3 − 0.5').toBeCloseTo(-0.2, 15)
  })

  it('identical distributions: KLD 0 exactly, same top, Δp 0', () => {
    const p = logs([0.2, 0.7, 0.1])
    expect(comparePosition(p, p, 2), 'identical').toEqual({
      kld: 0,
      deltaP: 0,
      sameTop: true,
      nllRef: -Math.log(0.1),
      nllVariant: -Math.log(0.1),
    })
  })

  it('float32 log-probabilities from logits', () => {
    const ref = new Float32Array(logSoftmax([Math.log(0.5), Math.log(0.3), Math.log(0.2)]))
    const variant = new Float32Array(logSoftmax([2 + Math.log(0.4), 2 + Math.log(0.4), 2 + Math.log(0.2)]))
    expect(comparePosition(ref, variant, 1).kld, 'KLD to float32 precision').toBeCloseTo(0.0252671539, 6)
  })

  it('the reference floor (llama.cpp skips ln p_ref ≤ −16)', () => {
    const tiny = Math.exp(-20)
    const ref = logs([0.5 - tiny, 0.5, tiny])
    const variant = logs([0.5, 0.5 - 1e-12, 1e-12])
    const full = comparePosition(ref, variant, 0).kld
    const floored = comparePosition(ref, variant, 0, { refLogProbFloor: -16 }).kld
    // The skipped term: e^-20·(−20 − ln 1e-12) = 2.06e-9·7.63 ≈ 1.57e-8.
    expect(full - floored, 'the floored token’s term').toBeCloseTo(tiny * (-20 - Math.log(1e-12)), 12)
  })

  it('refuses logits passed as log-probabilities, a vocabulary mismatch and a bad next token', () => {
    expect(
      () => comparePosition(Float64Array.from([1, 2, 3]), logs([0.2, 0.3, 0.5]), 0, {}, 7),
      'logits',
    ).toThrow(/position 7: the reference probabilities sum to .*, not 1: pass log-probabilities/)
    expect(() => comparePosition(logs([0.5, 0.5]), logs([0.2, 0.3, 0.5]), 0), 'sizes').toThrow(
      /same vocabulary/,
    )
    expect(() => comparePosition(logs([0.5, 0.5]), logs([0.5, 0.5]), 2), 'token').toThrow(
      /next token 2 is not a token id in 0\.\.1/,
    )
    expect(() => compareSequence([logs([1])], [], [0]), 'lengths').toThrow(/one each per position/)
  })
})

function randomLogProbs(random: ReturnType<typeof createRandom>, vocabulary: number): Float64Array {
  return logSoftmax(Array.from({ length: vocabulary }, () => 3 * random.normal()))
}

describe('compareTopK: union of top-k plus a rest bucket', () => {
  it('hand case: ref top-2 {a .5, b .3}, var top-2 {a .4, c .3}, next b', () => {
    // U = {a, b, c}. Ref: unlisted 0.2, missing c → min(0.3, 0.2/2) = 0.1, rest 0.1.
    // Var: unlisted 0.3, missing b → min(0.3, 0.3/2) = 0.15, rest 0.15.
    // KLD = 0.5·ln(0.5/0.4) + 0.3·ln(0.3/0.15) + 0.1·ln(0.1/0.3) + 0.1·ln(0.1/0.15)
    //     = 0.1115718 + 0.2079442 − 0.1098612 − 0.0405465 = 0.1691082
    const r = compareTopK(
      [
        { token: 'a', logprob: Math.log(0.5) },
        { token: 'b', logprob: Math.log(0.3) },
      ],
      [
        { token: 'a', logprob: Math.log(0.4) },
        { token: 'c', logprob: Math.log(0.3) },
      ],
      'b',
    )
    expect(r.kld, 'KLD').toBeCloseTo(0.1691081901474611, 14)
    expect(r.deltaP, '0.15 − 0.3').toBeCloseTo(-0.15, 14)
    expect(r.sameTop, 'a = a').toBe(true)
    expect(r.nllVariant, '−ln 0.15').toBeCloseTo(-Math.log(0.15), 14)
    expect(r.approximate, 'marked').toBe(true)
  })

  it('equals the exact figures when k covers the vocabulary', () => {
    const random = createRandom(42)
    for (let t = 0; t < 20; t++) {
      const ref = randomLogProbs(random, 16)
      const variant = randomLogProbs(random, 16)
      const next = random.int(0, 15)
      const list = (lp: Float64Array) =>
        [...lp].map((logprob, token) => ({ token, logprob })).sort((x, y) => y.logprob - x.logprob)
      const exact = comparePosition(ref, variant, next)
      const approx = compareTopK(list(ref), list(variant), next)
      expect(approx.kld, `KLD at ${t}`).toBeCloseTo(exact.kld, 12)
      expect(approx.deltaP, `Δp at ${t}`).toBeCloseTo(exact.deltaP, 12)
      expect(approx.sameTop, `same top at ${t}`).toBe(exact.sameTop)
      expect(approx.nllRef, `nll at ${t}`).toBeCloseTo(exact.nllRef, 12)
    }
  })

  it('refuses repeated tokens, positive logprobs and lists summing above 1', () => {
    const e = (token: string, p: number) => ({ token, logprob: Math.log(p) })
    expect(() => compareTopK([e('a', 0.5), e('a', 0.1)], [e('a', 0.5)], 'a'), 'repeat').toThrow(
      /listed twice/,
    )
    expect(() => compareTopK([{ token: 'a', logprob: 0.5 }], [e('a', 0.5)], 'a'), 'positive').toThrow(
      /not ≤ 0/,
    )
    expect(() => compareTopK([e('a', 0.9), e('b', 0.9)], [e('a', 0.5)], 'a'), '1.8').toThrow(/sum to 1\.8/)
    expect(() => compareTopK([], [e('a', 0.5)], 'a'), 'empty').toThrow(/reference top-k list is empty/)
  })
})
