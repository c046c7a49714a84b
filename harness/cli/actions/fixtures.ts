/**
 * `bench fixtures`: generates the fixture models (GGUF and ONNX variants with manifests) into a folder,
 * skipping files that are already up to date, and prints what is there. Beside them, `knowledge/`: the
 * knowledge fixture set in the MMLU CSV layout (harness/fixtures/knowledge, the default knowledge seed the
 * teacher is trained on), the dataset scenarios/mmlu-sample.ts scores.
 * @module
 */
import { join, relative } from 'node:path'
import { HarnessError } from '../../errors.ts'
import { FIXTURE_SIZES, generateFixtures } from '../../fixtures/generate.ts'
import {
  buildKnowledgeSet,
  DEFAULT_KNOWLEDGE_SEED,
  writeKnowledgeSet,
} from '../../fixtures/knowledge/index.ts'
import type { FixtureSize } from '../../fixtures/llama-weights.ts'
import type { FixtureManifest } from '../../fixtures/manifest.ts'

export interface FixturesCommandOptions {
  out: string
  size: string
  seed: number
  json?: boolean
}

function parseSizes(value: string): FixtureSize[] {
  if (value === 'all') return [...FIXTURE_SIZES]
  if ((FIXTURE_SIZES as readonly string[]).includes(value)) return [value as FixtureSize]
  throw new HarnessError(`--size expects ${FIXTURE_SIZES.join(', ')} or all, got "${value}"`)
}

function formatSize(bytes: number): string {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`
  return `${(bytes / 1024).toFixed(1)} KiB`
}

export function formatFixtureTable(rows: readonly { manifest: FixtureManifest; state: string }[]): string {
  const header = [
    'variant',
    'format',
    'quant',
    'method',
    'parent',
    'size',
    'bits',
    'params',
    'sha256',
    'state',
  ]
  const body = rows.map(({ manifest: m, state }) => [
    m.name,
    m.format,
    m.quantLabel,
    m.method,
    m.parent ?? '-',
    formatSize(m.sizeBytes),
    m.bits.toFixed(2),
    m.params.toLocaleString('en-US'),
    m.sha256.slice(0, 12),
    state,
  ])
  const all = [header, ...body]
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)))
  const right = new Set([5, 6, 7])
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd()
  return all.map(line).join('\n')
}

/**
 * Writes `<outDir>/knowledge` (dev/ val/ test/ CSVs and corpus.txt) from the default knowledge seed, every
 * time: a few ms, and never stale against this checkout's generator. Returns the directory.
 */
export function writeSampleKnowledge(outDir: string): string {
  const dir = join(outDir, 'knowledge')
  writeKnowledgeSet(dir, buildKnowledgeSet(DEFAULT_KNOWLEDGE_SEED))
  return dir
}

/** `bench fixtures`: generates what is missing or out of date, prints the table (or the manifests). */
export async function fixturesCommand(opts: FixturesCommandOptions): Promise<number> {
  const sizes = parseSizes(opts.size)
  const rows: { manifest: FixtureManifest; state: string }[] = []
  const started = performance.now()
  const manifests = await generateFixtures({
    outDir: opts.out,
    sizes,
    seed: opts.seed,
    onVariant: ({ manifest, state, ms }) => {
      rows.push({
        manifest,
        state: state === 'generated' ? `generated ${ms.toFixed(0)} ms` : 'unchanged',
      })
      // Progress for the slow `bench` size; the table on stdout follows at the end.
      if (!opts.json && state === 'generated') process.stderr.write(`generated ${manifest.file}\n`)
    },
  })
  const knowledge = writeSampleKnowledge(opts.out)
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ outDir: opts.out, variants: manifests, knowledge })}\n`)
    return 0
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  process.stdout.write(
    `${formatFixtureTable(rows)}\n${manifests.length} variants in ${relative(process.cwd(), opts.out) || '.'} (${seconds} s); index: manifest.json\n` +
      `knowledge set (MMLU CSV layout, scenarios/mmlu-sample.ts): ${relative(process.cwd(), knowledge) || knowledge}\n`,
  )
  return 0
}
