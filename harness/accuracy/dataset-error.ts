/**
 * The one error a dataset loader throws: it names the file, the 1-based line where the bad record starts,
 * what is wrong and how to fix it, so a bad row never turns into a silently mis-parsed item.
 * @module
 */
import { HarnessError } from '../errors.ts'

export class DatasetError extends HarnessError {
  override name = 'DatasetError'
  constructor(
    /** The file as the caller named it (absolute or relative). */
    readonly file: string,
    /** 1-based line where the offending record starts; undefined for a problem of the whole file or folder. */
    readonly line: number | undefined,
    /** What is wrong, e.g. `6 fields expected, got 5`. */
    readonly problem: string,
    /** What to change, e.g. `write the answer letter (A–D) as the 6th field`. */
    readonly fix: string,
  ) {
    super(`${line === undefined ? file : `${file}:${line}`}: ${problem}. Fix: ${fix}`)
  }
}
