// Release tarball plans, checked against kube-build-flow.md §5 (layout) and §3.5 (what each tarball
// stages): names kubernetes-<kind>-<os>-<arch>.tar.gz, members rooted at kubernetes/, binaries read
// from _output/dockerized/bin/<os>/<arch>/, tree parts copied from the fixture tree.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TarMember } from '../../../src/archive/tar.js'
import {
  planBinaryTarballs,
  planDirtySrc,
  planFinalTarball,
  planManifests,
  planTestPortable,
  withDirectories,
  type ReleaseSources,
  type ServerImageFile,
  type TarballPlan
} from '../../../src/kube/tarballs.js'
import type { TargetGroupName } from '../../../src/kube/targets.js'
import { listTree, type TreeEntry } from '../../../src/kube/tree-files.js'
import { ReleaseError } from '../../../src/errors.js'

const FIXTURE = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/kube-tree')
const FIXTURE_TREE: readonly TreeEntry[] = await listTree(FIXTURE)

const BIN = '/work/k/_output/dockerized/bin'
const TARS = '/work/k/_output/release-tars'
const IMAGES = '/work/k/_output/release-images'
const VERSION = 'v1.35.0-alpha.1.149+e21082468a3b49'
const DOCKER_TAG = 'v1.35.0-alpha.1.149_e21082468a3b49'

// §4: target groups → binaries, and the platforms each group is built for.
const GROUP_BINARIES: Record<TargetGroupName, string[]> = {
  server: [
    'kube-proxy',
    'kube-apiserver',
    'kube-controller-manager',
    'kubelet',
    'kubeadm',
    'kube-scheduler',
    'kube-log-runner',
    'kube-aggregator',
    'apiextensions-apiserver',
    'mounter'
  ],
  node: ['kube-proxy', 'kubeadm', 'kubelet', 'kube-log-runner'],
  client: ['kubectl', 'kubectl-convert'],
  test: ['ginkgo', 'e2e.test', 'go-runner'],
  'test-server': ['kubemark', 'ginkgo', 'e2e_node.test']
}
const SERVER_PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/ppc64le']
const GROUP_PLATFORMS: Record<TargetGroupName, string[]> = {
  server: SERVER_PLATFORMS,
  node: [...SERVER_PLATFORMS, 'windows/amd64'],
  client: [
    ...['linux/amd64', 'linux/386', 'linux/arm', 'linux/arm64', 'linux/s390x', 'linux/ppc64le'],
    ...['darwin/amd64', 'darwin/arm64', 'windows/amd64', 'windows/386', 'windows/arm64']
  ],
  test: [...SERVER_PLATFORMS, 'darwin/amd64', 'darwin/arm64', 'windows/amd64', 'windows/arm64'],
  'test-server': SERVER_PLATFORMS
}

/** What `make cross` builds for these platforms: every group whose platform list has the platform. */
function builtFor(platforms: string[]): ReleaseSources['built'] {
  const built = new Map<string, Map<TargetGroupName, string[]>>()
  for (const platform of platforms) {
    const groups = new Map<TargetGroupName, string[]>()
    for (const group of Object.keys(GROUP_BINARIES) as TargetGroupName[]) {
      if (GROUP_PLATFORMS[group].includes(platform)) groups.set(group, GROUP_BINARIES[group])
    }
    built.set(platform, groups)
  }
  return built
}

// §3.5 / §5: the five linux server images, each <bin>.tar plus a one-line <bin>.docker_tag.
const IMAGE_BINARIES = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'kubectl'
]
const imagesFor = (arch: string): ServerImageFile[] =>
  IMAGE_BINARIES.map(binary => ({
    binary,
    archive: `${IMAGES}/${arch}/${binary}.tar`,
    dockerTag: DOCKER_TAG
  }))

function sources(platforms: string[], more: Partial<ReleaseSources> = {}): ReleaseSources {
  return {
    treeRoot: FIXTURE,
    tree: FIXTURE_TREE,
    built: builtFor(platforms),
    binRoot: BIN,
    version: VERSION,
    releaseTars: TARS,
    serverImages: new Map(),
    ...more
  }
}

/** A member as one line: `path` (directories end in /), `path <- source`, `path = "data" (mode)`, `path -> target`. */
function line(m: TarMember): string {
  switch (m.kind) {
    case 'dir':
      return m.path
    case 'file':
      return `${m.path} <- ${m.source}`
    case 'data':
      return `${m.path} = ${JSON.stringify(String(m.data))} (${m.mode.toString(8)})`
    case 'symlink':
      return `${m.path} -> ${m.target}`
  }
}
const lines = (plan: TarballPlan): string[] => plan.members.map(line)
const find = (plans: TarballPlan[], name: string): TarballPlan => {
  const plan = plans.find(p => p.name === name)
  if (!plan) throw new Error(`no ${name} among ${plans.map(p => p.name).join(', ')}`)
  return plan
}

const LICENSES = [
  'kubernetes/LICENSES/',
  `kubernetes/LICENSES/LICENSE <- ${FIXTURE}/LICENSES/LICENSE`,
  'kubernetes/LICENSES/vendor/',
  'kubernetes/LICENSES/vendor/example/',
  `kubernetes/LICENSES/vendor/example/LICENSE <- ${FIXTURE}/LICENSES/vendor/example/LICENSE`
]
const SRC = `kubernetes/kubernetes-src.tar.gz <- ${TARS}/kubernetes-src.tar.gz`
const bin = (dir: string, platform: string, file: string): string =>
  `kubernetes/${dir}/bin/${file} <- ${BIN}/${platform}/${file}`
const image = (arch: string, binary: string): string[] => [
  `kubernetes/server/bin/${binary}.docker_tag = ${JSON.stringify(`${DOCKER_TAG}\n`)} (644)`,
  `kubernetes/server/bin/${binary}.tar <- ${IMAGES}/${arch}/${binary}.tar`
]

/** Sorted by path (code-unit order, as `LC_ALL=C sort`), the order every plan has. */
const byPath = (list: string[]): string[] =>
  [...list].sort((a, b) => {
    const pa = a.split(' ')[0]
    const pb = b.split(' ')[0]
    return pa < pb ? -1 : pa > pb ? 1 : 0
  })

/** The lines plus every parent directory of them, sorted by path. */
function withParentDirs(list: string[]): string[] {
  const all = new Set(list)
  for (const l of list) {
    const parts = l.split(' ')[0].replace(/\/$/, '').split('/')
    for (let i = 1; i < parts.length; i++) all.add(`${parts.slice(0, i).join('/')}/`)
  }
  return byPath([...all])
}

/**
 * Every plan: all under kubernetes/, directories end in /, parents first, no duplicates, sorted.
 * `rootEntry` false: like upstream's dirty src tarball, kubernetes/ itself is not a member.
 */
function expectWellFormed(plan: TarballPlan, { rootEntry = true } = {}): void {
  const paths = plan.members.map(m => m.path)
  expect(new Set(paths).size, plan.name).toBe(paths.length)
  expect(paths, plan.name).toEqual(byPath(paths))
  expect(paths.includes('kubernetes/'), plan.name).toBe(rootEntry)
  const seen = new Set<string>(rootEntry ? [] : ['kubernetes/'])
  for (const m of plan.members) {
    expect(m.path.startsWith('kubernetes/'), m.path).toBe(true)
    expect(m.path.endsWith('/'), m.path).toBe(m.kind === 'dir')
    const parent = m.path.replace(/[^/]+\/?$/, '')
    if (parent !== '') expect(seen.has(parent), `${plan.name}: ${m.path} before ${parent}`).toBe(true)
    seen.add(m.path)
  }
}

describe('planBinaryTarballs: quick-release on linux/amd64', () => {
  const withImages = sources(['linux/amd64'], {
    serverImages: new Map([['linux/amd64', imagesFor('amd64')]])
  })
  const plans = planBinaryTarballs(withImages)

  it('yields the client, node, server and test tarballs of linux-amd64', () => {
    expect(plans.map(p => p.name).sort()).toEqual([
      'kubernetes-client-linux-amd64.tar.gz',
      'kubernetes-node-linux-amd64.tar.gz',
      'kubernetes-server-linux-amd64.tar.gz',
      'kubernetes-test-linux-amd64.tar.gz'
    ])
    for (const plan of plans) expectWellFormed(plan)
  })

  it('client: kubectl and kubectl-convert', () => {
    expect(lines(find(plans, 'kubernetes-client-linux-amd64.tar.gz'))).toEqual([
      'kubernetes/',
      'kubernetes/client/',
      'kubernetes/client/bin/',
      bin('client', 'linux/amd64', 'kubectl'),
      bin('client', 'linux/amd64', 'kubectl-convert')
    ])
  })

  it('node: the node and client binaries, LICENSES/ and the src tarball', () => {
    expect(lines(find(plans, 'kubernetes-node-linux-amd64.tar.gz'))).toEqual([
      'kubernetes/',
      ...LICENSES,
      SRC,
      'kubernetes/node/',
      'kubernetes/node/bin/',
      bin('node', 'linux/amd64', 'kube-log-runner'),
      bin('node', 'linux/amd64', 'kube-proxy'),
      bin('node', 'linux/amd64', 'kubeadm'),
      bin('node', 'linux/amd64', 'kubectl'),
      bin('node', 'linux/amd64', 'kubectl-convert'),
      bin('node', 'linux/amd64', 'kubelet')
    ])
  })

  it('server: server and client binaries, the five images with their tags, addons/, LICENSES/, src', () => {
    const s = (file: string): string => bin('server', 'linux/amd64', file)
    expect(lines(find(plans, 'kubernetes-server-linux-amd64.tar.gz'))).toEqual([
      'kubernetes/',
      ...LICENSES,
      'kubernetes/addons/',
      SRC,
      'kubernetes/server/',
      'kubernetes/server/bin/',
      s('apiextensions-apiserver'),
      s('kube-aggregator'),
      s('kube-apiserver'),
      ...image('amd64', 'kube-apiserver'),
      s('kube-controller-manager'),
      ...image('amd64', 'kube-controller-manager'),
      s('kube-log-runner'),
      s('kube-proxy'),
      ...image('amd64', 'kube-proxy'),
      s('kube-scheduler'),
      ...image('amd64', 'kube-scheduler'),
      s('kubeadm'),
      s('kubectl'),
      s('kubectl-convert'),
      ...image('amd64', 'kubectl'),
      s('kubelet'),
      s('mounter')
    ])
  })

  it('server: addons/ is an empty directory', () => {
    const server = find(plans, 'kubernetes-server-linux-amd64.tar.gz')
    expect(server.members.filter(m => m.path.startsWith('kubernetes/addons/'))).toEqual([
      { kind: 'dir', path: 'kubernetes/addons/' }
    ])
  })

  it('server: each .docker_tag is one line, the docker tag', () => {
    const tags = find(plans, 'kubernetes-server-linux-amd64.tar.gz').members.filter(m =>
      m.path.endsWith('.docker_tag')
    )
    expect(tags).toHaveLength(5)
    for (const m of tags) {
      expect(m.kind).toBe('data')
      if (m.kind === 'data') expect(String(m.data)).toBe(`${DOCKER_TAG}\n`)
    }
  })

  it('server without images (server-images off): no .tar or .docker_tag members', () => {
    const server = find(planBinaryTarballs(sources(['linux/amd64'])), 'kubernetes-server-linux-amd64.tar.gz')
    expect(server.members.filter(m => /\.(tar|docker_tag)$/.test(m.path))).toEqual([])
    expect(server.members.map(m => m.path)).toContain('kubernetes/addons/')
  })

  it('test: the test and test-server binaries, ginkgo once', () => {
    expect(lines(find(plans, 'kubernetes-test-linux-amd64.tar.gz'))).toEqual([
      'kubernetes/',
      'kubernetes/test/',
      'kubernetes/test/bin/',
      bin('test', 'linux/amd64', 'e2e.test'),
      bin('test', 'linux/amd64', 'e2e_node.test'),
      bin('test', 'linux/amd64', 'ginkgo'),
      bin('test', 'linux/amd64', 'go-runner'),
      bin('test', 'linux/amd64', 'kubemark')
    ])
  })
})

describe('planBinaryTarballs: linux/amd64, linux/arm64, darwin/arm64, windows/amd64', () => {
  const platforms = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64']
  // Images for linux/amd64 only: linux/arm64 shows a server tarball without them.
  const plans = planBinaryTarballs(
    sources(platforms, { serverImages: new Map([['linux/amd64', imagesFor('amd64')]]) })
  )
  const tag = (p: string): string => p.replace('/', '-')
  const exe = (file: string, platform: string): string =>
    platform.startsWith('windows/') ? `${file}.exe` : file

  // §5: client and test on every platform; node on linux and windows/amd64; server on linux only.
  const expectedNames: [kind: 'client' | 'node' | 'server' | 'test', platform: string][] = [
    ...platforms.map(p => ['client', p] as ['client', string]),
    ...platforms.map(p => ['test', p] as ['test', string]),
    ...['linux/amd64', 'linux/arm64', 'windows/amd64'].map(p => ['node', p] as ['node', string]),
    ...['linux/amd64', 'linux/arm64'].map(p => ['server', p] as ['server', string])
  ]

  function expected(kind: 'client' | 'node' | 'server' | 'test', platform: string): string[] {
    const bins: Record<typeof kind, string[]> = {
      client: GROUP_BINARIES.client,
      node: [...GROUP_BINARIES.node, ...GROUP_BINARIES.client],
      server: [...GROUP_BINARIES.server, ...GROUP_BINARIES.client],
      test: SERVER_PLATFORMS.includes(platform)
        ? [...new Set([...GROUP_BINARIES.test, ...GROUP_BINARIES['test-server']])]
        : GROUP_BINARIES.test
    }
    const list = bins[kind].map(b => bin(kind, platform, exe(b, platform)))
    if (kind === 'node' || kind === 'server') list.push(...LICENSES, SRC)
    if (kind === 'server') list.push('kubernetes/addons/')
    if (kind === 'server' && platform === 'linux/amd64')
      list.push(...IMAGE_BINARIES.flatMap(b => image('amd64', b)))
    return withParentDirs(list)
  }

  it('yields exactly the 13 tarballs of §5', () => {
    expect(plans.map(p => p.name).sort()).toEqual(
      expectedNames.map(([kind, p]) => `kubernetes-${kind}-${tag(p)}.tar.gz`).sort()
    )
  })

  it.each(expectedNames)('%s %s: the §5 members, sorted, with their sources', (kind, platform) => {
    const plan = find(plans, `kubernetes-${kind}-${tag(platform)}.tar.gz`)
    expect(lines(plan)).toEqual(expected(kind, platform))
    expectWellFormed(plan)
  })

  it('windows/amd64 node tarball, spelled out: .exe binaries, LICENSES/, src', () => {
    const w = (file: string): string => bin('node', 'windows/amd64', file)
    expect(lines(find(plans, 'kubernetes-node-windows-amd64.tar.gz'))).toEqual([
      'kubernetes/',
      ...LICENSES,
      SRC,
      'kubernetes/node/',
      'kubernetes/node/bin/',
      w('kube-log-runner.exe'),
      w('kube-proxy.exe'),
      w('kubeadm.exe'),
      w('kubectl-convert.exe'),
      w('kubectl.exe'),
      w('kubelet.exe')
    ])
  })

  it('darwin/arm64 test tarball: no kubemark or e2e_node.test', () => {
    expect(lines(find(plans, 'kubernetes-test-darwin-arm64.tar.gz'))).toEqual([
      'kubernetes/',
      'kubernetes/test/',
      'kubernetes/test/bin/',
      bin('test', 'darwin/arm64', 'e2e.test'),
      bin('test', 'darwin/arm64', 'ginkgo'),
      bin('test', 'darwin/arm64', 'go-runner')
    ])
  })

  it('windows binaries end in .exe, no others do', () => {
    for (const plan of plans) {
      for (const m of plan.members) {
        if (m.kind !== 'file' || !m.source.startsWith(BIN)) continue
        const windows = plan.name.includes('-windows-')
        expect(m.path.endsWith('.exe'), m.path).toBe(windows)
        expect(m.source.endsWith('.exe'), m.source).toBe(windows)
      }
    }
  })
})

describe('planBinaryTarballs: a target subset', () => {
  const subset = (platforms: string[], groups: Partial<Record<TargetGroupName, string[]>>): ReleaseSources =>
    sources([], {
      built: new Map(
        platforms.map(p => [p, new Map(Object.entries(groups) as [TargetGroupName, string[]][])])
      )
    })

  it('client only: client tarballs, nothing else', () => {
    const plans = planBinaryTarballs(subset(['linux/amd64', 'windows/amd64'], { client: ['kubectl'] }))
    expect(plans.map(p => p.name).sort()).toEqual([
      'kubernetes-client-linux-amd64.tar.gz',
      'kubernetes-client-windows-amd64.tar.gz'
    ])
    expect(lines(find(plans, 'kubernetes-client-windows-amd64.tar.gz'))).toEqual([
      'kubernetes/',
      'kubernetes/client/',
      'kubernetes/client/bin/',
      bin('client', 'windows/amd64', 'kubectl.exe')
    ])
  })

  it('kubelet only: node and server tarballs holding kubelet, LICENSES/ and src', () => {
    const plans = planBinaryTarballs(subset(['linux/amd64'], { server: ['kubelet'], node: ['kubelet'] }))
    expect(plans.map(p => p.name).sort()).toEqual([
      'kubernetes-node-linux-amd64.tar.gz',
      'kubernetes-server-linux-amd64.tar.gz'
    ])
    expect(lines(find(plans, 'kubernetes-node-linux-amd64.tar.gz'))).toEqual([
      'kubernetes/',
      ...LICENSES,
      SRC,
      'kubernetes/node/',
      'kubernetes/node/bin/',
      bin('node', 'linux/amd64', 'kubelet')
    ])
  })

  it('test-server only (kubemark): a test tarball', () => {
    const plans = planBinaryTarballs(subset(['linux/arm64'], { 'test-server': ['kubemark'] }))
    expect(plans.map(p => lines(p))).toEqual([
      ['kubernetes/', 'kubernetes/test/', 'kubernetes/test/bin/', bin('test', 'linux/arm64', 'kubemark')]
    ])
  })
})

describe('planManifests', () => {
  const MANIFESTS = [
    'kube-proxy.manifest',
    'cluster-autoscaler.manifest',
    'etcd.manifest',
    'kube-scheduler.manifest',
    'kube-apiserver.manifest',
    'konnectivity-server.yaml',
    'abac-authz-policy.jsonl',
    'cloud-controller-manager.manifest',
    'kube-controller-manager.manifest',
    'kube-addon-manager.yaml',
    'glbc.manifest'
  ]
  const g = (name: string, from: string): string => `kubernetes/gci-trusty/${name} <- ${FIXTURE}/${from}`

  it('the fixture: kubernetes/gci-trusty/ with the manifests, the gci scripts and the addons', () => {
    const plan = planManifests(sources(['linux/amd64']))
    expect(plan.name).toBe('kubernetes-manifests.tar.gz')
    expect(lines(plan)).toEqual(
      withParentDirs([
        ...MANIFESTS.map(m => g(m, `cluster/gce/manifests/${m}`)),
        g('gci-configure-helper.sh', 'cluster/gce/gci/configure-helper.sh'),
        g('configure-kubeapiserver.sh', 'cluster/gce/gci/configure-kubeapiserver.sh'),
        g('health-monitor.sh', 'cluster/gce/gci/health-monitor.sh'),
        g('dns/coredns/coredns.yaml.in', 'cluster/addons/dns/coredns/coredns.yaml.in'),
        g(
          'metrics-server/metrics-server-deployment.yaml',
          'cluster/addons/metrics-server/metrics-server-deployment.yaml'
        ),
        g('metrics-server/resource-reader.json', 'cluster/addons/metrics-server/resource-reader.json'),
        g('limit-range/limit-range.yaml', 'cluster/gce/addons/limit-range/limit-range.yaml')
      ])
    )
    expectWellFormed(plan)
  })

  it('spelled out: the directories it holds', () => {
    const dirs = planManifests(sources(['linux/amd64'])).members.filter(m => m.kind === 'dir')
    expect(dirs.map(m => m.path)).toEqual([
      'kubernetes/',
      'kubernetes/gci-trusty/',
      'kubernetes/gci-trusty/dns/',
      'kubernetes/gci-trusty/dns/coredns/',
      'kubernetes/gci-trusty/limit-range/',
      'kubernetes/gci-trusty/metrics-server/'
    ])
  })

  it('configure-helper.sh is renamed gci-configure-helper.sh; no configure-helper.sh of its own', () => {
    const paths = planManifests(sources(['linux/amd64'])).members.map(m => m.path)
    expect(paths).toContain('kubernetes/gci-trusty/gci-configure-helper.sh')
    expect(paths).not.toContain('kubernetes/gci-trusty/configure-helper.sh')
  })

  it('*demo* files and non-manifest files of the addons stay out', () => {
    const paths = planManifests(sources(['linux/amd64'])).members.map(m => m.path)
    expect(paths.filter(p => p.includes('demo'))).toEqual([])
    expect(paths.filter(p => p.endsWith('README.md'))).toEqual([])
  })

  it('internal-* manifests and gke-internal-configure-helper.sh are added when present; other files not', () => {
    const tree: TreeEntry[] = [
      ...FIXTURE_TREE,
      { kind: 'file', path: 'cluster/gce/manifests/internal-foo.manifest' },
      { kind: 'file', path: 'cluster/gce/manifests/internal-bar.yaml' },
      { kind: 'file', path: 'cluster/gce/manifests/e2e-image-puller.manifest' },
      { kind: 'file', path: 'cluster/gce/gci/gke-internal-configure-helper.sh' },
      { kind: 'file', path: 'cluster/gce/gci/master-helper.sh' }
    ]
    const paths = planManifests(sources(['linux/amd64'], { tree })).members.map(m => m.path)
    expect(paths).toEqual(
      expect.arrayContaining([
        'kubernetes/gci-trusty/internal-foo.manifest',
        'kubernetes/gci-trusty/internal-bar.yaml',
        'kubernetes/gci-trusty/gke-internal-configure-helper.sh'
      ])
    )
    expect(paths).not.toContain('kubernetes/gci-trusty/e2e-image-puller.manifest')
    expect(paths).not.toContain('kubernetes/gci-trusty/master-helper.sh')
  })

  it('addons: *.yaml, *.yaml.in and *.json at any depth of both addon dirs; no other suffix, no *demo*', () => {
    const tree: TreeEntry[] = [
      ...FIXTURE_TREE,
      { kind: 'dir', path: 'cluster/addons/a' },
      { kind: 'dir', path: 'cluster/addons/a/b' },
      { kind: 'file', path: 'cluster/addons/a/b/deep.yaml' },
      { kind: 'file', path: 'cluster/addons/a/b/deep.json' },
      { kind: 'file', path: 'cluster/addons/a/b/x.yml' },
      { kind: 'file', path: 'cluster/addons/a/b/x.jsonl' },
      { kind: 'file', path: 'cluster/addons/a/b/x.yaml.bak' },
      { kind: 'file', path: 'cluster/addons/a/b/x.sh' },
      { kind: 'file', path: 'cluster/addons/a/b/mydemo.json' },
      { kind: 'file', path: 'cluster/gce/addons/limit-range/demo.yaml.in' },
      { kind: 'file', path: 'cluster/gce/addons/top.yaml.in' }
    ]
    const paths = planManifests(sources(['linux/amd64'], { tree })).members.map(m => m.path)
    const addons = paths.filter(p => /^kubernetes\/gci-trusty\/(a\/|limit-range|top)/.test(p))
    expect(addons).toEqual([
      'kubernetes/gci-trusty/a/',
      'kubernetes/gci-trusty/a/b/',
      'kubernetes/gci-trusty/a/b/deep.json',
      'kubernetes/gci-trusty/a/b/deep.yaml',
      'kubernetes/gci-trusty/limit-range/',
      'kubernetes/gci-trusty/limit-range/limit-range.yaml',
      'kubernetes/gci-trusty/top.yaml.in'
    ])
  })

  it.each([
    ...MANIFESTS.map(m => `cluster/gce/manifests/${m}`),
    'cluster/gce/gci/configure-helper.sh',
    'cluster/gce/gci/configure-kubeapiserver.sh',
    'cluster/gce/gci/health-monitor.sh'
  ])('without %s: a ReleaseError naming it', missing => {
    const tree = FIXTURE_TREE.filter(e => e.path !== missing)
    expect(tree).toHaveLength(FIXTURE_TREE.length - 1)
    expect(() => planManifests(sources(['linux/amd64'], { tree }))).toThrow(ReleaseError)
    expect(() => planManifests(sources(['linux/amd64'], { tree }))).toThrow(missing)
  })
})

describe('planTestPortable', () => {
  it('the fixture: test/images, the KUBE_TEST_PORTABLE paths, nothing else', () => {
    const plan = planTestPortable(sources(['linux/amd64']))
    expect(plan.name).toBe('kubernetes-test-portable.tar.gz')
    const f = (path: string): string => `kubernetes/${path} <- ${FIXTURE}/${path}`
    expect(lines(plan)).toEqual([
      'kubernetes/',
      'kubernetes/hack/',
      'kubernetes/hack/e2e-internal/',
      f('hack/e2e-internal/e2e-status.sh'),
      f('hack/get-build.sh'),
      f('hack/ginkgo-e2e.sh'),
      'kubernetes/hack/lib/',
      f('hack/lib/etcd.sh'),
      f('hack/lib/golang.sh'),
      f('hack/lib/init.sh'),
      f('hack/lib/logging.sh'),
      f('hack/lib/version.sh'),
      'kubernetes/test/',
      'kubernetes/test/e2e/',
      'kubernetes/test/e2e/testing-manifests/',
      f('test/e2e/testing-manifests/README.md'),
      'kubernetes/test/images/',
      f('test/images/README.md'),
      'kubernetes/test/images/agnhost/',
      f('test/images/agnhost/VERSION'),
      'kubernetes/test/kubemark/',
      f('test/kubemark/README.md')
    ])
    expectWellFormed(plan)
  })

  it('symlinks in a copied directory stay symlinks', () => {
    const tree: TreeEntry[] = [
      ...FIXTURE_TREE,
      { kind: 'symlink', path: 'hack/lib/link.sh', target: 'init.sh' }
    ]
    expect(lines(planTestPortable(sources(['linux/amd64'], { tree })))).toContain(
      'kubernetes/hack/lib/link.sh -> init.sh'
    )
  })

  it.each(['test/images', 'hack/get-build.sh', 'hack/lib', 'test/kubemark'])(
    'without %s: a ReleaseError naming it',
    missing => {
      const tree = FIXTURE_TREE.filter(e => e.path !== missing && !e.path.startsWith(`${missing}/`))
      expect(() => planTestPortable(sources(['linux/amd64'], { tree }))).toThrow(ReleaseError)
      expect(() => planTestPortable(sources(['linux/amd64'], { tree }))).toThrow(missing)
    }
  )
})

describe('planFinalTarball', () => {
  const plan = planFinalTarball(sources(['linux/amd64']))
  const f = (path: string): string => `kubernetes/${path} <- ${FIXTURE}/${path}`
  const data = (path: string): string => {
    const m = plan.members.find(x => x.path === path)
    if (m?.kind !== 'data') throw new Error(`${path} is not a data member`)
    return String(m.data)
  }

  it('kubernetes.tar.gz: client/README, cluster/, server/{manifests tarball,README}, hack/lib, docs, README.md, LICENSES, version', () => {
    expect(plan.name).toBe('kubernetes.tar.gz')
    const cluster = FIXTURE_TREE.filter(e => e.path === 'cluster' || e.path.startsWith('cluster/')).map(e =>
      e.kind === 'dir' ? `kubernetes/${e.path}/` : f(e.path)
    )
    expect(cluster.length).toBeGreaterThan(20)
    const readme = (p: string): string => line(plan.members.find(m => m.path === p) as TarMember)
    expect(lines(plan)).toEqual(
      withParentDirs([
        readme('kubernetes/client/README'),
        ...cluster,
        `kubernetes/server/kubernetes-manifests.tar.gz <- ${TARS}/kubernetes-manifests.tar.gz`,
        readme('kubernetes/server/README'),
        'kubernetes/hack/lib/',
        ...['etcd.sh', 'golang.sh', 'init.sh', 'logging.sh', 'version.sh'].map(n => f(`hack/lib/${n}`)),
        'kubernetes/docs/',
        f('docs/README.md'),
        f('README.md'),
        ...LICENSES,
        `kubernetes/version = ${JSON.stringify(`${VERSION}\n`)} (644)`
      ])
    )
    expectWellFormed(plan)
  })

  it('version: one line, the version', () => {
    expect(data('kubernetes/version')).toBe(`${VERSION}\n`)
  })

  it('client/README and server/README point at cluster/get-kube-binaries.sh', () => {
    for (const path of ['kubernetes/client/README', 'kubernetes/server/README']) {
      expect(data(path), path).toContain('cluster/get-kube-binaries.sh')
      expect(data(path).endsWith('\n'), path).toBe(true)
    }
  })

  it('nothing from outside those paths (no cmd/, hack/make-rules/, test/)', () => {
    const paths = plan.members.map(m => m.path)
    for (const p of [
      'kubernetes/cmd/',
      'kubernetes/hack/make-rules/',
      'kubernetes/test/',
      'kubernetes/Makefile'
    ]) {
      expect(
        paths.filter(x => x.startsWith(p)),
        p
      ).toEqual([])
    }
  })

  it.each(['cluster', 'hack/lib', 'docs', 'README.md', 'LICENSES'])(
    'without %s: a ReleaseError naming it',
    missing => {
      const tree = FIXTURE_TREE.filter(e => e.path !== missing && !e.path.startsWith(`${missing}/`))
      expect(() => planFinalTarball(sources(['linux/amd64'], { tree }))).toThrow(ReleaseError)
      expect(() => planFinalTarball(sources(['linux/amd64'], { tree }))).toThrow(missing)
    }
  )
})

describe('planDirtySrc', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kube-dirty-src-'))
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  async function make(files: string[], links: [string, string][] = []): Promise<void> {
    for (const f of files) {
      await mkdir(dirname(join(root, f)), { recursive: true })
      await writeFile(join(root, f), f)
    }
    for (const [path, target] of links) await symlink(target, join(root, path))
  }

  it('kubernetes/<every top-level entry> except _*, .git*, .config*, .gsutil*', async () => {
    await make(
      [
        '_output/dockerized/bin/linux/amd64/kubectl',
        '_artifacts/junit.xml',
        '.git/HEAD',
        '.gitignore',
        '.github/workflows/ci.yaml',
        '.config/gcloud/x',
        '.configrc',
        '.gsutil/creds',
        '.go-version',
        'build/root/Makefile',
        'cmd/kubectl/kubectl.go',
        'pkg/_internal/x.go',
        'docs/.gitkeep'
      ],
      [['Makefile', 'build/root/Makefile']]
    )
    const tree = await listTree(root)
    const plan = planDirtySrc({ ...sources(['linux/amd64']), treeRoot: root, tree })
    expect(plan.name).toBe('kubernetes-src.tar.gz')
    const f = (path: string): string => `kubernetes/${path} <- ${root}/${path}`
    expect(lines(plan)).toEqual([
      f('.go-version'),
      'kubernetes/Makefile -> build/root/Makefile',
      'kubernetes/build/',
      'kubernetes/build/root/',
      f('build/root/Makefile'),
      'kubernetes/cmd/',
      'kubernetes/cmd/kubectl/',
      f('cmd/kubectl/kubectl.go'),
      'kubernetes/docs/',
      f('docs/.gitkeep'),
      'kubernetes/pkg/',
      'kubernetes/pkg/_internal/',
      f('pkg/_internal/x.go')
    ])
    expectWellFormed(plan, { rootEntry: false })
  })

  it('the fixture: every entry of the tree but .gitignore, under kubernetes/', () => {
    const plan = planDirtySrc(sources(['linux/amd64']))
    const kept = FIXTURE_TREE.filter(e => e.path !== '.gitignore').map(e =>
      e.kind === 'dir'
        ? `kubernetes/${e.path}/`
        : e.kind === 'symlink'
          ? `kubernetes/${e.path} -> ${e.target}`
          : f(e.path)
    )
    expect(lines(plan)).toEqual(withParentDirs(kept).filter(l => l !== 'kubernetes/'))
    function f(path: string): string {
      return `kubernetes/${path} <- ${FIXTURE}/${path}`
    }
  })
})

describe('withDirectories', () => {
  const file = (path: string): TarMember => ({ kind: 'file', path, source: `/src/${path}` })

  it('adds every parent directory once and sorts by path', () => {
    const members = withDirectories([
      file('kubernetes/z'),
      file('kubernetes/a/b/c'),
      file('kubernetes/a/b/d'),
      { kind: 'data', path: 'kubernetes/a/v', data: 'v\n', mode: 0o644 }
    ])
    expect(members.map(m => m.path)).toEqual([
      'kubernetes/',
      'kubernetes/a/',
      'kubernetes/a/b/',
      'kubernetes/a/b/c',
      'kubernetes/a/b/d',
      'kubernetes/a/v',
      'kubernetes/z'
    ])
    expect(members.filter(m => m.kind === 'dir')).toEqual([
      { kind: 'dir', path: 'kubernetes/' },
      { kind: 'dir', path: 'kubernetes/a/' },
      { kind: 'dir', path: 'kubernetes/a/b/' }
    ])
  })

  it('a directory given explicitly is not added twice; an empty one is kept', () => {
    const members = withDirectories([
      file('kubernetes/a/x'),
      { kind: 'dir', path: 'kubernetes/a/' },
      { kind: 'dir', path: 'kubernetes/addons/' }
    ])
    expect(members.map(m => m.path)).toEqual([
      'kubernetes/',
      'kubernetes/a/',
      'kubernetes/a/x',
      'kubernetes/addons/'
    ])
  })

  it('code-unit order: "a-b/" before "a/", "A" before "a"; parents still precede children', () => {
    const members = withDirectories([file('k/a/y'), file('k/a-b/x'), file('k/a.txt'), file('k/A')])
    expect(members.map(m => m.path)).toEqual(['k/', 'k/A', 'k/a-b/', 'k/a-b/x', 'k/a.txt', 'k/a/', 'k/a/y'])
  })

  it('keeps every member as given (symlinks, data, sources)', () => {
    const given: TarMember[] = [
      { kind: 'symlink', path: 'k/l', target: '../t' },
      { kind: 'data', path: 'k/d', data: Buffer.from('x'), mode: 0o600 },
      file('k/f')
    ]
    const members = withDirectories(given)
    for (const m of given) expect(members).toContainEqual(m)
    expect(members).toHaveLength(4)
  })

  it('does not change its input', () => {
    const given = [file('k/b'), file('k/a')]
    withDirectories(given)
    expect(given.map(m => m.path)).toEqual(['k/b', 'k/a'])
  })
})
