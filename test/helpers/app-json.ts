import type { Hono } from 'hono'
import { expect } from 'vitest'

/** GETs `path` from the app (no port), asserts the status and a JSON content type, returns the body. */
export async function getJson<T>(app: Hono, path: string, status = 200): Promise<T> {
  const res = await app.request(path)
  const body = await res.text()
  expect(res.status, `${path}: ${body.slice(0, 300)}`).toBe(status)
  expect(res.headers.get('content-type'), `${path}: JSON`).toMatch(/^application\/json/)
  return JSON.parse(body) as T
}
