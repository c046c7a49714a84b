/**
 * The Studies pages and their /api twins (issue 20 item 5): the stored speculative-decoding studies
 * (db/studies/store.ts) with their state and progress, one study with its per-K rows and chart inputs, and
 * the catalogue of studies the page may launch — the `spec-*.ts` / `spec-*.json` study files in the
 * working directory's `scenarios/` folder, each validated (harness/speculative/study-file.ts, no native
 * engine). A launch names a file of that catalogue, never a path.
 * @module
 */
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import type { Db } from '../../db/client.ts'
import { listStudies, readStudy, type StoredStudy, type StudySummary } from '../../db/studies/store.ts'
import { loadStudy, type Study } from '../../harness/speculative/study-file.ts'
import type { StudyChartInput } from '../charts/studies.ts'
import { NotFoundError } from '../errors.ts'

/** Where launchable study files are: `scenarios/` of the directory the dashboard was started in. */
export function studiesDir(): string {
  return path.resolve('scenarios')
}

/** A launchable study file's name: spec-….ts or spec-….json (what the launch body may name). */
export const STUDY_FILE_PATTERN = /^spec-[a-z0-9][a-z0-9-]*\.(ts|json)$/

export interface CatalogueEntry {
  /** File name in studiesDir(). */
  file: string
  /** The validated study, or why it cannot run here (invalid, a model file missing). */
  study: Study | null
  problem: string | null
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
    let entry: CatalogueEntry
    try {
      entry = { file, study: await loadStudy(abs), problem: null }
    } catch (err) {
      entry = { file, study: null, problem: (err as Error).message }
    }
    catalogueCache.set(abs, { mtimeMs, entry })
    out.push(entry)
  }
  return out
}

export interface StudiesModel {
  studies: StudySummary[]
  catalogue: CatalogueEntry[]
}

export async function loadStudies(db: Db, limit = 50): Promise<StudiesModel> {
  const [studies, catalogue] = await Promise.all([listStudies(db, limit), studyCatalogue()])
  return { studies, catalogue }
}

export interface StudyModel extends StoredStudy {
  charts: StudyChartInput
}

export async function loadStudyModel(db: Db, id: number): Promise<StudyModel> {
  const stored = await readStudy(db, id)
  if (!stored) throw new NotFoundError(`study ${id} does not exist`)
  return {
    ...stored,
    charts: {
      alphaUsed: stored.study.alphaUsed,
      perK: stored.perK.map((r) => ({
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
