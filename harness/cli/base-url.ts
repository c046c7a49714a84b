/**
 * The `<base-url>` argument of the commands that point at a deployed endpoint (`bench sweep`, `bench
 * checklist`): an http(s) URL with its /v1, checked with a message naming the argument and the fix.
 * @module
 */
import { HarnessError } from '../errors.ts'

export function checkBaseUrl(baseUrl: string): URL {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    throw new HarnessError(
      `<base-url> "${baseUrl}" is not a URL; give the endpoint with /v1, e.g. http://127.0.0.1:8000/v1`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new HarnessError(`<base-url> must be http:// or https://, got ${url.protocol}`)
  return url
}
