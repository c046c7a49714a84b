/**
 * DatabaseError: the results database cannot be used as asked — a directory that is not a bench database,
 * a damaged or newer database, a URL that is not PostgreSQL. Its message names the directory or URL and
 * what to do, and the CLI prints it as is (a HarnessError: no stack trace, exit 1).
 * @module
 */
import { HarnessError } from '../harness/errors.ts'

export class DatabaseError extends HarnessError {
  override name = 'DatabaseError'
}
