/**
 * Chunk gaps are stored as little-endian float32 in a bytea (4 bytes per gap, 7 significant digits: under
 * a microsecond for gaps below 10 s). Compared with a `real[]` this is the same size on disk but needs no
 * text formatting and parsing of every number: 3.7× faster ingestion into PostgreSQL measured with 63 gaps
 * per request (108 k vs 29 k rows/s). In SQL a gap is `get_byte`-decodable but meant to be read here.
 * @module
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Float32 little-endian bytes of `values`, in one copy (a typed array is already LE on LE hosts). */
export function encodeFloat32(values: ArrayLike<number>): Buffer {
  const floats = values instanceof Float32Array ? values : Float32Array.from(values)
  if (LITTLE_ENDIAN) return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength)
  const bytes = Buffer.allocUnsafe(floats.length * 4)
  for (let i = 0; i < floats.length; i++) bytes.writeFloatLE(floats[i] ?? Number.NaN, i * 4)
  return bytes
}

/** Accepts what drivers return for bytea: Buffer (postgres.js), Uint8Array (PGlite) or `\x…` hex text. */
export function decodeFloat32(value: Uint8Array | string): number[] {
  const bytes =
    typeof value === 'string'
      ? Buffer.from(value.startsWith('\\x') ? value.slice(2) : value, 'hex')
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (bytes.length % 4 !== 0) throw new Error(`float32 data of ${bytes.length} bytes is not a multiple of 4`)
  if (LITTLE_ENDIAN) return Array.from(new Float32Array(Uint8Array.prototype.slice.call(bytes).buffer))
  const out = new Array<number>(bytes.length / 4)
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4)
  return out
}
