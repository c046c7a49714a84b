/**
 * The redactor lives in harness/redact.ts (the harness may not import db/, and every output shares it);
 * re-exported here for the database writers (db/sink.ts, db/import).
 * @module
 */
export { createRedactor, type Redactor } from '../harness/redact.ts'
