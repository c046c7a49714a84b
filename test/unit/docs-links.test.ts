/**
 * Every Markdown file the repo tracks links only inside the repo, to files that exist: a relative link
 * (`[text](path)`, `![alt](path)`, `[ref]: path`, `href="path"`) that leaves the checkout or names a
 * missing file fails, and so does an anchor (`path.md#heading`) that no heading of that file makes. Prose
 * that spells a path leaving the repo (`../../shared/METRICS.md`) fails too: a reader of the repo alone
 * cannot follow it. Code blocks and code spans are examples, not links, and are skipped.
 *
 * The tracked files are `git ls-files`'s list, read from the git index itself: the unit project may not
 * start a child process (test/helpers/unit-guard.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

/** The git directory: `.git`, or where a worktree's `.git` file points. */
function gitDir(): string {
  const dotGit = path.join(REPO, '.git')
  if (statSync(dotGit).isDirectory()) return dotGit
  const pointer = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]
  if (!pointer) throw new Error(`${dotGit}: neither a directory nor a "gitdir:" file`)
  return path.resolve(REPO, pointer.trim())
}

/**
 * The paths in the git index (what `git ls-files` lists), versions 2 and 3: a 12-byte header ("DIRC",
 * version, entry count), then per entry 62 bytes of stat data, object id and flags (+2 bytes of extended
 * flags in v3 when flagged), the NUL-terminated path, NUL padding to a multiple of 8 bytes.
 */
function trackedFiles(index: Buffer): string[] {
  if (index.toString('latin1', 0, 4) !== 'DIRC') throw new Error('not a git index (no DIRC signature)')
  const version = index.readUInt32BE(4)
  if (version !== 2 && version !== 3)
    throw new Error(
      `git index version ${version}: only 2 and 3 are read here (git update-index --index-version 2)`,
    )
  const count = index.readUInt32BE(8)
  const files: string[] = []
  let at = 12
  for (let i = 0; i < count; i++) {
    const flags = index.readUInt16BE(at + 60)
    const extended = version === 3 && (flags & 0x4000) !== 0
    const start = at + 62 + (extended ? 2 : 0)
    const end = index.indexOf(0, start)
    files.push(index.toString('utf8', start, end))
    at += Math.ceil((end - at + 1) / 8) * 8
  }
  return files
}

/** GitHub's heading anchor: lower case, punctuation dropped (hyphens and underscores kept), spaces → '-'. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

interface Doc {
  /** Lines outside fenced code blocks, with code spans blanked, by line number (1-based). */
  prose: { n: number; text: string }[]
  anchors: Set<string>
}

function parse(text: string): Doc {
  const prose: Doc['prose'] = []
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  let fence: string | undefined
  for (const [i, line] of text.split('\n').entries()) {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line)?.[1]
    if (fence !== undefined) {
      if (opener?.startsWith(fence)) fence = undefined
      continue
    }
    if (opener !== undefined) {
      fence = opener
      continue
    }
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)?.[1]
    if (heading !== undefined) {
      const base = slug(heading)
      const k = seen.get(base) ?? 0
      seen.set(base, k + 1)
      anchors.add(k === 0 ? base : `${base}-${k}`)
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) if (m[1]) anchors.add(m[1])
    prose.push({ n: i + 1, text: line.replace(/(`+)(?:(?!\1).)+?\1/g, (s) => ' '.repeat(s.length)) })
  }
  return { prose, anchors }
}

/** Link targets of a prose line: inline links and images, reference definitions, href/src attributes. */
function linkTargets(line: string): string[] {
  const out: string[] = []
  for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1] ?? '')
  const ref = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line)?.[1]
  if (ref) out.push(ref)
  for (const m of line.matchAll(/\b(?:href|src)="([^"]+)"/g)) out.push(m[1] ?? '')
  return out.filter((t) => t !== '')
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i

interface Problem {
  at: string
  target: string
  why: string
}

/** What is wrong with the links of one tracked Markdown file (repo-relative path). */
function checkDoc(file: string, docs: Map<string, Doc>, read: (f: string) => Doc | undefined) {
  const problems: Problem[] = []
  const doc = docs.get(file)
  if (!doc) return problems
  const dir = path.dirname(path.join(REPO, file))
  for (const { n, text } of doc.prose) {
    const at = `${file}:${n}`
    for (const target of linkTargets(text)) {
      if (EXTERNAL.test(target)) continue
      const [rawPath = '', anchor] = target.split('#', 2)
      const filePath = decodeURIComponent(rawPath)
      if (filePath === '') {
        if (anchor && !doc.anchors.has(anchor))
          problems.push({ at, target, why: `no heading in ${file} makes the anchor #${anchor}` })
        continue
      }
      const abs = path.resolve(dir, filePath)
      const rel = path.relative(REPO, abs)
      if (rel.startsWith('..') || path.isAbsolute(rel) || filePath.startsWith('/')) {
        problems.push({ at, target, why: 'leaves the repo: copy what it names into the repo and link that' })
        continue
      }
      if (!existsSync(abs)) {
        problems.push({ at, target, why: `no such file: ${rel}` })
        continue
      }
      if (anchor && abs.endsWith('.md')) {
        const anchors = read(rel)?.anchors
        if (anchors && !anchors.has(anchor))
          problems.push({ at, target, why: `no heading in ${rel} makes the anchor #${anchor}` })
      }
    }
    // A path spelled in prose (not a link) that climbs out of the repo.
    const words = text.replace(/\]\([^)]*\)/g, '](…)')
    for (const m of words.matchAll(/(?<![\w/])((?:\.\.\/)+)[\w.-]+(?:\/[\w.-]+)*/g)) {
      const rel = path.relative(REPO, path.resolve(dir, m[0]))
      if (rel.startsWith('..'))
        problems.push({
          at,
          target: m[0],
          why: 'a path outside the repo: a reader of the repo cannot follow it',
        })
    }
  }
  return problems
}

const files = trackedFiles(readFileSync(path.join(gitDir(), 'index'))).filter(
  (f) => f.endsWith('.md') && existsSync(path.join(REPO, f)),
)
const cache = new Map<string, Doc>()
function read(rel: string): Doc | undefined {
  let doc = cache.get(rel)
  if (!doc && existsSync(path.join(REPO, rel))) {
    doc = parse(readFileSync(path.join(REPO, rel), 'utf8'))
    cache.set(rel, doc)
  }
  return doc
}

describe('Markdown links', () => {
  it('the git index lists the tracked Markdown files (README.md and harness/METRICS.md among them)', () => {
    expect(files).toContain('README.md')
    expect(files).toContain('harness/METRICS.md')
    expect(files.length, 'a folder README or two at least').toBeGreaterThan(5)
  })

  it.each(files)('%s links only inside the repo, to files and headings that exist', (file) => {
    read(file)
    const problems = checkDoc(file, cache, read).map((p) => `${p.at}: ${p.target}: ${p.why}`)
    expect(problems).toEqual([])
  })

  it('catches a link out of the repo, a missing file, a bad anchor and a path in prose', () => {
    const name = '__docs_links_probe__.md'
    const doc = parse(
      [
        '# Probe heading',
        'See [metrics](../shared/METRICS.md), [gone](harness/nope.md), [bad](README.md#no-such-heading),',
        '[ok](README.md#running-scenarios), [self](#probe-heading), [web](https://example.com/x.md), [x](#nope)',
        'as ../../shared/METRICS.md says; `../code/span.md` and [abs](/etc/passwd).',
        '```',
        '[in a fence](../../outside.md)',
        '```',
      ].join('\n'),
    )
    const problems = checkDoc(name, new Map([[name, doc]]), (rel) => (rel === name ? doc : read(rel)))
    expect(problems.map((p) => `${p.target} ${p.why.split(':')[0]}`)).toEqual([
      '../shared/METRICS.md leaves the repo',
      'harness/nope.md no such file',
      'README.md#no-such-heading no heading in README.md makes the anchor #no-such-heading',
      '#nope no heading in __docs_links_probe__.md makes the anchor #nope',
      '/etc/passwd leaves the repo',
      '../../shared/METRICS.md a path outside the repo',
    ])
  })
})
