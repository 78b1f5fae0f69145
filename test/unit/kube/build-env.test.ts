// The build container's environment, checked against kube-build-flow.md §3.3.1 (run options of
// run_build_command, both generations), §3.2.2 (what the kube-build image sets) and §6.
import { describe, expect, it } from 'vitest'
import { buildEnv } from '../../../src/kube/build-env.js'

/** The env list as a map; fails on a variable given twice (Docker would keep only one). */
function asMap(env: string[]): Map<string, string> {
  const map = new Map<string, string>()
  for (const entry of env) {
    const at = entry.indexOf('=')
    expect(at).toBeGreaterThan(0)
    const name = entry.slice(0, at)
    expect(map.has(name), `${name} given twice`).toBe(false)
    map.set(name, entry.slice(at + 1))
  }
  return map
}

const base = { fastBuild: false, verbosity: 1, platforms: ['linux/amd64'], sourceDateEpoch: 1700000000 }

// §3.3.1: passed as `${VAR:-}`, i.e. always present, empty when unset on the host.
const ALWAYS_PASSED = [
  'KUBE_BUILD_WITH_COVERAGE',
  'KUBE_CGO_OVERRIDES',
  'KUBE_STATIC_OVERRIDES',
  'FORCE_HOST_GO',
  'GO_VERSION',
  'GOTOOLCHAIN',
  'GOFLAGS',
  'GOGCFLAGS',
  'KUBE_RACE',
  'GOPROXY'
]

describe('buildEnv', () => {
  it('HOME is a directory of the build output, not the tree the kube-build image makes HOME', () => {
    const home = asMap(buildEnv(base, { HOME: '/root' })).get('HOME')
    expect(home).toBe('/go/src/k8s.io/kubernetes/_output/dockerized/home')
  })

  it.each([
    [true, 'true'],
    [false, 'false']
  ])('KUBE_FASTBUILD=%s', (fastBuild, expected) => {
    expect(asMap(buildEnv({ ...base, fastBuild }, {})).get('KUBE_FASTBUILD')).toBe(expected)
  })

  it.each([0, 1, 2, 6, 10])('KUBE_VERBOSE=%i', verbosity => {
    expect(asMap(buildEnv({ ...base, verbosity }, {})).get('KUBE_VERBOSE')).toBe(String(verbosity))
  })

  it.each([
    [['linux/amd64'], 'linux/amd64'],
    [
      ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64'],
      'linux/amd64 linux/arm64 darwin/arm64 windows/amd64'
    ],
    [[], '']
  ])('KUBE_BUILD_PLATFORMS is %j space-joined', (platforms, expected) => {
    expect(asMap(buildEnv({ ...base, platforms }, {})).get('KUBE_BUILD_PLATFORMS')).toBe(expected)
  })

  it('KUBE_BUILDER_OS is the host OSTYPE when known', () => {
    expect(asMap(buildEnv(base, { OSTYPE: 'darwin23' })).get('KUBE_BUILDER_OS')).toBe('darwin23')
    expect(asMap(buildEnv(base, { OSTYPE: 'linux-gnu' })).get('KUBE_BUILDER_OS')).toBe('linux-gnu')
  })

  it('KUBE_BUILDER_OS without OSTYPE is a non-empty OS name (linux-gnu on linux)', () => {
    const os = asMap(buildEnv(base, {})).get('KUBE_BUILDER_OS')
    expect(os).toBeTruthy()
    if (process.platform === 'linux') expect(os).toBe('linux-gnu')
    // FASTBUILD adds darwin/<arch> when KUBE_BUILDER_OS starts with darwin (§4): keep that working on macOS.
    if (process.platform === 'darwin') expect(os?.startsWith('darwin')).toBe(true)
  })

  it('sets what the kube-build image would: KUBE_OUTPUT_SUBPATH and KUBE_GIT_VERSION_FILE', () => {
    const env = asMap(buildEnv(base, {}))
    expect(env.get('KUBE_OUTPUT_SUBPATH')).toBe('_output/dockerized')
    expect(env.get('KUBE_GIT_VERSION_FILE')).toBe('/go/src/k8s.io/kubernetes/.dockerized-kube-version-defs')
  })

  it('the container version file is not the host’s KUBE_GIT_VERSION_FILE path', () => {
    const env = asMap(buildEnv(base, { KUBE_GIT_VERSION_FILE: '/home/me/defs' }))
    expect(env.get('KUBE_GIT_VERSION_FILE')).toBe('/go/src/k8s.io/kubernetes/.dockerized-kube-version-defs')
  })

  it.each(ALWAYS_PASSED)('%s is always passed, empty when unset', name => {
    expect(asMap(buildEnv(base, {})).get(name)).toBe('')
    expect(asMap(buildEnv(base, { [name]: 'some value' })).get(name)).toBe('some value')
  })

  it('GOPROXY is passed even when unset, and as given when set', () => {
    expect(buildEnv(base, {})).toContain('GOPROXY=')
    expect(buildEnv(base, { GOPROXY: 'https://proxy.golang.org,direct' })).toContain(
      'GOPROXY=https://proxy.golang.org,direct'
    )
  })

  // §6: SOURCE_DATE_EPOCH drives buildDate. The run computes it once (the variable, else the commit
  // time) and hands the same value to the container and the tarball mtimes.
  it.each([0, 1, 1700000000, 4102444800])('SOURCE_DATE_EPOCH is the option: %i', sourceDateEpoch => {
    expect(asMap(buildEnv({ ...base, sourceDateEpoch }, {})).get('SOURCE_DATE_EPOCH')).toBe(
      String(sourceDateEpoch)
    )
  })

  it('SOURCE_DATE_EPOCH comes from the option, not from the host environment', () => {
    const env = asMap(buildEnv({ ...base, sourceDateEpoch: 1600000000 }, { SOURCE_DATE_EPOCH: '1700000000' }))
    expect(env.get('SOURCE_DATE_EPOCH')).toBe('1600000000')
    // Set even when the host has none (upstream would pass it empty).
    expect(asMap(buildEnv(base, {})).get('SOURCE_DATE_EPOCH')).toBe('1700000000')
  })

  it('GOLDFLAGS only when set on the host; set-but-empty is still passed', () => {
    expect(asMap(buildEnv(base, {})).has('GOLDFLAGS')).toBe(false)
    expect(asMap(buildEnv(base, { GOLDFLAGS: '' })).get('GOLDFLAGS')).toBe('')
    expect(asMap(buildEnv(base, { GOLDFLAGS: '-X a.b=c' })).get('GOLDFLAGS')).toBe('-X a.b=c')
  })

  it('values keep spaces and = signs intact', () => {
    const env = asMap(buildEnv(base, { GOFLAGS: '-tags=providerless -mod=vendor' }))
    expect(env.get('GOFLAGS')).toBe('-tags=providerless -mod=vendor')
  })

  // §3.3.1: "Not passed into the container": KUBE_GIT_* (only through the version file), proxies,
  // GOMAXPROCS, KUBE_<OS>_<ARCH>_CC, KUBE_BUILD_CONFORMANCE, DBG, WHAT.
  it('does not leak host variables upstream keeps out of the container', () => {
    const env = asMap(
      buildEnv(base, {
        KUBE_GIT_VERSION: 'v1.2.3',
        KUBE_GIT_COMMIT: 'abc',
        KUBE_GIT_TREE_STATE: 'clean',
        HTTP_PROXY: 'http://p',
        HTTPS_PROXY: 'http://p',
        NO_PROXY: 'x',
        GOMAXPROCS: '2',
        KUBE_LINUX_ARM64_CC: 'cc',
        KUBE_BUILD_CONFORMANCE: 'y',
        DBG: '1',
        WHAT: 'cmd/kubectl',
        HOME: '/root',
        PATH: '/usr/bin',
        GITHUB_TOKEN: 'secret'
      })
    )
    for (const name of [
      'KUBE_GIT_VERSION',
      'KUBE_GIT_COMMIT',
      'KUBE_GIT_TREE_STATE',
      'HTTP_PROXY',
      'HTTPS_PROXY',
      'NO_PROXY',
      'GOMAXPROCS',
      'KUBE_LINUX_ARM64_CC',
      'KUBE_BUILD_CONFORMANCE',
      'DBG',
      'WHAT',
      'PATH',
      'GITHUB_TOKEN'
    ]) {
      expect(env.has(name), name).toBe(false)
    }
    // The build's own HOME, never the host's.
    expect(env.get('HOME')).not.toBe('/root')
  })

  it('holds every upstream variable, each once', () => {
    const env = asMap(buildEnv(base, {}))
    for (const name of [
      'KUBE_FASTBUILD',
      'KUBE_BUILDER_OS',
      'KUBE_VERBOSE',
      'KUBE_BUILD_PLATFORMS',
      'KUBE_OUTPUT_SUBPATH',
      'KUBE_GIT_VERSION_FILE',
      'SOURCE_DATE_EPOCH',
      ...ALWAYS_PASSED
    ]) {
      expect(env.has(name), name).toBe(true)
    }
  })
})
