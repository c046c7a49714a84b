/**
 * How far the child's wall-aligned clock (`performance.timeOrigin + performance.now()`) is from the
 * parent's. Both derive from the same system clock, so the offset is normally a few microseconds; it grows
 * only if the wall clock was stepped or slewed between the two processes' starts (timeOrigin is read once
 * per process). Measured NTP-style with pings: offset = child time − midpoint of the parent's send and
 * receive times, from the ping with the shortest round trip; the true offset lies within ± rtt/2 of it.
 * @module
 */

export interface ClockPing {
  /** Parent time when the ping was sent, epoch ms. */
  sentMs: number
  /** Child time when it answered, epoch ms. */
  childMs: number
  /** Parent time when the answer arrived, epoch ms. */
  receivedMs: number
}

export interface ClockOffset {
  /** Child clock − parent clock, ms (from the shortest round trip). */
  offsetMs: number
  /** That ping's round trip, ms: the offset is known to ± rttMs / 2. */
  rttMs: number
  /**
   * True when |offsetMs| > rttMs / 2, i.e. the clocks provably disagree: child stamps are then shifted by
   * −offsetMs. Otherwise they are used as they are (the measured offset is within its own error).
   */
  corrected: boolean
}

export function estimateClockOffset(pings: readonly ClockPing[]): ClockOffset {
  let best: ClockPing | undefined
  for (const p of pings) if (!best || p.receivedMs - p.sentMs < best.receivedMs - best.sentMs) best = p
  if (!best) return { offsetMs: 0, rttMs: Number.NaN, corrected: false }
  const rttMs = best.receivedMs - best.sentMs
  const offsetMs = best.childMs - (best.sentMs + best.receivedMs) / 2
  return { offsetMs, rttMs, corrected: Math.abs(offsetMs) > rttMs / 2 }
}
