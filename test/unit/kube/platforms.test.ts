// Platform lists and selection, checked against kube-build-flow.md §4 (hack/lib/golang.sh).
import { describe, expect, it } from 'vitest'
import {
  CLIENT_PLATFORMS,
  NODE_PLATFORMS,
  SERVER_PLATFORMS,
  TEST_PLATFORMS,
  hostPlatform,
  intersect,
  parsePlatformSelection,
  platformsOrigin,
  quoteSome,
  resolvePlatforms,
  selectPlatforms,
  splitList,
  unique
} from '../../../src/kube/platforms.js'
import { InputError } from '../../../src/errors.js'

// §4, KUBE_SUPPORTED_*_PLATFORMS, copied from the reference table.
const SPEC = {
  server: ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/ppc64le'],
  node: ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/ppc64le', 'windows/amd64'],
  client: [
    'linux/amd64',
    'linux/386',
    'linux/arm',
    'linux/arm64',
    'linux/s390x',
    'linux/ppc64le',
    'darwin/amd64',
    'darwin/arm64',
    'windows/amd64',
    'windows/386',
    'windows/arm64'
  ],
  test: [
    'linux/amd64',
    'linux/arm64',
    'linux/s390x',
    'linux/ppc64le',
    'darwin/amd64',
    'darwin/arm64',
    'windows/amd64',
    'windows/arm64'
  ]
}
const EVERY_SPEC_PLATFORM = unique([...SPEC.server, ...SPEC.node, ...SPEC.client, ...SPEC.test])

describe('supported platform lists (§4)', () => {
  it.each([
    ['server', SERVER_PLATFORMS, SPEC.server],
    ['node', NODE_PLATFORMS, SPEC.node],
    ['client', CLIENT_PLATFORMS, SPEC.client],
    ['test', TEST_PLATFORMS, SPEC.test]
  ])('%s platforms are the upstream list in upstream order', (_name, actual, expected) => {
    expect([...actual]).toEqual(expected)
  })

  it('CLIENT_PLATFORMS holds every platform any group builds, each once', () => {
    expect([...CLIENT_PLATFORMS].sort()).toEqual([...EVERY_SPEC_PLATFORM].sort())
    expect(new Set(CLIENT_PLATFORMS).size).toBe(CLIENT_PLATFORMS.length)
  })

  it('the default lists give upstream’s 11 client, 5 node, 4 server and 8 test tarballs', () => {
    expect([CLIENT_PLATFORMS.length, NODE_PLATFORMS.length, SERVER_PLATFORMS.length]).toEqual([11, 5, 4])
    expect(TEST_PLATFORMS.length).toBe(8)
  })
})

describe('splitList and unique', () => {
  it.each([
    ['', []],
    ['  ', []],
    ['a', ['a']],
    ['a,b', ['a', 'b']],
    [' a , b ,', ['a', 'b']],
    ['a\nb\n', ['a', 'b']],
    ['a,\n\n b\r\n', ['a', 'b']],
    [',,a,,', ['a']]
  ])('splitList(%j) = %j', (text, expected) => {
    expect(splitList(text)).toEqual(expected)
  })

  it('unique keeps the first occurrence order', () => {
    expect(unique(['b', 'a', 'b', 'c', 'a'])).toEqual(['b', 'a', 'c'])
  })
})

describe('parsePlatformSelection', () => {
  it.each([
    ['', { kind: 'mode-default' }],
    ['  \n ', { kind: 'mode-default' }],
    [' , ', { kind: 'mode-default' }],
    ['all', { kind: 'all' }],
    [' all\n', { kind: 'all' }],
    ['host', { kind: 'host' }]
  ])('%j → %j', (text, expected) => {
    expect(parsePlatformSelection(text)).toEqual(expected)
  })

  it.each([
    ['linux/amd64', ['linux/amd64']],
    ['linux/amd64,linux/arm64', ['linux/amd64', 'linux/arm64']],
    ['linux/amd64, darwin/arm64 ,windows/amd64', ['linux/amd64', 'darwin/arm64', 'windows/amd64']],
    ['linux/amd64\nlinux/arm64\n', ['linux/amd64', 'linux/arm64']],
    ['linux/arm64\n  windows/386,\ndarwin/amd64', ['linux/arm64', 'windows/386', 'darwin/amd64']],
    ['linux/amd64,linux/amd64\nlinux/amd64', ['linux/amd64']],
    ['linux/arm64,linux/amd64,linux/arm64', ['linux/arm64', 'linux/amd64']]
  ])('list %j → %j (deduplicated, order kept)', (text, expected) => {
    expect(parsePlatformSelection(text)).toEqual({ kind: 'list', platforms: expected, from: 'input' })
  })

  it('accepts every platform of the upstream lists', () => {
    const selection = parsePlatformSelection(EVERY_SPEC_PLATFORM.join('\n'))
    expect(selection).toEqual({ kind: 'list', platforms: EVERY_SPEC_PLATFORM, from: 'input' })
  })

  it.each([
    ['linux', 'malformed', ['linux']],
    ['linux/', 'malformed', ['linux/']],
    ['Linux/AMD64', 'malformed', ['Linux/AMD64']],
    ['linux/amd64/v2', 'malformed', ['linux/amd64/v2']],
    ['linux/mips', 'unsupported', ['linux/mips']],
    ['darwin/386', 'unsupported', ['darwin/386']],
    ['windows/s390x', 'unsupported', ['windows/s390x']],
    ['linux/amd64,freebsd/amd64,linux/mips', 'unsupported', ['freebsd/amd64', 'linux/mips']],
    ['linux/amd64,linux,linux/mips', 'malformed', ['linux', 'linux/mips']]
  ])('rejects %j as %s, naming the bad entries and the supported list', (text, what, bad) => {
    let error: unknown
    try {
      parsePlatformSelection(text)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(InputError)
    const message = (error as Error).message
    expect(message).toContain(what)
    for (const word of bad) expect(message).toContain(`'${word}'`)
    for (const platform of EVERY_SPEC_PLATFORM) expect(message).toContain(platform)
    expect(message).toContain('all')
    expect(message).toContain('host')
  })

  it('does not accept all or host mixed into a list', () => {
    expect(() => parsePlatformSelection('all,linux/amd64')).toThrow(InputError)
    expect(() => parsePlatformSelection('host\nlinux/amd64')).toThrow(InputError)
  })
})

describe('selectPlatforms: the input, then KUBE_BUILD_PLATFORMS, then the mode', () => {
  const env = { KUBE_BUILD_PLATFORMS: 'linux/arm64 darwin/arm64' }

  it('takes the variable when the input is empty', () => {
    expect(selectPlatforms(parsePlatformSelection(''), env)).toEqual({
      kind: 'list',
      platforms: ['linux/arm64', 'darwin/arm64'],
      from: 'KUBE_BUILD_PLATFORMS'
    })
  })

  it.each([
    ['linux/amd64', { kind: 'list', platforms: ['linux/amd64'], from: 'input' }],
    ['all', { kind: 'all' }],
    ['host', { kind: 'host' }]
  ])('the input %j wins over the variable', (input, expected) => {
    expect(selectPlatforms(parsePlatformSelection(input), env)).toEqual(expected)
  })

  it.each([{}, { KUBE_BUILD_PLATFORMS: '' }, { KUBE_BUILD_PLATFORMS: ' \n' }])(
    'an unset or blank variable (%j) leaves the mode default',
    variables => {
      expect(selectPlatforms(parsePlatformSelection(''), variables)).toEqual({ kind: 'mode-default' })
    }
  )

  it('refuses an unsupported platform in the variable, naming it', () => {
    expect(() =>
      selectPlatforms(parsePlatformSelection(''), { KUBE_BUILD_PLATFORMS: 'linux/amd64 plan9/386' })
    ).toThrow(/^KUBE_BUILD_PLATFORMS: unsupported platform 'plan9\/386'; use os\/arch from: linux\/amd64,/)
  })
})

describe('platformsOrigin', () => {
  it.each([
    [{ kind: 'list', platforms: ['linux/amd64'], from: 'input' }, 'release', "input 'platforms'"],
    [
      { kind: 'list', platforms: ['linux/amd64'], from: 'KUBE_BUILD_PLATFORMS' },
      'release',
      'KUBE_BUILD_PLATFORMS'
    ],
    [{ kind: 'all' }, 'quick-release', "input 'platforms': all"],
    [{ kind: 'host' }, 'release', "input 'platforms': host, the engine's own"],
    [{ kind: 'mode-default' }, 'release', 'mode release: every supported platform'],
    [{ kind: 'mode-default' }, 'quick-release', "mode quick-release: the engine's own linux platform"]
  ] as const)('%j in %s → %s', (selection, mode, expected) => {
    expect(platformsOrigin(selection as Parameters<typeof platformsOrigin>[0], mode)).toBe(expected)
  })
})

describe('hostPlatform (KUBE_FASTBUILD host arch)', () => {
  it.each([
    ['amd64', 'linux/amd64'],
    ['arm64', 'linux/arm64'],
    ['ppc64le', 'linux/ppc64le'],
    ['s390x', 'linux/s390x'],
    // Anything else falls back to amd64, as upstream's FASTBUILD does.
    ['riscv64', 'linux/amd64'],
    ['arm', 'linux/amd64'],
    ['386', 'linux/amd64'],
    ['', 'linux/amd64']
  ])('%j → %s', (arch, expected) => {
    expect(hostPlatform(arch)).toBe(expected)
  })
})

describe('resolvePlatforms', () => {
  const list = { kind: 'list' as const, platforms: ['darwin/arm64', 'linux/amd64'], from: 'input' as const }
  it.each([
    // mode default: release builds every supported platform, quick-release the engine's linux/<arch>.
    [{ kind: 'mode-default' as const }, 'release', 'amd64', EVERY_SPEC_PLATFORM],
    [{ kind: 'mode-default' as const }, 'release', 'arm64', EVERY_SPEC_PLATFORM],
    [{ kind: 'mode-default' as const }, 'quick-release', 'amd64', ['linux/amd64']],
    [{ kind: 'mode-default' as const }, 'quick-release', 'arm64', ['linux/arm64']],
    [{ kind: 'mode-default' as const }, 'quick-release', 'riscv64', ['linux/amd64']],
    [{ kind: 'all' as const }, 'release', 'arm64', EVERY_SPEC_PLATFORM],
    [{ kind: 'all' as const }, 'quick-release', 'arm64', EVERY_SPEC_PLATFORM],
    [{ kind: 'host' as const }, 'release', 'amd64', ['linux/amd64']],
    [{ kind: 'host' as const }, 'release', 'arm64', ['linux/arm64']],
    [{ kind: 'host' as const }, 'quick-release', 'riscv64', ['linux/amd64']],
    // An explicit list has priority over FASTBUILD (upstream: KUBE_BUILD_PLATFORMS wins).
    [list, 'release', 'amd64', ['darwin/arm64', 'linux/amd64']],
    [list, 'quick-release', 'arm64', ['darwin/arm64', 'linux/amd64']]
  ])('%j in %s on an %s engine', (selection, mode, arch, expected) => {
    const platforms = resolvePlatforms(selection, mode as 'release' | 'quick-release', arch)
    if (selection.kind === 'all' || (selection.kind === 'mode-default' && mode === 'release')) {
      expect([...platforms].sort()).toEqual([...expected].sort())
    } else {
      expect(platforms).toEqual(expected)
    }
  })

  it('returns a copy that callers may change without touching the supported list', () => {
    const platforms = resolvePlatforms({ kind: 'all' }, 'release', 'amd64')
    platforms.pop()
    expect(CLIENT_PLATFORMS.length).toBe(EVERY_SPEC_PLATFORM.length)
  })
})

describe('intersect (upstream setup_platforms)', () => {
  it.each([
    [['linux/amd64', 'darwin/arm64', 'windows/amd64'], SPEC.server, ['linux/amd64']],
    [['linux/amd64', 'darwin/arm64', 'windows/amd64'], SPEC.node, ['linux/amd64', 'windows/amd64']],
    [
      ['windows/amd64', 'linux/arm64', 'linux/amd64'],
      SPEC.node,
      ['linux/amd64', 'linux/arm64', 'windows/amd64']
    ],
    [['darwin/arm64', 'linux/386'], SPEC.test, ['darwin/arm64']],
    [['linux/386', 'windows/386'], SPEC.test, []],
    [['darwin/arm64'], SPEC.server, []],
    [[], SPEC.client, []],
    [SPEC.client, SPEC.client, SPEC.client]
  ])('%j ∩ %j = %j (in the supported list’s order)', (selected, supported, expected) => {
    expect(intersect(selected, supported)).toEqual(expected)
  })
})

// Error messages stay readable for huge inputs: a few items quoted, how many more, long items cut.
describe('quoteSome', () => {
  it.each([
    [[], ''],
    [['a'], "'a'"],
    [['a', 'b', 'c'], "'a', 'b', 'c'"],
    [['a', 'b', 'c', 'd', 'e'], "'a', 'b', 'c', 'd', 'e'"]
  ])('%j → %j: up to five, all quoted', (items, expected) => {
    expect(quoteSome(items)).toBe(expected)
  })

  it('more than five: the first five quoted and how many more', () => {
    expect(quoteSome(['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toBe("'a', 'b', 'c', 'd', 'e' and 2 more")
  })

  it('a different number shown', () => {
    expect(quoteSome(['a', 'b', 'c'], 2)).toBe("'a', 'b' and 1 more")
  })

  it('an item longer than 80 characters is cut after 80, with …', () => {
    const long = 'x'.repeat(81)
    expect(quoteSome([long])).toBe(`'${'x'.repeat(80)}…'`)
  })

  it('an item of exactly 80 characters is kept whole', () => {
    const item = 'y'.repeat(80)
    expect(quoteSome([item])).toBe(`'${item}'`)
  })

  it('a thousand huge items give a short text', () => {
    const items = Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(10_000, 'z'))
    const text = quoteSome(items)
    expect(text.length).toBeLessThan(600)
    expect(text).toContain('and 995 more')
  })
})

/** The InputError message parsePlatformSelection throws for `text`; fails the test if it throws none. */
function platformErrorMessage(text: string): string {
  try {
    parsePlatformSelection(text)
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    return (err as Error).message
  }
  throw new Error(`parsePlatformSelection accepted ${text.slice(0, 40)}…`)
}

describe('parsePlatformSelection: huge inputs', () => {
  it('5000 unknown platforms: a message under 1 KiB that still says how many there are', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `bogus${i}/arch${i}`)
    const message = platformErrorMessage(words.join(','))
    expect(Buffer.byteLength(message)).toBeLessThan(1024)
    expect(message).toContain("'bogus0/arch0'")
    expect(message).toContain('4995 more')
    expect(message).not.toContain('bogus5/arch5')
  })

  it('one unknown platform of 100 000 characters: a message under 1 KiB', () => {
    const message = platformErrorMessage(`linux/${'m'.repeat(100_000)}`)
    expect(Buffer.byteLength(message)).toBeLessThan(1024)
  })
})
