// The summary's cache rows: with caching on (caches set), one row for the kube-cross image cache and one
// for the Go build cache, each "hit (<the key restored>): <size> restored in <time>" or "miss", then
// what was saved and how long that took; with caching off (caches null), neither row.
import { describe, expect, it } from 'vitest'
import {
  summaryMarkdown,
  summaryText,
  type CacheReport,
  type CacheResult,
  type RunReport
} from '../../../src/report/report.js'

const IMAGE_KEY =
  'kube-release-image-v1-linux-amd64-registry.k8s.io/build-image/kube-cross:v1.36.0-go1.26.2-bullseye.0'
const BUILD_KEY =
  'kube-release-build-v1-v1.36.0-go1.26.2-bullseye.0-3f2a9c1b7d4e-volume-16458301297-1-0badc0de'

const report = (caches: CacheReport | null, cacheRoom: RunReport['cacheRoom'] = null): RunReport => ({
  mode: 'quick-release',
  workspace: 'volume',
  version: 'v1.36.0',
  platforms: ['linux/amd64'],
  targets: 'everything make cross builds',
  startedAt: Date.UTC(2026, 11, 7, 23, 50),
  stages: [
    { name: 'prereqs', startSeconds: 0, seconds: 1, ok: true },
    { name: 'build', startSeconds: 1, seconds: 100, ok: true }
  ],
  legs: [],
  tarballs: [],
  releaseDir: null,
  images: [],
  artifacts: [],
  caches,
  traffic: { intoContainers: 0, outOfContainers: 0 },
  cacheRoom,
  error: null
})

/** Cells of the Markdown table rows, trimmed. */
const mdRows = (md: string): string[][] =>
  md
    .split('\n')
    .filter(l => l.startsWith('|'))
    .map(l =>
      l
        .slice(1, -1)
        .split('|')
        .map(c => c.trim())
    )

/** The value cells of the Markdown rows whose first cell names `what` (bold or not). */
const mdValues = (md: string, what: string): string[] =>
  mdRows(md)
    .filter(r => r[0].replace(/\*/g, '').trim() === what)
    .map(r => r[1])

/** The rest of the text lines that start with `what`. */
const textValues = (text: string, what: string): string[] =>
  text
    .split('\n')
    .filter(l => l.trim().startsWith(`${what} `))
    .map(l => l.trim().slice(what.length).trim())

const MiB = 1024 ** 2
const IMAGE_HIT = { restored: { key: IMAGE_KEY, bytes: 1900 * MiB, seconds: 41.23 }, saved: null }
const BUILD_HIT = { restored: { key: BUILD_KEY, bytes: 812 * MiB, seconds: 12.34 }, saved: null }
const MISS = { restored: null, saved: null }
const caches = (image: CacheResult, build: CacheResult): CacheReport => ({ image, build })

const CASES: [string, CacheReport, string, string][] = [
  [
    'both hit',
    caches(IMAGE_HIT, BUILD_HIT),
    `hit (${IMAGE_KEY}): 1.86 GiB restored in 41.2 s`,
    `hit (${BUILD_KEY}): 812 MiB restored in 12.3 s`
  ],
  ['both miss', caches(MISS, MISS), 'miss', 'miss'],
  [
    'image hit, build miss and saved',
    caches(IMAGE_HIT, { restored: null, saved: { bytes: 1.5 * 1024 ** 3, seconds: 30.06 } }),
    `hit (${IMAGE_KEY}): 1.86 GiB restored in 41.2 s`,
    'miss; 1.5 GiB saved in 30.1 s'
  ],
  [
    'image miss and saved, build hit and saved',
    caches(
      { restored: null, saved: { bytes: 2 * 1024 ** 3, seconds: 52 } },
      { ...BUILD_HIT, saved: { bytes: 90 * MiB, seconds: 5.08 } }
    ),
    'miss; 2 GiB saved in 52.0 s',
    `hit (${BUILD_KEY}): 812 MiB restored in 12.3 s; 90 MiB saved in 5.1 s`
  ]
]

describe('summaryMarkdown: caches', () => {
  it.each(CASES)(
    '%s: one image cache row and one build cache row, with sizes and times',
    (_what, caches, image, build) => {
      const md = summaryMarkdown(report(caches))
      expect(mdValues(md, 'image cache')).toEqual([image])
      expect(mdValues(md, 'build cache')).toEqual([build])
    }
  )

  it('the rows are in the facts table, which keeps its width', () => {
    const lines = summaryMarkdown(report(caches(IMAGE_HIT, MISS))).split('\n')
    const result = lines.findIndex(l => l.includes('**result**'))
    const image = lines.findIndex(l => l.includes('image cache'))
    expect(result).toBeGreaterThanOrEqual(0)
    expect(image).toBeGreaterThan(result)
    // No blank line (the end of a table) between them, and every row as wide as the header.
    const table = lines.slice(result, image + 1)
    expect(table.every(l => l.startsWith('|'))).toBe(true)
    const width = lines[result].split('|').length
    for (const l of table) expect(l.split('|').length, l).toBe(width)
  })

  it('caching off: no cache rows', () => {
    const md = summaryMarkdown(report(null))
    expect(md).not.toMatch(/image cache|build cache/i)
    expect(md).not.toMatch(/\bmiss\b/)
  })
})

describe('summaryText: caches', () => {
  it.each(CASES)('%s: one image cache line and one build cache line', (_what, caches, image, build) => {
    const text = summaryText(report(caches))
    expect(textValues(text, 'image cache')).toEqual([image])
    expect(textValues(text, 'build cache')).toEqual([build])
  })

  it('the values line up with the other facts', () => {
    const lines = summaryText(report(caches(IMAGE_HIT, MISS))).split('\n')
    const at = (what: string, value: string): number => {
      const line = lines.find(l => l.trim().startsWith(what))
      expect(line, what).toBeDefined()
      return (line as string).indexOf(value, (line as string).indexOf(what) + what.length)
    }
    expect(at('image cache', 'hit (')).toBe(at('result', 'succeeded'))
    expect(at('build cache', 'miss')).toBe(at('result', 'succeeded'))
  })

  it('caching off: no cache lines', () => {
    const text = summaryText(report(null))
    expect(text).not.toMatch(/image cache|build cache/i)
    expect(text).not.toMatch(/\bmiss\b/)
  })
})

describe('summary: the cache room', () => {
  const GIB = 1024 ** 3
  const WARNING = 'caches: this run takes about 6.0 GiB of the 10.0 GiB that the GitHub Actions cache keeps'

  it('gives what the saved entries take of the room, and the warning as a callout when there is one', () => {
    const md = summaryMarkdown(
      report(caches(MISS, MISS), { bytes: 6 * GIB, quotaBytes: 10 * GIB, warning: WARNING })
    )
    expect(mdValues(md, 'cache room')).toEqual(['6 GiB of 10 GiB (60 %)'])
    expect(md).toContain(`> [!WARNING]\n> ${WARNING}`)
    expect(
      textValues(
        summaryText(report(null, { bytes: 6 * GIB, quotaBytes: 10 * GIB, warning: WARNING })),
        'cache room'
      )
    ).toEqual(['6 GiB of 10 GiB (60 %)'])
  })

  it('gives the room without a callout below the warning share, and nothing when no cache was saved', () => {
    const small = summaryMarkdown(
      report(null, { bytes: 512 * 1024 ** 2, quotaBytes: 10 * GIB, warning: null })
    )
    expect(mdValues(small, 'cache room')).toEqual(['512 MiB of 10 GiB (5 %)'])
    expect(small).not.toContain('[!WARNING]')
    expect(summaryMarkdown(report(null))).not.toContain('cache room')
  })
})
