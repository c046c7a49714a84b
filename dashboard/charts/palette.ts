/**
 * Colours for series: distinguishable, readable on white, and the same series the same colour on every
 * chart of a page (callers index by series, not by dataset position).
 * @module
 */
export const SERIES_COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
] as const

export function seriesColour(index: number): string {
  return SERIES_COLOURS[((index % SERIES_COLOURS.length) + SERIES_COLOURS.length) % SERIES_COLOURS.length]!
}

/** `#rrggbb` with an alpha, for fills. */
export function withAlpha(hex: string, alpha: number): string {
  const a = Math.round(Math.min(1, Math.max(0, alpha)) * 255)
  return `${hex}${a.toString(16).padStart(2, '0')}`
}

export const BASE_COLOUR = '#4e79a7'
export const CANDIDATE_COLOUR = '#f28e2b'
export const FRONT_COLOUR = '#e15759'
