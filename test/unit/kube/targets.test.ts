// Target groups and the `targets` input, checked against kube-build-flow.md §4 (KUBE_*_TARGETS).
import { describe, expect, it } from 'vitest'
import {
  ALL_TARGETS,
  TARGET_GROUPS,
  binaryFileName,
  parseTargets,
  type TargetGroupName
} from '../../../src/kube/targets.js'
import { InputError } from '../../../src/errors.js'

const LOG_RUNNER = 'staging/src/k8s.io/component-base/logs/kube-log-runner'

// §4: package paths → binaries, in upstream order. ginkgo is listed by its short name in cross.sh.
const SPEC_GROUPS: Record<TargetGroupName, { paths: string[]; binaries: string[]; platforms: string[] }> = {
  server: {
    paths: [
      'cmd/kube-proxy',
      'cmd/kube-apiserver',
      'cmd/kube-controller-manager',
      'cmd/kubelet',
      'cmd/kubeadm',
      'cmd/kube-scheduler',
      LOG_RUNNER,
      'staging/src/k8s.io/kube-aggregator',
      'staging/src/k8s.io/apiextensions-apiserver',
      'cluster/gce/gci/mounter'
    ],
    binaries: [
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
    platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/ppc64le']
  },
  node: {
    paths: ['cmd/kube-proxy', 'cmd/kubeadm', 'cmd/kubelet', LOG_RUNNER],
    binaries: ['kube-proxy', 'kubeadm', 'kubelet', 'kube-log-runner'],
    platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/ppc64le', 'windows/amd64']
  },
  client: {
    paths: ['cmd/kubectl', 'cmd/kubectl-convert'],
    binaries: ['kubectl', 'kubectl-convert'],
    platforms: [
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
    ]
  },
  test: {
    paths: ['ginkgo', 'test/e2e/e2e.test', 'test/conformance/image/go-runner'],
    binaries: ['ginkgo', 'e2e.test', 'go-runner'],
    platforms: [
      'linux/amd64',
      'linux/arm64',
      'linux/s390x',
      'linux/ppc64le',
      'darwin/amd64',
      'darwin/arm64',
      'windows/amd64',
      'windows/arm64'
    ]
  },
  'test-server': {
    paths: ['cmd/kubemark', 'ginkgo', 'test/e2e_node/e2e_node.test'],
    binaries: ['kubemark', 'ginkgo', 'e2e_node.test'],
    // KUBE_TEST_SERVER_PLATFORMS = KUBE_SERVER_PLATFORMS
    platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/ppc64le']
  }
}
const GROUP_ORDER: TargetGroupName[] = ['server', 'node', 'client', 'test', 'test-server']
const binariesOf = (...groups: TargetGroupName[]): string[] => [
  ...new Set(groups.flatMap(g => SPEC_GROUPS[g].binaries))
]

describe('target groups (§4, cross.sh order)', () => {
  it('are server, node, client, test, test-server in cross.sh’s order', () => {
    expect(TARGET_GROUPS.map(g => g.name)).toEqual(GROUP_ORDER)
  })

  it.each(GROUP_ORDER)('%s: package paths, binaries and platforms', name => {
    const group = TARGET_GROUPS.find(g => g.name === name)!
    expect(group.name).toBe(name)
    expect(group.targets.map(x => x.path)).toEqual(SPEC_GROUPS[name].paths)
    expect(group.targets.map(x => x.binary)).toEqual(SPEC_GROUPS[name].binaries)
    expect([...group.platforms]).toEqual(SPEC_GROUPS[name].platforms)
  })

  it('ALL_TARGETS is KUBE_ALL_TARGETS: every target once', () => {
    const expected = [...new Set(GROUP_ORDER.flatMap(g => SPEC_GROUPS[g].paths))]
    expect(ALL_TARGETS.map(x => x.path).sort()).toEqual(expected.sort())
    expect(ALL_TARGETS.length).toBe(expected.length)
  })
})

describe('parseTargets', () => {
  it.each(['', '  ', '\n', ' , \n '])('%j means everything make cross builds (null)', text => {
    expect(parseTargets(text)).toBeNull()
  })

  it.each([
    ['server', binariesOf('server')],
    ['node', binariesOf('node')],
    ['client', binariesOf('client')],
    // `test` also covers the test-server binaries (kubemark, e2e_node.test).
    ['test', binariesOf('test', 'test-server')],
    ['server,node', binariesOf('server', 'node')],
    ['client\ntest', binariesOf('client', 'test', 'test-server')],
    ['server node client test', binariesOf('server', 'node', 'client', 'test', 'test-server')]
  ])('group words %j', (text, expected) => {
    const targets = parseTargets(text)
    expect(targets?.map(x => x.binary).sort()).toEqual([...expected].sort())
  })

  it('test covers kubemark and e2e_node.test of the test-server group', () => {
    const binaries = parseTargets('test')?.map(x => x.binary)
    expect(binaries).toContain('kubemark')
    expect(binaries).toContain('e2e_node.test')
  })

  it('a target shared by groups is listed once', () => {
    const targets = parseTargets('server,node,test') ?? []
    expect(targets.filter(x => x.binary === 'kube-proxy')).toHaveLength(1)
    expect(targets.filter(x => x.binary === 'ginkgo')).toHaveLength(1)
    expect(new Set(targets).size).toBe(targets.length)
  })

  it.each([
    ['cmd/kubectl', 'cmd/kubectl', 'kubectl'],
    ['./cmd/kubectl', 'cmd/kubectl', 'kubectl'],
    ['vendor/cmd/kubectl', 'cmd/kubectl', 'kubectl'],
    [LOG_RUNNER, LOG_RUNNER, 'kube-log-runner'],
    [`vendor/${LOG_RUNNER}`, LOG_RUNNER, 'kube-log-runner'],
    [`./${LOG_RUNNER}`, LOG_RUNNER, 'kube-log-runner'],
    ['cluster/gce/gci/mounter', 'cluster/gce/gci/mounter', 'mounter'],
    ['test/e2e/e2e.test', 'test/e2e/e2e.test', 'e2e.test'],
    ['test/e2e_node/e2e_node.test', 'test/e2e_node/e2e_node.test', 'e2e_node.test'],
    ['github.com/onsi/ginkgo/v2/ginkgo', 'ginkgo', 'ginkgo'],
    ['vendor/github.com/onsi/ginkgo/v2/ginkgo', 'ginkgo', 'ginkgo'],
    ['ginkgo', 'ginkgo', 'ginkgo']
  ])('package path %j → %s (%s)', (word, path, binary) => {
    expect(parseTargets(word)).toEqual([{ path, binary }])
  })

  it.each([
    ['kubectl', 'cmd/kubectl'],
    ['kube-apiserver', 'cmd/kube-apiserver'],
    ['kube-log-runner', LOG_RUNNER],
    ['apiextensions-apiserver', 'staging/src/k8s.io/apiextensions-apiserver'],
    ['go-runner', 'test/conformance/image/go-runner'],
    ['e2e.test', 'test/e2e/e2e.test'],
    ['kubemark', 'cmd/kubemark']
  ])('binary name %j → %s', (word, path) => {
    expect(parseTargets(word)?.map(x => x.path)).toEqual([path])
  })

  it('mixes groups, paths and binaries, separated by commas, newlines or spaces, without duplicates', () => {
    const targets = parseTargets('client, cmd/kubectl\nkubeadm  ./cmd/kubelet,kubectl')
    expect(targets?.map(x => x.path)).toEqual([
      'cmd/kubectl',
      'cmd/kubectl-convert',
      'cmd/kubeadm',
      'cmd/kubelet'
    ])
  })

  it.each([
    ['kubefoo', ['kubefoo']],
    ['servers', ['servers']],
    ['cmd/kubectl2', ['cmd/kubectl2']],
    ['kubectl,cmd/nope,nope2', ['cmd/nope', 'nope2']]
  ])('rejects %j, naming the unknown words and the accepted groups and paths', (text, bad) => {
    let error: unknown
    try {
      parseTargets(text)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(InputError)
    const message = (error as Error).message
    for (const word of bad) expect(message).toContain(`'${word}'`)
    for (const group of ['server', 'node', 'client', 'test']) expect(message).toContain(group)
    for (const path of SPEC_GROUPS.server.paths) expect(message).toContain(path)
    expect(message).toContain('test/e2e/e2e.test')
  })
})

describe('binaryFileName', () => {
  it.each([
    ['kubectl', 'windows/amd64', 'kubectl.exe'],
    ['kubectl', 'windows/386', 'kubectl.exe'],
    ['e2e.test', 'windows/arm64', 'e2e.test.exe'],
    ['kube-proxy', 'windows/amd64', 'kube-proxy.exe'],
    ['kubectl', 'linux/amd64', 'kubectl'],
    ['kubectl', 'darwin/arm64', 'kubectl'],
    ['e2e.test', 'darwin/amd64', 'e2e.test']
  ])('%s on %s is %s', (binary, platform, expected) => {
    expect(binaryFileName(binary, platform)).toBe(expected)
  })
})
