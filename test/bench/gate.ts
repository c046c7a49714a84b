/**
 * Power of the regression gate and the change-point detector on seeded synthetic series: how often an
 * unchanged candidate is flagged (false positives) and how often a real step is caught (detection).
 *
 *   npm run bench:gate [-- --json] [-- --series 200 --noise 0.05 --step 0.1 --baseline 25 --seed 1]
 *
 * Every series has its own level; noise is Gaussian with sd = noise × level (a coefficient of variation),
 * independent from point to point. A step moves the level by `step` in the regression direction: down
 * for a higher-is-better metric, up for a lower-is-better one (the two alternate, so direction handling is
 * exercised). Goals (issue 6): false-positive rate ≤ 1 %, detection ≥ 95 %.
 */
import { parseArgs } from 'node:util'
import { createRandom, type Random } from '../../harness/random.ts'
import { detectChangePoints } from '../../harness/regression/change-points.ts'
import {
  EVALUATE_DEFAULTS,
  type EvaluateOptions,
  evaluate,
  type GatedDirection,
  type GateMethod,
} from '../../harness/regression/evaluate.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    series: { type: 'string', default: '200' },
    noise: { type: 'string', default: '0.05' },
    step: { type: 'string', default: '0.1' },
    baseline: { type: 'string', default: '25' },
    seed: { type: 'string', default: '1' },
    /** Points per change-point series. */
    'cp-length': { type: 'string', default: '60' },
    /** A change point this close to the true step counts as found. */
    'cp-tolerance': { type: 'string', default: '5' },
    /** Per-request samples per run, and their spread within a run, for the Mann–Whitney rows. */
    'mw-samples': { type: 'string', default: '200' },
    'mw-request-cv': { type: 'string', default: '0.2' },
    /** The permutation rows take most of the time; leave them out for large --series. */
    'skip-permutation': { type: 'boolean', default: false },
  },
})
const seriesCount = Number(args.series)
const noise = Number(args.noise)
const step = Number(args.step)
const baselineN = Number(args.baseline)
const seed = Number(args.seed)
const cpLength = Number(args['cp-length'])
const cpTolerance = Number(args['cp-tolerance'])
const mwSamples = Number(args['mw-samples'])
const mwRequestCv = Number(args['mw-request-cv'])
const log = args.json ? () => {} : (line = '') => console.log(line)

const GOAL_FP_RATE = 0.01
const GOAL_DETECTION = 0.95

interface Confusion {
  /** Unchanged series: not flagged / flagged. */
  tn: number
  fp: number
  /** Stepped series: missed / flagged. */
  fn: number
  tp: number
  /** Verdicts that were neither: improvements on either kind, insufficient data. */
  improvement: number
  insufficient: number
}

interface Row extends Confusion {
  name: string
  fpRate: number
  detection: number
  meetsGoals: boolean
}

function toRow(name: string, c: Confusion): Row {
  const fpRate = c.fp / (c.fp + c.tn)
  const detection = c.tp / (c.tp + c.fn)
  return { name, ...c, fpRate, detection, meetsGoals: fpRate <= GOAL_FP_RATE && detection >= GOAL_DETECTION }
}

function emptyConfusion(): Confusion {
  return { tn: 0, fp: 0, fn: 0, tp: 0, improvement: 0, insufficient: 0 }
}

function directionOf(i: number): GatedDirection {
  return i % 2 === 0 ? 'higher' : 'lower'
}

/** Level after a regression of `step` for the metric's direction. */
function stepped(level: number, direction: GatedDirection, shifted: boolean): number {
  if (!shifted) return level
  return direction === 'higher' ? level * (1 - step) : level * (1 + step)
}

function draw(random: Random, level: number, count: number): number[] {
  return Array.from({ length: count }, () => level * (1 + noise * random.normal()))
}

/** One simulated gate decision per series, for unchanged and stepped series alike. */
interface GateTrial {
  direction: GatedDirection
  shifted: boolean
  baseline: number[]
  /** Independent runs after the (possible) step, in order. */
  after: number[]
}

function gateTrials(random: Random, maxAfter: number): GateTrial[] {
  const trials: GateTrial[] = []
  for (const shifted of [false, true]) {
    for (let i = 0; i < seriesCount; i++) {
      const direction = directionOf(i)
      const level = 50 + 950 * random.next()
      trials.push({
        direction,
        shifted,
        baseline: draw(random, level, baselineN),
        after: draw(random, stepped(level, direction, shifted), maxAfter),
      })
    }
  }
  return trials
}

function tally(c: Confusion, shifted: boolean, verdict: string): void {
  if (verdict === 'insufficient-data') c.insufficient++
  if (verdict === 'improvement') c.improvement++
  const flagged = verdict === 'regression'
  if (shifted) flagged ? c.tp++ : c.fn++
  else flagged ? c.fp++ : c.tn++
}

interface GateVariant {
  /** Repetitions whose mean is the candidate. */
  repetitions: number
  /**
   * As `bench gate --confirm N`: a flagged candidate is re-run N times and fails only if the re-runs are
   * flagged too, judged alone (independent) or pooled with the first repetitions. Re-runs never join the
   * baseline.
   */
  confirm?: { runs: number; pooled: boolean }
}

function runGate(trials: readonly GateTrial[], options: EvaluateOptions, variant: GateVariant): Confusion {
  const c = emptyConfusion()
  const k = variant.repetitions
  for (const t of trials) {
    const first = t.after.slice(0, k)
    let verdict = evaluate(t.direction, t.baseline, first, options).verdict
    if (verdict === 'regression' && variant.confirm) {
      const reruns = t.after.slice(k, k + variant.confirm.runs)
      if (reruns.length < variant.confirm.runs) throw new Error('not enough simulated runs after the step')
      verdict = evaluate(
        t.direction,
        t.baseline,
        variant.confirm.pooled ? [...first, ...reruns] : reruns,
        options,
      ).verdict
    }
    tally(c, t.shifted, verdict)
  }
  return c
}

/**
 * Per-request samples of two runs. Each run's level carries run-to-run noise (`runNoise` × level, as the
 * history series have); requests spread log-normally around it.
 */
function runMannWhitney(random: Random, runNoise: number): Confusion {
  const c = emptyConfusion()
  const run = (level: number) => {
    const runLevel = level * (1 + runNoise * random.normal())
    return Array.from({ length: mwSamples }, () => runLevel * Math.exp(mwRequestCv * random.normal()))
  }
  for (const shifted of [false, true]) {
    for (let i = 0; i < seriesCount; i++) {
      const direction = directionOf(i)
      const level = 50 + 950 * random.next()
      const verdict = evaluate(direction, run(level), run(stepped(level, direction, shifted)), {
        method: 'mann-whitney',
      }).verdict
      tally(c, shifted, verdict)
    }
  }
  return c
}

interface ChangePointRow extends Row {
  /** Stepped series with any change point at all. */
  anyDetected: number
  /** Stepped series whose nearest change point is exactly at the step. */
  exact: number
  /** Mean |nearest change point − true step| over stepped series with at least one change point. */
  meanAbsLocationError: number
  /** Change points beyond the tolerance of the true step, over all stepped series. */
  extraOnStepped: number
  /** Change points in the unchanged series, total. */
  pointsOnUnchanged: number
  ms: number
}

function runChangePoints(
  random: Random,
  name: string,
  options: Parameters<typeof detectChangePoints>[1],
): ChangePointRow {
  const c = emptyConfusion()
  let anyDetected = 0
  let exact = 0
  let locationErrorSum = 0
  let extraOnStepped = 0
  let pointsOnUnchanged = 0
  const started = performance.now()
  for (const shifted of [false, true]) {
    for (let i = 0; i < seriesCount; i++) {
      const direction = directionOf(i)
      const level = 50 + 950 * random.next()
      // The step lands anywhere leaving at least 10 points on either side.
      const at = shifted ? 10 + Math.floor(random.next() * (cpLength - 19)) : cpLength
      const series = [
        ...draw(random, level, at),
        ...draw(random, stepped(level, direction, true), cpLength - at),
      ]
      const points = detectChangePoints(series, options)
      if (!shifted) {
        pointsOnUnchanged += points.length
        points.length > 0 ? c.fp++ : c.tn++
        continue
      }
      let nearest = Number.POSITIVE_INFINITY
      for (const p of points) nearest = Math.min(nearest, Math.abs(p.index - at))
      if (points.length > 0) {
        anyDetected++
        locationErrorSum += nearest
        if (nearest === 0) exact++
      }
      nearest <= cpTolerance ? c.tp++ : c.fn++
      extraOnStepped += points.filter((p) => Math.abs(p.index - at) > cpTolerance).length
    }
  }
  return {
    ...toRow(name, c),
    anyDetected,
    exact,
    meanAbsLocationError: anyDetected > 0 ? locationErrorSum / anyDetected : Number.NaN,
    extraOnStepped,
    pointsOnUnchanged,
    ms: performance.now() - started,
  }
}

const fmtPct = (x: number) => `${(x * 100).toFixed(1)} %`

/** Wilson 95 % interval of a proportion: how far 200 series can pin a rate down. */
function wilson(successes: number, total: number): [number, number] {
  const z = 1.959964
  const p = successes / total
  const denominator = 1 + (z * z) / total
  const centre = (p + (z * z) / (2 * total)) / denominator
  const half = (z * Math.sqrt((p * (1 - p)) / total + (z * z) / (4 * total * total))) / denominator
  return [Math.max(0, centre - half), Math.min(1, centre + half)]
}

function fmtRate(successes: number, total: number): string {
  const [lo, hi] = wilson(successes, total)
  return `${fmtPct(successes / total)} (${(lo * 100).toFixed(1)}–${(hi * 100).toFixed(1)})`
}

function printTable(title: string, rows: readonly Row[]): void {
  log(title)
  log(
    '| variant | no change: ok / flagged | step: missed / flagged | FP rate (95 % CI) | detection (95 % CI) | goals |',
  )
  log('|---|---|---|---|---|---|')
  for (const r of rows) {
    const extra = r.insufficient > 0 ? ` (${r.insufficient} insufficient)` : ''
    log(
      `| ${r.name} | ${r.tn} / ${r.fp} | ${r.fn} / ${r.tp} | ${fmtRate(r.fp, r.fp + r.tn)} | ${fmtRate(r.tp, r.tp + r.fn)} | ${r.meetsGoals ? 'met' : 'not met'}${extra} |`,
    )
  }
  log()
}

const random = createRandom(seed)
const trials = gateTrials(random, 9)
const defaults = { ...EVALUATE_DEFAULTS }
log(
  `${seriesCount} unchanged + ${seriesCount} stepped series; noise sd ${fmtPct(noise)} of the level; step ${fmtPct(step)} in the regression direction; baseline ${baselineN} points; seed ${seed}`,
)
log(
  `Gate defaults: ${defaults.method}, confidence ${defaults.confidence}, minEffect ${fmtPct(defaults.minEffect)}, minSamples ${defaults.minSamples}, maxSamples ${defaults.maxSamples}`,
)
log()

const defaultRows = [
  toRow('single point', runGate(trials, {}, { repetitions: 1 })),
  toRow('mean of 3 repetitions', runGate(trials, {}, { repetitions: 3 })),
  toRow(
    'single + confirm 3, re-runs alone',
    runGate(trials, {}, { repetitions: 1, confirm: { runs: 3, pooled: false } }),
  ),
  toRow(
    'single + confirm 3, pooled (1 + 3)',
    runGate(trials, {}, { repetitions: 1, confirm: { runs: 3, pooled: true } }),
  ),
  toRow(
    'mean of 3 + confirm 3, pooled (3 + 3)',
    runGate(trials, {}, { repetitions: 3, confirm: { runs: 3, pooled: true } }),
  ),
  toRow(
    'mean of 6 + confirm 3, pooled (6 + 3)',
    runGate(trials, {}, { repetitions: 6, confirm: { runs: 3, pooled: true } }),
  ),
]
printTable('Default gate (t-test prediction interval)', defaultRows)

const repsRows: Row[] = []
for (let k = 1; k <= 8; k++) repsRows.push(toRow(`mean of ${k}`, runGate(trials, {}, { repetitions: k })))
printTable('Default gate by repetitions in the candidate, no confirmation', repsRows)

const methodRows: Row[] = []
const methods: GateMethod[] = ['t-test', 'z-score', 'percentage', 'iqr', 'delta-iqr']
for (const method of methods) {
  methodRows.push(toRow(`${method}, single point`, runGate(trials, { method }, { repetitions: 1 })))
  methodRows.push(toRow(`${method}, mean of 3`, runGate(trials, { method }, { repetitions: 3 })))
}
const mwRuns = `${mwSamples} requests per run, request cv ${fmtPct(mwRequestCv)}`
methodRows.push(
  toRow(`mann-whitney, ${mwRuns}, run-to-run noise ${fmtPct(noise)}`, runMannWhitney(random, noise)),
  toRow(`mann-whitney, ${mwRuns}, no run-to-run noise (same-job A/B)`, runMannWhitney(random, 0)),
)
printTable('Every method at its defaults', methodRows)

const cpRows = [
  runChangePoints(random, 'E-divisive + t-test, window 50, p 0.0001 (default)', {}),
  runChangePoints(random, 'E-divisive + t-test, window 50, p 0.001 (Otava default)', { maxPValue: 0.001 }),
]
if (!args['skip-permutation']) {
  cpRows.push(
    runChangePoints(random, 'E-divisive + permutation, 199, p 0.01 (default)', {
      significance: 'permutation',
    }),
    runChangePoints(random, 'E-divisive + permutation, 100, p 0.05 (MongoDB default)', {
      significance: 'permutation',
      permutations: 100,
      maxPValue: 0.05,
    }),
  )
}
log(
  `Change points: ${cpLength}-point series, step 10 … ${cpLength - 10}; found = a change point within ±${cpTolerance}`,
)
log(
  '| detector | no change: none / some | step: missed / found | FP rate (95 % CI) | detection (95 % CI) | any point on stepped | exact index | mean abs location error | extra points on stepped | ms |',
)
log('|---|---|---|---|---|---|---|---|---|---|')
for (const r of cpRows) {
  log(
    `| ${r.name} | ${r.tn} / ${r.fp} | ${r.fn} / ${r.tp} | ${fmtRate(r.fp, r.fp + r.tn)} | ${fmtRate(r.tp, r.tp + r.fn)} | ${fmtPct(r.anyDetected / seriesCount)} | ${fmtPct(r.exact / seriesCount)} | ${r.meanAbsLocationError.toFixed(2)} points | ${r.extraOnStepped} | ${r.ms.toFixed(0)} |`,
  )
}
log()

if (args.json) {
  console.log(
    JSON.stringify(
      {
        config: { seriesCount, noise, step, baselineN, seed, cpLength, cpTolerance, mwSamples, mwRequestCv },
        defaults,
        gate: defaultRows,
        repetitions: repsRows,
        methods: methodRows,
        changePoints: cpRows,
      },
      null,
      2,
    ),
  )
}
