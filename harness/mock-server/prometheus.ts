/**
 * Prometheus text exposition (format 0.0.4) pieces shared by the personalities' /metrics.
 * @module
 */

/** Appends one metric family: HELP, TYPE, then its samples. */
export function metricFamily(
  out: string[],
  name: string,
  type: string,
  help: string,
  samples: string[],
): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples)
}

/** A number as Python's prometheus_client prints a float (1 → "1.0"), for labels like `le`. */
export function pyFloat(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value)
}

/** A cumulative histogram with fixed upper bounds (seconds or counts, as the metric says). */
export class Histogram {
  readonly #bounds: readonly number[]
  /** Observations ≤ each bound (non-cumulative per bucket; summed on output). */
  readonly #counts: number[]
  #sum = 0
  #count = 0

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds
    this.#counts = bounds.map(() => 0)
  }

  get count(): number {
    return this.#count
  }

  get sum(): number {
    return this.#sum
  }

  observe(value: number): void {
    this.#sum += value
    this.#count++
    const i = this.#bounds.findIndex((bound) => value <= bound)
    if (i >= 0) this.#counts[i]!++
  }

  /** `_bucket` (cumulative, then +Inf), `_count`, `_sum` samples; `labels` without braces, e.g. `a="b"`. */
  samples(name: string, labels: string): string[] {
    const sep = labels === '' ? '' : ','
    const out: string[] = []
    let cumulative = 0
    for (const [i, bound] of this.#bounds.entries()) {
      cumulative += this.#counts[i]!
      out.push(`${name}_bucket{${labels}${sep}le="${pyFloat(bound)}"} ${cumulative}`)
    }
    out.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${this.#count}`)
    const braces = labels === '' ? '' : `{${labels}}`
    out.push(`${name}_count${braces} ${this.#count}`, `${name}_sum${braces} ${this.#sum}`)
    return out
  }
}
