// The action's inputs → Config. Upstream facts from kube-build-flow.md: §1.1 (release runs the tests,
// quick-release does not), §2 and §6 (KUBE_CROSS_IMAGE / KUBE_CROSS_VERSION and their defaults),
// §4 (platforms and targets), §2 (the tree's build/build-image/cross/VERSION and VERSION files).
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import type { RawInputs } from '../../src/inputs.js'
import { InputError } from '../../src/errors.js'

const FIXTURE_TREE = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/kube-tree')
const CROSS_TAG = 'v1.36.0-go1.26.2-bullseye.0'

let tmp: string
beforeEach(async () => {
  tmp = await realpath(await mkdtemp(join(tmpdir(), 'kube-config-')))
})
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true })
})

interface TreeSpec {
  crossVersion?: string | null
  makefile?: boolean
  dockerfile?: boolean
  buildImageVersion?: string | null
  goVersion?: string | null
}

/** A minimal tree under tmp/<name>: Makefile and build/build-image/cross/VERSION, by default a current (v1.35+) tree. */
async function makeTree(spec: TreeSpec = {}, name = 'kubernetes'): Promise<string> {
  const root = join(tmp, name)
  await mkdir(join(root, 'build/build-image/cross'), { recursive: true })
  const { crossVersion = CROSS_TAG, makefile = true, dockerfile = false, buildImageVersion = null } = spec
  if (crossVersion !== null)
    await writeFile(join(root, 'build/build-image/cross/VERSION'), `${crossVersion}\n`)
  if (makefile) await writeFile(join(root, 'Makefile'), 'all:\n')
  if (dockerfile) await writeFile(join(root, 'build/build-image/Dockerfile'), 'ARG KUBE_CROSS_IMAGE\n')
  if (buildImageVersion !== null)
    await writeFile(join(root, 'build/build-image/VERSION'), `${buildImageVersion}\n`)
  if (spec.goVersion) await writeFile(join(root, '.go-version'), `${spec.goVersion}\n`)
  return root
}

/** Runs loadConfig and returns its InputError, failing if it resolves or throws anything else. */
async function configError(raw: RawInputs, env: NodeJS.ProcessEnv = {}, cwd = tmp): Promise<InputError> {
  const result = await loadConfig(raw, env, cwd).then(
    () => new Error('loadConfig resolved'),
    (err: unknown) => err
  )
  expect(result).toBeInstanceOf(InputError)
  return result as InputError
}

describe('loadConfig: invalid inputs give one InputError naming the input and the accepted values', () => {
  it.each([
    ['mode', { mode: 'fast' }, ["'fast'", 'release', 'quick-release']],
    ['mode', { mode: 'Release' }, ["'Release'", 'release', 'quick-release']],
    ['workspace', { workspace: 'tmpfs' }, ["'tmpfs'", 'volume', 'bind']],
    [
      'platforms',
      { platforms: 'linux' },
      ["'linux'", 'malformed', 'linux/amd64', 'windows/arm64', 'all', 'host']
    ],
    [
      'platforms',
      { platforms: 'linux/mips' },
      ["'linux/mips'", 'unsupported', 'linux/amd64', 'darwin/arm64']
    ],
    ['platforms', { platforms: 'linux/amd64\nlinux/mips' }, ["'linux/mips'", 'unsupported']],
    ['targets', { targets: 'kubefoo' }, ["'kubefoo'", 'server', 'node', 'client', 'test', 'cmd/kubectl']],
    ['targets', { targets: 'client,kubefoo' }, ["'kubefoo'", 'cmd/kube-apiserver']],
    ['run-tests', { 'run-tests': 'maybe' }, ["'maybe'", 'true', 'false']],
    ['run-tests', { 'run-tests': 'yes' }, ["'yes'", 'true', 'false']],
    ['verbose', { verbose: 'loud' }, ["'loud'", 'true', 'false', '0', '10']],
    ['verbose', { verbose: '11' }, ["'11'", 'true', 'false', '0', '10']],
    ['verbose', { verbose: '-1' }, ["'-1'", 'true', 'false']],
    ['kube-cross-image', { 'kube-cross-image': 'Not An Image' }, ["'Not An Image'", 'repository[:tag]']]
  ])('%s: %j', async (input, raw, mentions) => {
    const source = await makeTree()
    const err = await configError({ source, ...raw })
    expect(err.message).toMatch(new RegExp(`^input '${input}': `))
    for (const m of mentions) expect(err.message).toContain(m)
  })

  it('source: a directory that does not exist', async () => {
    const err = await configError({ source: join(tmp, 'missing') })
    expect(err.message).toMatch(/^input 'source': /)
    expect(err.message).toContain(join(tmp, 'missing'))
    expect(err.message).toContain('does not exist')
  })

  it('source: a file, not a directory', async () => {
    await writeFile(join(tmp, 'file'), 'x')
    const err = await configError({ source: join(tmp, 'file') })
    expect(err.message).toMatch(/^input 'source': /)
    expect(err.message).toContain('not a directory')
  })

  it('source: an empty directory is not a Kubernetes tree', async () => {
    await mkdir(join(tmp, 'empty'))
    const err = await configError({ source: join(tmp, 'empty') })
    expect(err.message).toMatch(/^input 'source': /)
    expect(err.message).toContain('not a Kubernetes tree')
    expect(err.message).toContain('build/build-image/cross/VERSION')
  })

  it.each([
    ['no build/build-image/cross/VERSION', { crossVersion: null }, 'build/build-image/cross/VERSION'],
    ['an empty build/build-image/cross/VERSION', { crossVersion: '  ' }, 'build/build-image/cross/VERSION'],
    ['no Makefile', { makefile: false }, 'Makefile']
  ])('source: %s is not a Kubernetes tree', async (_what, spec, names) => {
    const source = await makeTree(spec)
    const err = await configError({ source })
    expect(err.message).toMatch(/^input 'source': /)
    expect(err.message).toContain('not a Kubernetes tree')
    expect(err.message).toContain(names)
  })

  it('source: a legacy tree with build/build-image/Dockerfile but no build/build-image/VERSION', async () => {
    const source = await makeTree({ dockerfile: true })
    const err = await configError({ source })
    expect(err.message).toMatch(/^input 'source': /)
    expect(err.message).toContain('build/build-image/Dockerfile')
    expect(err.message).toContain('build/build-image/VERSION')
  })

  it('a bad input fails before the tree is read (one error, for that input)', async () => {
    const err = await configError({ mode: 'nope', source: join(tmp, 'missing') })
    expect(err.message).toMatch(/^input 'mode': /)
  })
})

describe('loadConfig: defaults per mode', () => {
  it.each([
    // §1.1: make release runs the tests (KUBE_RELEASE_RUN_TESTS=y); quick-release sets n.
    ['', 'release', true],
    ['release', 'release', true],
    ['quick-release', 'quick-release', false]
  ])('mode %j → %s, runTests %s', async (mode, expectedMode, runTests) => {
    const source = await makeTree()
    const config = await loadConfig({ mode, source }, {}, tmp)
    expect(config.mode).toBe(expectedMode)
    expect(config.runTests).toBe(runTests)
    expect(config.platforms).toEqual({ kind: 'mode-default' })
    expect(config.targets).toBeNull()
    expect(config.workspace).toBe('volume')
    // §1.1: the Makefile's KUBE_VERBOSE default is 1.
    expect(config.verbosity).toBe(1)
    // §2 / §6: registry.k8s.io/build-image/kube-cross, tag from build/build-image/cross/VERSION.
    expect(config.kubeCross).toEqual({ repository: 'registry.k8s.io/build-image/kube-cross', tag: CROSS_TAG })
  })

  it.each([
    ['release', 'false', false],
    ['release', 'FALSE', false],
    ['quick-release', 'true', true],
    ['quick-release', ' True ', true]
  ])('mode %s with run-tests %j → %s', async (mode, runTests, expected) => {
    const source = await makeTree()
    expect((await loadConfig({ mode, source, 'run-tests': runTests }, {}, tmp)).runTests).toBe(expected)
  })

  it.each([
    ['', 1],
    ['false', 1],
    ['true', 6],
    ['TRUE', 6],
    ['0', 0],
    ['2', 2],
    ['10', 10]
  ])('verbose %j → KUBE_VERBOSE %i', async (verbose, expected) => {
    const source = await makeTree()
    expect((await loadConfig({ source, verbose }, {}, tmp)).verbosity).toBe(expected)
  })

  it.each(['volume', 'bind'])('workspace %s', async workspace => {
    const source = await makeTree()
    expect((await loadConfig({ source, workspace }, {}, tmp)).workspace).toBe(workspace)
  })

  it('platforms and targets are parsed', async () => {
    const source = await makeTree()
    const config = await loadConfig(
      { source, platforms: 'linux/amd64,\nlinux/arm64', targets: 'kubectl' },
      {},
      tmp
    )
    expect(config.platforms).toEqual({
      kind: 'list',
      platforms: ['linux/amd64', 'linux/arm64'],
      from: 'input'
    })
    expect(config.targets).toEqual([{ path: 'cmd/kubectl', binary: 'kubectl' }])
  })

  it('KUBE_BUILD_PLATFORMS stands in for an empty platforms input', async () => {
    const source = await makeTree()
    const env = { KUBE_BUILD_PLATFORMS: 'linux/s390x windows/amd64' }
    expect((await loadConfig({ source, mode: 'quick-release' }, env, tmp)).platforms).toEqual({
      kind: 'list',
      platforms: ['linux/s390x', 'windows/amd64'],
      from: 'KUBE_BUILD_PLATFORMS'
    })
  })

  it('a bad KUBE_BUILD_PLATFORMS is named as the variable, not as the input', async () => {
    const source = await makeTree()
    await expect(loadConfig({ source }, { KUBE_BUILD_PLATFORMS: 'linux/mips' }, tmp)).rejects.toThrow(
      /^KUBE_BUILD_PLATFORMS: unsupported platform 'linux\/mips'/
    )
  })
})

describe('loadConfig: the tree', () => {
  it('a current tree (no build image): root resolved, no build image', async () => {
    const source = await makeTree({ goVersion: '1.26.2' })
    const { tree } = await loadConfig({ source }, {}, '/')
    expect(tree).toEqual({
      root: source,
      crossTag: CROSS_TAG,
      buildImageVersionBase: null,
      buildImageDir: null,
      goVersion: '1.26.2'
    })
  })

  it('a legacy tree with Dockerfile and VERSION', async () => {
    const source = await makeTree({ dockerfile: true, buildImageVersion: '5' })
    const { tree } = await loadConfig({ source }, {}, '/')
    expect(tree.buildImageVersionBase).toBe('5')
    expect(tree.buildImageDir).toBe(join(source, 'build/build-image'))
  })

  it('a relative source is resolved against cwd; empty source means cwd', async () => {
    const source = await makeTree({}, 'k')
    expect((await loadConfig({ source: 'k' }, {}, tmp)).tree.root).toBe(source)
    expect((await loadConfig({ source: ` ${relative(tmp, source)} ` }, {}, tmp)).tree.root).toBe(source)
    expect((await loadConfig({}, {}, source)).tree.root).toBe(source)
  })

  it('reads the fixture tree (legacy layout)', async () => {
    const { tree, kubeCross } = await loadConfig({ source: FIXTURE_TREE }, {}, '/')
    expect(tree.root).toBe(await realpath(FIXTURE_TREE))
    expect(tree.buildImageVersionBase).toBe('5')
    expect(tree.buildImageDir).toBe(join(tree.root, 'build/build-image'))
    expect(kubeCross.tag).toBe(tree.crossTag)
    expect(tree.crossTag).toMatch(/^v\d+\.\d+\.\d+-go[\d.]+-\w+\.\d+$/)
  })
})

describe('loadConfig: kube-cross image', () => {
  it.each([
    // [input, env, repository, tag]
    ['', {}, 'registry.k8s.io/build-image/kube-cross', CROSS_TAG],
    ['example.com/kube-cross', {}, 'example.com/kube-cross', CROSS_TAG],
    [
      'example.com/kube-cross:v1.31.0-go1.22.5-bullseye.0',
      {},
      'example.com/kube-cross',
      'v1.31.0-go1.22.5-bullseye.0'
    ],
    // A registry port is not a tag.
    ['localhost:5000/kube-cross', {}, 'localhost:5000/kube-cross', CROSS_TAG],
    ['localhost:5000/kube-cross:mytag', {}, 'localhost:5000/kube-cross', 'mytag'],
    ['localhost:5000/a/b/kube-cross', {}, 'localhost:5000/a/b/kube-cross', CROSS_TAG],
    // §2: KUBE_CROSS_IMAGE and KUBE_CROSS_VERSION from the environment.
    ['', { KUBE_CROSS_IMAGE: 'localhost:5000/kube-cross' }, 'localhost:5000/kube-cross', CROSS_TAG],
    [
      '',
      { KUBE_CROSS_VERSION: 'v9.9.9-go1.0-x.0' },
      'registry.k8s.io/build-image/kube-cross',
      'v9.9.9-go1.0-x.0'
    ],
    [
      '',
      { KUBE_CROSS_IMAGE: 'mirror.example/kube-cross', KUBE_CROSS_VERSION: 'custom' },
      'mirror.example/kube-cross',
      'custom'
    ],
    // The input wins over KUBE_CROSS_IMAGE; a tag in the input wins over KUBE_CROSS_VERSION.
    ['input.example/kc', { KUBE_CROSS_IMAGE: 'env.example/kc' }, 'input.example/kc', CROSS_TAG],
    ['input.example/kc', { KUBE_CROSS_VERSION: 'envtag' }, 'input.example/kc', 'envtag'],
    ['input.example/kc:intag', { KUBE_CROSS_VERSION: 'envtag' }, 'input.example/kc', 'intag'],
    // Empty env values count as unset (upstream's ${VAR:-default}).
    [
      '',
      { KUBE_CROSS_IMAGE: '', KUBE_CROSS_VERSION: '' },
      'registry.k8s.io/build-image/kube-cross',
      CROSS_TAG
    ]
  ])('input %j env %j → %s : %s', async (input, env, repository, tag) => {
    const source = await makeTree()
    const config = await loadConfig({ source, 'kube-cross-image': input }, env, tmp)
    expect(config.kubeCross).toEqual({ repository, tag })
  })

  it.each(['build-image/UPPER', 'kube cross', 'repo:tag with space', 'repo:', ':tag'])(
    'rejects %j',
    async input => {
      const source = await makeTree()
      const err = await configError({ source, 'kube-cross-image': input })
      expect(err.message).toMatch(/^input 'kube-cross-image': /)
    }
  )
})

// §2 / §6: LOCAL_OUTPUT_ROOT is ${KUBE_ROOT}/${OUT_DIR:-_output}; release-tars/ and release-images/ go there.
describe('loadConfig: output-dir', () => {
  it.each([
    // [input, env, expected relative to the tree (or absolute)]
    ['', {}, '_output'],
    ['', { OUT_DIR: '' }, '_output'],
    ['', { OUT_DIR: 'out' }, 'out'],
    ['', { OUT_DIR: 'build/out' }, 'build/out'],
    ['release', {}, 'release'],
    [' release ', {}, 'release'],
    ['release', { OUT_DIR: 'out' }, 'release'],
    ['../beside', {}, '../beside']
  ])('input %j env %j → <tree>/%s', async (input, env, expected) => {
    const source = await makeTree()
    const config = await loadConfig({ source, 'output-dir': input }, env, tmp)
    expect(config.outputDir).toBe(resolve(source, expected))
  })

  it('a relative output-dir is relative to the tree, not to the working directory', async () => {
    const source = await makeTree({}, 'k')
    const elsewhere = join(tmp, 'elsewhere')
    await mkdir(elsewhere)
    const config = await loadConfig({ source, 'output-dir': 'out' }, {}, elsewhere)
    expect(config.outputDir).toBe(join(source, 'out'))
  })

  it('an absolute output-dir is used as is', async () => {
    const source = await makeTree()
    const abs = join(tmp, 'abs', 'out')
    expect((await loadConfig({ source, 'output-dir': abs }, { OUT_DIR: 'x' }, tmp)).outputDir).toBe(abs)
  })
})

describe('loadConfig: server-images', () => {
  it.each([
    ['', true],
    ['true', true],
    ['TRUE', true],
    [' True ', true],
    ['false', false],
    ['False', false]
  ])('%j → %s', async (input, expected) => {
    const source = await makeTree()
    expect((await loadConfig({ source, 'server-images': input }, {}, tmp)).serverImages).toBe(expected)
  })

  it.each(['yes', 'no', '1', '0', 'y', 'n', 'on'])('%j is refused, naming true and false', async input => {
    const source = await makeTree()
    const err = await configError({ source, 'server-images': input })
    expect(err.message).toMatch(/^input 'server-images': /)
    for (const m of [`'${input}'`, 'true', 'false']) expect(err.message).toContain(m)
  })
})

describe('loadConfig: go-runner-image and kube-proxy-base-image', () => {
  const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`
  const INPUTS = [
    ['go-runner-image', 'goRunnerImage'],
    ['kube-proxy-base-image', 'kubeProxyBaseImage']
  ] as const

  it('unset: no override of either', async () => {
    const source = await makeTree()
    const config = await loadConfig({ source }, {}, tmp)
    expect(config.baseImages.goRunnerImage).toBeUndefined()
    expect(config.baseImages.kubeProxyBaseImage).toBeUndefined()
  })

  describe.each(INPUTS)('%s', (input, key) => {
    it.each([
      'registry.k8s.io/build-image/go-runner:v2.4.0-go1.25.6',
      'registry.k8s.io/build-image/distroless-iptables:v0.8.7',
      'gcr.io/distroless/static-debian13',
      'localhost:5000/go-runner',
      'localhost:5000/a/b/go-runner:dev_1.2-3',
      `registry.k8s.io/build-image/go-runner@${DIGEST}`,
      `registry.k8s.io/build-image/go-runner:v2.4.0@${DIGEST}`,
      // Tags may hold upper case letters (the reference grammar: [\w][\w.-]{0,127}).
      'example.com/go-runner:V2.4.0-RC1'
    ])('accepts %s', async ref => {
      const source = await makeTree()
      const config = await loadConfig({ source, [input]: ` ${ref} ` }, {}, tmp)
      expect(config.baseImages[key]).toBe(ref)
    })

    it.each([
      'Not An Image',
      'build-image/UPPER',
      'go runner',
      ':tag',
      // An empty tag, an empty path component, a trailing slash: not references.
      'example.com/go-runner:',
      'example.com//go-runner',
      'example.com/go-runner/',
      'example.com/go-runner@sha256:abc',
      `example.com/go-runner@${DIGEST.toUpperCase()}`,
      'example.com/go-runner:tag with space'
    ])('refuses %j, naming the input', async ref => {
      const source = await makeTree()
      const err = await configError({ source, [input]: ref })
      expect(err.message).toMatch(new RegExp(`^input '${input}': `))
      expect(err.message).toContain(`'${ref}'`)
    })
  })

  it('each input sets only its own override', async () => {
    const source = await makeTree()
    const config = await loadConfig({ source, 'go-runner-image': 'example.com/gr:1' }, {}, tmp)
    expect(config.baseImages).toEqual({ goRunnerImage: 'example.com/gr:1', kubeProxyBaseImage: undefined })
  })
})

describe('loadConfig: output-dir must be a plain path', () => {
  it.each(['$(id)', 'out\nx', 'a b', 'out;rm', '`id`', "o'ut", 'out&', 'out|x', 'out>x', '~user/out'])(
    'refuses %j, naming the input',
    async input => {
      const source = await makeTree()
      const err = await configError({ source, 'output-dir': input })
      expect(err.message).toMatch(/^input 'output-dir': /)
    }
  )

  it.each(['$(id)', 'a b', 'out\nx'])(
    'refuses OUT_DIR=%j when the input is empty, naming output-dir',
    async env => {
      const source = await makeTree()
      const err = await configError({ source }, { OUT_DIR: env })
      expect(err.message).toMatch(/^input 'output-dir': /)
    }
  )

  it.each(['out', '_output/x', 'v1.31.0+build@x', 'a-b_c'])(
    'accepts %j, relative to the tree',
    async input => {
      const source = await makeTree()
      const config = await loadConfig({ source, 'output-dir': input }, {}, tmp)
      expect(config.outputDir).toBe(join(source, input))
    }
  )
})

describe('loadConfig: upload, artifact-name, artifact-layout, retention-days', () => {
  it('defaults: upload on, a made-up name (null), bundle layout, the repository’s retention', async () => {
    const source = await makeTree()
    const { artifacts } = await loadConfig({ source }, {}, tmp)
    expect(artifacts.upload).toBe(true)
    expect(artifacts.name).toBeNull()
    expect(artifacts.layout).toBe('bundle')
    expect(artifacts.retentionDays).toBeUndefined()
  })

  it.each([
    ['true', true],
    ['TRUE', true],
    ['false', false],
    [' False ', false]
  ])('upload %j → %s', async (input, expected) => {
    const source = await makeTree()
    expect((await loadConfig({ source, upload: input }, {}, tmp)).artifacts.upload).toBe(expected)
  })

  it.each(['yes', 'no', '0', '1'])('upload %j is refused, naming true and false', async input => {
    const source = await makeTree()
    const err = await configError({ source, upload: input })
    expect(err.message).toMatch(/^input 'upload': /)
    for (const m of [`'${input}'`, 'true', 'false']) expect(err.message).toContain(m)
  })

  it.each([
    ['my-release', 'my-release'],
    ['kubernetes v1.31.0+abc', 'kubernetes v1.31.0+abc'],
    [' padded name ', 'padded name'],
    ['release_1.2 (linux)', 'release_1.2 (linux)']
  ])('artifact-name %j → %j', async (input, expected) => {
    const source = await makeTree()
    expect((await loadConfig({ source, 'artifact-name': input }, {}, tmp)).artifacts.name).toBe(expected)
  })

  it.each([
    ['a double quote', 'a"b'],
    ['a colon', 'a:b'],
    ['a less-than sign', 'a<b'],
    ['a greater-than sign', 'a>b'],
    ['a pipe', 'a|b'],
    ['an asterisk', 'a*b'],
    ['a question mark', 'a?b'],
    ['a backslash', 'a\\b'],
    ['a slash', 'a/b'],
    ['a carriage return', 'a\rb'],
    ['a line feed', 'a\nb']
  ])('artifact-name with %s is refused, naming the input', async (_what, input) => {
    const source = await makeTree()
    const err = await configError({ source, 'artifact-name': input })
    expect(err.message).toMatch(/^input 'artifact-name': /)
  })

  it.each(['bundle', 'per-file'])('artifact-layout %s', async layout => {
    const source = await makeTree()
    expect((await loadConfig({ source, 'artifact-layout': layout }, {}, tmp)).artifacts.layout).toBe(layout)
  })

  it.each(['zip', 'Bundle', 'per_file', 'files'])(
    'artifact-layout %j is refused, naming bundle and per-file',
    async layout => {
      const source = await makeTree()
      const err = await configError({ source, 'artifact-layout': layout })
      expect(err.message).toMatch(/^input 'artifact-layout': /)
      for (const m of [`'${layout}'`, 'bundle', 'per-file']) expect(err.message).toContain(m)
    }
  )

  it.each([
    ['1', 1],
    ['7', 7],
    [' 30 ', 30],
    ['90', 90]
  ])('retention-days %j → %i', async (input, expected) => {
    const source = await makeTree()
    expect((await loadConfig({ source, 'retention-days': input }, {}, tmp)).artifacts.retentionDays).toBe(
      expected
    )
  })

  it.each(['0', '91', '100', '-1', 'x', '1.5', '7d', '1e1'])(
    'retention-days %j is refused, naming 1 and 90',
    async input => {
      const source = await makeTree()
      const err = await configError({ source, 'retention-days': input })
      expect(err.message).toMatch(/^input 'retention-days': /)
      expect(err.message).toContain(`'${input}'`)
      expect(err.message).toContain('1')
      expect(err.message).toContain('90')
    }
  )
})

// README, Reliability and security: a pull or image build silent for KUBE_RELEASE_STALL_TIMEOUT seconds
// (default 300) fails.
describe('loadConfig: KUBE_RELEASE_STALL_TIMEOUT', () => {
  it.each([
    [{}, 300_000],
    [{ KUBE_RELEASE_STALL_TIMEOUT: '' }, 300_000],
    [{ KUBE_RELEASE_STALL_TIMEOUT: '5' }, 5_000],
    [{ KUBE_RELEASE_STALL_TIMEOUT: '600' }, 600_000]
  ])('env %j → %i ms', async (env, expected) => {
    const source = await makeTree()
    expect((await loadConfig({ source }, env, tmp)).stallTimeoutMs).toBe(expected)
  })

  it.each(['soon', '0', '-1', '1.5', '5s'])('%j is an InputError naming the variable', async value => {
    const source = await makeTree()
    const result = await loadConfig({ source }, { KUBE_RELEASE_STALL_TIMEOUT: value }, tmp).then(
      () => new Error('loadConfig resolved'),
      (err: unknown) => err
    )
    expect(result).toBeInstanceOf(InputError)
    expect((result as Error).message).toContain('KUBE_RELEASE_STALL_TIMEOUT')
    expect((result as Error).message).toContain(`'${value}'`)
  })
})

// The tree's VERSION files end up in image tags and volume names: anything else is refused before any work.
describe('loadConfig: the tree’s VERSION files must be tags', () => {
  it.each(['v1 $(id)', 'v1;id', 'v1.0\nextra', '$(id)', 'v1/x'])(
    'build/build-image/cross/VERSION %j → a InputError for source',
    async crossVersion => {
      const source = await makeTree({ crossVersion })
      const err = await configError({ source })
      expect(err.message).toMatch(/^input 'source': /)
      expect(err.message).toContain('build/build-image/cross/VERSION')
    }
  )

  it.each(['5;6', '5 6', '$(id)', '5\n6'])(
    'build/build-image/VERSION %j → a InputError for source',
    async buildImageVersion => {
      const source = await makeTree({ dockerfile: true, buildImageVersion })
      const err = await configError({ source })
      expect(err.message).toMatch(/^input 'source': /)
      expect(err.message).toContain('build/build-image/VERSION')
    }
  )

  it('ordinary VERSION files are accepted', async () => {
    const source = await makeTree({ dockerfile: true, buildImageVersion: '5' })
    const { tree } = await loadConfig({ source }, {}, tmp)
    expect(tree.crossTag).toBe(CROSS_TAG)
    expect(tree.buildImageVersionBase).toBe('5')
  })
})
