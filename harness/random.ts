/**
 * Seeded pseudo-random numbers and the distributions the harness draws from (prompt lengths, open-loop
 * inter-arrival times, mock-server delays). Same seed → same sequence on every machine.
 * @module
 */

export interface Random {
  /** Uniform in [0, 1). */
  next(): number
  /** Standard normal (mean 0, sd 1). */
  normal(): number
  /** Gamma with the given shape k > 0 and scale θ > 0 (mean kθ). */
  gamma(shape: number, scale: number): number
  /** Integer uniform in [min, max]. */
  int(min: number, max: number): number
}

/** sfc32 seeded through splitmix32: fast, 128-bit state, good enough statistically for load shapes. */
export function createRandom(seed: number): Random {
  let s = seed >>> 0
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = split()
  let b = split()
  let c = split()
  let d = split()
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) >>> 0
    return t / 4294967296
  }
  for (let i = 0; i < 12; i++) next()

  let spare: number | undefined
  const normal = () => {
    if (spare !== undefined) {
      const v = spare
      spare = undefined
      return v
    }
    // Box–Muller; 1 - next() keeps the log argument in (0, 1].
    const r = Math.sqrt(-2 * Math.log(1 - next()))
    const theta = 2 * Math.PI * next()
    spare = r * Math.sin(theta)
    return r * Math.cos(theta)
  }

  // Marsaglia & Tsang (2000); shape < 1 boosted with U^(1/k).
  const gamma = (shape: number, scale: number): number => {
    if (!(shape > 0) || !(scale > 0))
      throw new RangeError(`gamma needs shape > 0 and scale > 0, got ${shape}, ${scale}`)
    if (shape < 1) return gamma(shape + 1, scale) * (1 - next()) ** (1 / shape)
    const dd = shape - 1 / 3
    const cc = 1 / Math.sqrt(9 * dd)
    for (;;) {
      let x: number
      let v: number
      do {
        x = normal()
        v = 1 + cc * x
      } while (v <= 0)
      v = v * v * v
      const u = 1 - next()
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + dd * (1 - v + Math.log(v)))
        return dd * v * scale
    }
  }

  return { next, normal, gamma, int: (min, max) => min + Math.floor(next() * (max - min + 1)) }
}
