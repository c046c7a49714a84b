/**
 * The Studies pages and their /api twins (issue 20 item 5): the stored speculative-decoding studies
 * (db/studies/store.ts) with their state and progress, one study with its per-K rows and chart inputs, and
 * the catalogue of studies the page may launch — the `spec-*.ts` / `spec-*.json` study files in the
 * working directory's `scenarios/` folder, each validated (harness/speculative/study-file.ts, no native
 * engine; a file with `off` and `on` is an endpoint study, harness/speculative/endpoints/study-file.ts). A
 * launch names a file of that catalogue, never a path.
 * @module
 */
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { and, eq, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { queueWorkers } from '../../db/schema.ts'
import { listStudies, readStudy, type StoredStudy, type StudySummary } from '../../db/studies/store.ts'
import { type EndpointStudy, parseEndpointStudy } from '../../harness/speculative/endpoints/study-file.ts'
import { loadStudy, readStudyFile, type Study } from '../../harness/speculative/study-file.ts'
import type { StudyChartInput } from '../charts/studies.ts'
import { NotFoundError } from '../errors.ts'

/**
 * Where launchable study files are: `$BENCH_STUDIES_DIR` when set (another checkout's scenarios, or a
 * test's own folder), else `scenarios/` of the directory the dashboard was started in.
 */
export function studiesDir(): string {
  return path.resolve(process.env.BENCH_STUDIES_DIR || 'scenarios')
}

/** A launchable study file's name: spec-….ts or spec-….json (what the launch body may name). */
export const STUDY_FILE_PATTERN = /^spec-[a-z0-9][a-z0-9-]*\.(ts|json)$/

export type CatalogueEntry = {
  /** File name in studiesDir(). */
  file: string
  /** Why it cannot run here (invalid, a model file missing); null when `study` is set. */
  problem: string | null
} & (
  | { kind: 'native' /** The validated study, or null (see problem). */; study: Study | null }
  | { kind: 'endpoint'; study: EndpointStudy | null }
)

/** An endpoint study file names the endpoints without (`off`) and with speculation (`on`). */
function isEndpointStudy(raw: unknown): boolean {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) && ('off' in raw || 'on' in raw)
}

async function catalogueEntry(file: string, abs: string): Promise<CatalogueEntry> {
  let raw: unknown
  try {
    raw = await readStudyFile(abs)
  } catch (err) {
    return { file, kind: 'native', study: null, problem: (err as Error).message }
  }
  if (isEndpointStudy(raw))
    try {
      return { file, kind: 'endpoint', study: parseEndpointStudy(raw, abs), problem: null }
    } catch (err) {
      return { file, kind: 'endpoint', study: null, problem: (err as Error).message }
    }
  try {
    return { file, kind: 'native', study: await loadStudy(abs), problem: null }
  } catch (err) {
    return { file, kind: 'native', study: null, problem: (err as Error).message }
  }
}

const catalogueCache = new Map<string, { mtimeMs: number; entry: CatalogueEntry }>()

/** The launchable studies, by file name; each file validated once per modification. */
export async function studyCatalogue(dir = studiesDir()): Promise<CatalogueEntry[]> {
  let files: string[]
  try {
    files = readdirSync(dir).filter((f) => STUDY_FILE_PATTERN.test(f))
  } catch {
    return []
  }
  const out: CatalogueEntry[] = []
  for (const file of files.sort()) {
    const abs = path.join(dir, file)
    const mtimeMs = statSync(abs).mtimeMs
    const cached = catalogueCache.get(abs)
    if (cached && cached.mtimeMs === mtimeMs) {
      out.push(cached.entry)
      continue
    }
    const entry = await catalogueEntry(file, abs)
    catalogueCache.set(abs, { mtimeMs, entry })
    out.push(entry)
  }
  return out
}

/** A worker silent this long is lost (db/queue/worker.ts STALE_AFTER_MS, not imported: graphile-worker). ms. */
const WORKER_STALE_MS = 10_000

/** `bench worker` processes on this database with a fresh heartbeat: a queued study waits for one. */
export async function liveWorkers(db: Db): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(queueWorkers)
    .where(
      and(
        eq(queueWorkers.state, 'running'),
        sql`${queueWorkers.heartbeatAt} > now() - make_interval(secs => ${WORKER_STALE_MS / 1000}::double precision)`,
      ),
    )
  return row?.n ?? 0
}

export interface StudiesModel {
  studies: StudySummary[]
  catalogue: CatalogueEntry[]
  /** Workers alive now (a launched study runs only when one is). */
  liveWorkers: number
}

export async function loadStudies(db: Db, limit = 50): Promise<StudiesModel> {
  const [studies, catalogue, workers] = await Promise.all([
    listStudies(db, limit),
    studyCatalogue(),
    liveWorkers(db),
  ])
  return { studies, catalogue, liveWorkers: workers }
}

export interface StudyModel extends StoredStudy {
  charts: StudyChartInput
  liveWorkers: number
}

export async function loadStudyModel(db: Db, id: number): Promise<StudyModel> {
  const [stored, workers] = await Promise.all([readStudy(db, id), liveWorkers(db)])
  if (!stored) throw new NotFoundError(`study ${id} does not exist`)
  // An endpoint study: its K rows, a prediction only where the server gave τ and c was known.
  const endpointCharts: StudyChartInput['perK'] = stored.endpointK.map((r) => ({
    k: r.k,
    measuredSpeedup: r.measuredSpeedup,
    predictedSpeedup: r.predictedSpeedup,
    error: r.error,
    positionRates: r.positions.map((p) => p.rate),
    acceptLengths: [],
  }))
  return {
    ...stored,
    liveWorkers: workers,
    charts: {
      alphaUsed: stored.study.alphaUsed,
      perK:
        stored.study.kind === 'endpoint'
          ? endpointCharts
          : stored.perK.map((r) => ({
              k: r.k,
              measuredSpeedup: r.measuredSpeedup,
              predictedSpeedup: r.predictedSpeedup,
              error: r.error,
              positionRates: r.positions.map((p) => p.rate),
              acceptLengths: r.acceptLengths,
            })),
    },
  }
}
