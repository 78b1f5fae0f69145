// Cache keys (src/cache/keys.ts): content, not names. The kube-cross image has one exact key per
// reference and engine platform; the Go build cache a new key per run, restored by prefix from runs that
// built the same platforms with the same toolchain and workspace layout. The cache service forbids commas
// in keys and limits them to 512 characters.
import { describe, expect, it } from 'vitest'
import { buildCacheKeys, imageCacheKey } from '../../../src/cache/keys.js'
import { CLIENT_PLATFORMS, SERVER_PLATFORMS } from '../../../src/kube/platforms.js'

const CROSS_REF = 'registry.k8s.io/build-image/kube-cross:v1.36.0-go1.26.2-bullseye.0'
const CROSS_TAG = 'v1.36.0-go1.26.2-bullseye.0'
/** newRunId: <GITHUB_RUN_ID>-<GITHUB_RUN_ATTEMPT>-<random> in a workflow, <random> on the CLI. */
const RUN_IDS = ['16458301297-1-0badc0de', '16458301297-2-deadbeef', 'c0ffee00']
const MAX_KEY_LENGTH = 512

describe('imageCacheKey', () => {
  it('holds the full reference (repository and tag), the os and the arch', () => {
    const key = imageCacheKey(CROSS_REF, 'linux', 'arm64')
    expect(key).toContain(CROSS_REF)
    expect(key).toContain('linux')
    expect(key).toContain('arm64')
  })

  it('holds a format version besides what it was given', () => {
    // Inputs without anything that looks like a version: whatever v<n> is in the key is the format's.
    const ref = 'example.com/tools/kube-cross:latest'
    const rest = imageCacheKey(ref, 'linux', 'amd64').replace(ref, '')
    expect(rest).toMatch(/(^|[^a-z0-9])v\d+([^a-z0-9]|$)/i)
  })

  it.each([
    ['another tag', [`registry.k8s.io/build-image/kube-cross:v1.36.0-go1.26.3-bullseye.0`, 'linux', 'amd64']],
    [
      'another build of the tag',
      ['registry.k8s.io/build-image/kube-cross:v1.36.0-go1.26.2-bullseye.1', 'linux', 'amd64']
    ],
    ['another repository', [`mirror.example.com/build-image/kube-cross:${CROSS_TAG}`, 'linux', 'amd64']],
    ['another os', [CROSS_REF, 'windows', 'amd64']],
    ['another arch', [CROSS_REF, 'linux', 'arm64']],
    ['another arch (s390x)', [CROSS_REF, 'linux', 's390x']]
  ] as const)('differs for %s', (_what, [ref, os, arch]) => {
    expect(imageCacheKey(ref, os, arch)).not.toBe(imageCacheKey(CROSS_REF, 'linux', 'amd64'))
  })

  it.each([
    CROSS_REF,
    'registry.k8s.io/build-image/kube-cross:v1.31.0-go1.22.5-bullseye.0',
    'localhost:5000/kube-cross:dev',
    'ghcr.io/some-org/some-team/kube-cross:v1.33.0-go1.24.2-bullseye.0'
  ])('a realistic key is valid for the cache service: %s', ref => {
    const key = imageCacheKey(ref, 'linux', 'amd64')
    expect(key).not.toContain(',')
    expect(key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH)
  })

  it('is never restored by a build cache prefix (both live in one cache)', () => {
    const key = imageCacheKey(CROSS_REF, 'linux', 'amd64')
    for (const workspace of ['volume', 'bind']) {
      const { prefix } = buildCacheKeys(CROSS_TAG, ['linux/amd64'], workspace, RUN_IDS[0])
      expect(key.startsWith(prefix)).toBe(false)
    }
  })
})

describe('buildCacheKeys', () => {
  const base = {
    tag: CROSS_TAG,
    platforms: ['linux/amd64', 'linux/arm64'],
    workspace: 'volume',
    run: RUN_IDS[0]
  }
  const keys = (over: Partial<typeof base> = {}): { key: string; prefix: string } => {
    const p = { ...base, ...over }
    return buildCacheKeys(p.tag, p.platforms, p.workspace, p.run)
  }

  it('the key starts with the prefix', () => {
    for (const run of RUN_IDS) {
      const { key, prefix } = keys({ run })
      expect(key.startsWith(prefix), key).toBe(true)
      expect(key.length).toBeGreaterThan(prefix.length)
    }
  })

  it('a new key per run, under the same prefix: the next run restores this one by prefix', () => {
    const [a, b, c] = RUN_IDS.map(run => keys({ run }))
    expect(new Set([a.key, b.key, c.key]).size).toBe(3)
    expect(b.prefix).toBe(a.prefix)
    expect(c.prefix).toBe(a.prefix)
    expect(b.key.startsWith(a.prefix)).toBe(true)
  })

  it('the same platform set in any order gives the same prefix', () => {
    const sorted = keys({ platforms: ['darwin/arm64', 'linux/amd64', 'windows/amd64'] }).prefix
    for (const platforms of [
      ['linux/amd64', 'darwin/arm64', 'windows/amd64'],
      ['windows/amd64', 'linux/amd64', 'darwin/arm64'],
      ['windows/amd64', 'darwin/arm64', 'linux/amd64']
    ]) {
      expect(keys({ platforms }).prefix, platforms.join(' ')).toBe(sorted)
    }
    expect(keys({ platforms: [...CLIENT_PLATFORMS].reverse() }).prefix).toBe(
      keys({ platforms: [...CLIENT_PLATFORMS] }).prefix
    )
  })

  it('names the platforms of a leg of one or two, so each leg restores its own entry', () => {
    expect(keys({ platforms: ['linux/arm64'] }).prefix).toBe(
      `kube-release-build-v1-${CROSS_TAG}-linux-arm64-volume-`
    )
    expect(keys({ platforms: ['linux/arm64', 'linux/amd64'] }).prefix).toBe(
      `kube-release-build-v1-${CROSS_TAG}-linux-amd64+linux-arm64-volume-`
    )
    expect(keys({ platforms: [...SERVER_PLATFORMS] }).prefix).toMatch(
      new RegExp(
        `^kube-release-build-v1-${CROSS_TAG}-${SERVER_PLATFORMS.length}-platforms-[0-9a-f]{12}-volume-$`
      )
    )
  })

  it('does not reorder the caller’s platform list', () => {
    const platforms = ['windows/amd64', 'linux/amd64']
    keys({ platforms })
    expect(platforms).toEqual(['windows/amd64', 'linux/amd64'])
  })

  it.each([
    ['a platform fewer', { platforms: ['linux/amd64'] }],
    ['one platform of a named pair', { platforms: ['linux/arm64'] }],
    ['a third platform', { platforms: ['linux/amd64', 'linux/arm64', 'linux/arm'] }],
    ['a platform more', { platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'] }],
    ['other platforms', { platforms: ['darwin/amd64', 'darwin/arm64'] }],
    ['every server platform', { platforms: [...SERVER_PLATFORMS] }],
    ['every platform', { platforms: [...CLIENT_PLATFORMS] }],
    ['another kube-cross tag (Go patch release)', { tag: 'v1.36.0-go1.26.3-bullseye.0' }],
    ['another kube-cross tag (image build)', { tag: 'v1.36.0-go1.26.2-bullseye.1' }],
    ['another kube-cross tag (suffixed)', { tag: `${CROSS_TAG}-rc.1` }],
    ['another workspace layout', { workspace: 'bind' }]
  ])('%s: another prefix, and this prefix restores none of its keys', (_what, over) => {
    const mine = keys()
    const other = keys(over)
    expect(other.prefix).not.toBe(mine.prefix)
    // What a restore does: an entry is a candidate when its key starts with the prefix.
    expect(other.key.startsWith(mine.prefix), `${other.key} starts with ${mine.prefix}`).toBe(false)
    expect(mine.key.startsWith(other.prefix), `${mine.key} starts with ${other.prefix}`).toBe(false)
  })

  it('realistic keys hold no comma (the cache service forbids them) and fit its key length', () => {
    const tags = [CROSS_TAG, 'v1.31.0-go1.22.5-bullseye.0', 'v1.28.0-go1.20.14-bullseye.0']
    const sets = [
      ['linux/amd64'],
      [...SERVER_PLATFORMS],
      [...CLIENT_PLATFORMS],
      ['windows/amd64', 'darwin/arm64']
    ]
    for (const tag of tags)
      for (const platforms of sets)
        for (const workspace of ['volume', 'bind'])
          for (const run of RUN_IDS) {
            const { key, prefix } = buildCacheKeys(tag, platforms, workspace, run)
            expect(key, key).not.toContain(',')
            expect(prefix, prefix).not.toContain(',')
            expect(key.length, key).toBeLessThanOrEqual(MAX_KEY_LENGTH)
          }
  })
})
