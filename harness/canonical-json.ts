/**
 * The one canonical JSON of the project: what scenario hashes (harness/config) and fingerprints, variant
 * and environment hashes (db/identity.ts) are taken of. Lives in harness/ because the harness may not import
 * db/; db/ imports it from here.
 *
 * Changing its output changes every stored hash and breaks existing histories: test/unit/canonical-json.test.ts
 * pins known hashes.
 * @module
 */

/**
 * JSON with object keys sorted and undefined members dropped, so equal values hash equally. It is
 * JSON.stringify with a replacer, so what JSON.stringify does stays: toJSON is honoured (a Date is its ISO
 * text), undefined in an array is null, NaN and ±Infinity are null, and a top-level undefined gives
 * undefined. Integer-like keys ("9", "10") come first in numeric order (a JavaScript object's own key
 * order), then the others sorted by UTF-16 code unit; stored fingerprints depend on that order.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    const sorted: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k]
    return sorted
  })
}
