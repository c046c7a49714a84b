/**
 * A small cache for the dashboard's heavier reads. Entries are promises, so concurrent identical requests
 * share one computation (50 clients asking for the same leaderboard run its queries once). A versioned
 * entry is reused only while the data version is unchanged (newest run id and number of running runs:
 * a run started, finished or imported changes it; newest alert and latest alert action) and for at most
 * `maxAgeMs`, and a write through the dashboard drops them at once (`invalidate`); an immutable entry (the
 * request series of a finished run) only leaves when the cache is full. Least recently used goes first.
 * @module
 */

export interface ReadCacheOptions {
  /** The data's current version; versioned entries computed under another one are recomputed. */
  version: () => Promise<string>
  /** A version read is reused for this long, ms. @default 250 */
  versionTtlMs?: number
  /** Versioned entries older than this are recomputed anyway, ms. @default 60000 */
  maxAgeMs?: number
  /** Entries kept. @default 500 */
  maxEntries?: number
  /** Clock, ms. @default performance.now */
  now?: () => number
}

interface Entry {
  value: Promise<unknown>
  /** null: immutable. */
  version: string | null
  at: number
}

export class ReadCache {
  readonly #entries = new Map<string, Entry>()
  readonly #options: Required<ReadCacheOptions>
  #version: { value: Promise<string>; at: number } | undefined

  constructor(options: ReadCacheOptions) {
    this.#options = {
      versionTtlMs: 250,
      maxAgeMs: 60_000,
      maxEntries: 500,
      now: () => performance.now(),
      ...options,
    }
  }

  /**
   * compute()'s result for `key`, reused while the data version holds. A result `keep` refuses (e.g. a
   * run still running, which changes without changing the version) is returned to the requests that
   * waited for it, then dropped.
   */
  async get<T>(key: string, compute: () => Promise<T>, keep?: (value: T) => boolean): Promise<T> {
    const version = await this.#currentVersion()
    const now = this.#options.now()
    const hit = this.#entries.get(key)
    if (hit && hit.version === version && now - hit.at <= this.#options.maxAgeMs)
      return this.#touch(key, hit) as Promise<T>
    const value = this.#store(key, compute, version, now)
    if (keep) {
      const entry = this.#entries.get(key)
      value.then(
        (v) => {
          if (!keep(v) && this.#entries.get(key) === entry) this.#entries.delete(key)
        },
        () => {},
      )
    }
    return value
  }

  /** compute()'s result for `key`, which never changes once computed. */
  getImmutable<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const hit = this.#entries.get(key)
    if (hit && hit.version === null) return this.#touch(key, hit) as Promise<T>
    return this.#store(key, compute, null, this.#options.now())
  }

  /**
   * After a write through this process: forget the memoized version read and every versioned entry, so
   * the next read sees the change at once rather than after `versionTtlMs`. Immutable entries stay.
   */
  invalidate(): void {
    this.#version = undefined
    for (const [key, entry] of this.#entries) if (entry.version !== null) this.#entries.delete(key)
  }

  get size(): number {
    return this.#entries.size
  }

  #currentVersion(): Promise<string> {
    const now = this.#options.now()
    if (!this.#version || now - this.#version.at > this.#options.versionTtlMs) {
      const value = this.#options.version()
      // A failed read must not be reused.
      value.catch(() => {
        if (this.#version?.value === value) this.#version = undefined
      })
      this.#version = { value, at: now }
    }
    return this.#version.value
  }

  #touch(key: string, entry: Entry): Promise<unknown> {
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry.value
  }

  #store<T>(key: string, compute: () => Promise<T>, version: string | null, at: number): Promise<T> {
    const value = compute()
    const entry: Entry = { value, version, at }
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    value.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key)
    })
    while (this.#entries.size > this.#options.maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#entries.delete(oldest)
    }
    return value
  }
}
