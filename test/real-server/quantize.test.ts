/**
 * Our GGUF quantizers against llama.cpp's own: `llama-quantize --pure` of the fixture's F32 must give the
 * same tensor bytes as our Q8_0 / Q4_0 fixtures, tensor by tensor (the files' metadata differ: name, file
 * type, quantization version). Without `--pure` llama-quantize keeps output.weight at a higher type (Q6_K,
 * or Q8_0 when the width is not a multiple of 256), which is why the fixtures' manifests say "pure".
 * Skipped without the cached llama.cpp build (build-llama-cpp.sh); required under CI.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type GgufTensorInfo, readGgufHeader } from '../../harness/fixtures/gguf-reader.ts'
import { tinyModels } from '../helpers/fixture-models.ts'
import { findLlamaCppTool } from '../helpers/llama-cpp-tools.ts'

const ROOT = new URL('../../', import.meta.url).pathname
const tool = findLlamaCppTool(ROOT, 'llama-quantize')
if (!tool.found && process.env.CI) throw new Error(`CI must build llama-quantize first: ${tool.reason}`)

const dir = mkdtempSync(join(tmpdir(), 'bench-quantize-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function tensorBytes(file: string, tensor: GgufTensorInfo): Buffer {
  const fd = openSync(file, 'r')
  try {
    const bytes = Buffer.alloc(tensor.sizeBytes ?? 0)
    readSync(fd, bytes, 0, bytes.length, tensor.offsetBytes)
    return bytes
  } finally {
    closeSync(fd)
  }
}

describe.skipIf(!tool.found)(`llama-quantize${tool.found ? '' : ` (skipped: ${tool.reason})`}`, () => {
  for (const type of ['Q8_0', 'Q4_0'] as const) {
    it(`--pure ${type} of tiny-f32 = our tiny-${type.toLowerCase()}, tensor by tensor`, async () => {
      const models = await tinyModels()
      const theirs = join(dir, `tiny-${type}.gguf`)
      if (!tool.found) return
      execFileSync(tool.path, ['--pure', models.path('tiny-f32'), theirs, type], { stdio: 'pipe' })
      const ours = models.path(`tiny-${type.toLowerCase()}`)
      const a = readGgufHeader(ours)
      const b = readGgufHeader(theirs)
      expect(b.tensors.map((t) => t.name).sort(), 'same tensors').toEqual(a.tensors.map((t) => t.name).sort())
      for (const t of a.tensors) {
        const u = b.tensors.find((x) => x.name === t.name)!
        expect(u.typeName, `${t.name} type`).toBe(t.typeName)
        expect(u.dims, `${t.name} dims`).toEqual(t.dims)
        expect(tensorBytes(theirs, u).equals(tensorBytes(ours, t)), `${t.name} bytes`).toBe(true)
      }
      const manifest = models.manifests.find((m) => m.name === `tiny-${type.toLowerCase()}`)
      expect(manifest?.description, 'the manifest says pure').toContain('pure')
    })
  }

  it('without --pure, llama-quantize keeps output.weight at a higher type (why "pure" matters)', async () => {
    const models = await tinyModels()
    const theirs = join(dir, 'tiny-Q4_0-default.gguf')
    if (!tool.found) return
    execFileSync(tool.path, [models.path('tiny-f32'), theirs, 'Q4_0'], { stdio: 'pipe' })
    const output = readGgufHeader(theirs).tensors.find((t) => t.name === 'output.weight')
    // Tied embeddings have no output.weight; the fixtures write one.
    expect(output?.typeName, 'output.weight type').not.toBe('Q4_0')
  })
})
