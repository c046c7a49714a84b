/**
 * Numbers across the IPC channel: JSON has no −Infinity, Infinity or NaN (JSON.stringify writes null), and
 * a log-likelihood of −Infinity is a real answer (a choice the model gives probability 0 — the tiny
 * fixtures put all mass on one byte). So scoreChoices' scores cross with the non-finite ones as strings.
 * @module
 */

/** Scores as sent: finite numbers as they are, the others as `"-Infinity"`, `"Infinity"`, `"NaN"`. */
export function toNumbersWire(values: readonly number[]): (number | string)[] {
  return values.map((v) => (Number.isFinite(v) ? v : String(v)))
}

/** The scores back. */
export function fromNumbersWire(values: readonly (number | string)[]): number[] {
  return values.map((v) => (typeof v === 'number' ? v : Number(v)))
}
