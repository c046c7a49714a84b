import { describe, expect, it } from 'vitest'
import { isLostTypeLookup } from '../../../db/pglite/owner-switch.ts'

/** postgres.js's array-type lookup as a worker serialized it in CI (2026-12-07, shared-dir.test.ts). */
const LOST = {
  errno: -104,
  code: 'ECONNRESET',
  syscall: 'read',
  query:
    "\n      select b.oid, b.typarray\n      from pg_catalog.pg_type a\n      left join pg_catalog.pg_type b on b.oid = a.typelem\n      where a.typcategory = 'A'\n      group by b.oid, b.typarray\n      order by b.oid\n    ",
  parameters: [],
}

describe('isLostTypeLookup', () => {
  it('lets exactly postgres.js’s unawaited type lookup pass when the owner went away', () => {
    expect(isLostTypeLookup(LOST)).toBe(true)
    expect(isLostTypeLookup({ ...LOST, code: 'CONNECTION_CLOSED' })).toBe(true)
  })

  it('keeps every other failure: another query, another error, no query', () => {
    expect(isLostTypeLookup({ ...LOST, query: 'select 1' })).toBe(false)
    expect(isLostTypeLookup({ ...LOST, code: '42P01' })).toBe(false)
    expect(isLostTypeLookup(new Error('read ECONNRESET'))).toBe(false)
    expect(isLostTypeLookup(undefined)).toBe(false)
  })
})
