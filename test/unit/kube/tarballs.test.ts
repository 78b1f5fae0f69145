// Release tarball plans, checked against kube-build-flow.md §5 (layout) and §3.5 (what each tarball
// stages): names kubernetes-<kind>-<os>-<arch>.tar.gz, members rooted at kubernetes/, binaries read
// from _output/dockerized/bin/<os>/<arch>/.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { TarMember } from '../../../src/archive/tar.js'
import { planBuild } from '../../../src/kube/build-plan.js'
import { planTarballs, type TarballPlan } from '../../../src/kube/tarballs.js'
import { parseTargets } from '../../../src/kube/targets.js'

const BIN_ROOT = '/tree/_output/dockerized/bin'
const TREE = '/tree'
const LICENSES = ['LICENSE', 'vendor/example/LICENSE']

// §5 binary lists.
const CLIENT_BINS = ['kubectl', 'kubectl-convert']
const NODE_BINS = ['kube-proxy', 'kubeadm', 'kubelet', 'kube-log-runner', 'kubectl', 'kubectl-convert']
const SERVER_BINS = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'kubectl',
  'kubelet',
  'kubeadm',
  'kube-log-runner',
  'kube-aggregator',
  'apiextensions-apiserver',
  'mounter',
  'kubectl-convert'
]
const TEST_BINS = ['ginkgo', 'e2e.test', 'go-runner']
const TEST_SERVER_EXTRA = ['kubemark', 'e2e_node.test']
const SERVER_PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/ppc64le']

const exe = (bin: string, platform: string): string => (platform.startsWith('windows/') ? `${bin}.exe` : bin)

/** Every parent directory of the paths, with a trailing slash, plus the paths; sorted. */
function withParents(paths: string[]): string[] {
  const all = new Set(paths)
  for (const p of paths) {
    const parts = p.split('/').filter(s => s !== '')
    for (let i = 1; i < parts.length; i++) all.add(`${parts.slice(0, i).join('/')}/`)
  }
  return [...all].sort()
}

/** The expected (path, source) pairs of a tarball, from §5. */
function expectedMembers(
  kind: 'client' | 'node' | 'server' | 'test',
  platform: string
): Map<string, string | null> {
  const bins: Record<typeof kind, string[]> = {
    client: CLIENT_BINS,
    node: NODE_BINS,
    server: SERVER_BINS,
    test: SERVER_PLATFORMS.includes(platform) ? [...TEST_BINS, ...TEST_SERVER_EXTRA] : TEST_BINS
  }
  const files = new Map<string, string | null>()
  for (const bin of bins[kind]) {
    const file = exe(bin, platform)
    files.set(`kubernetes/${kind}/bin/${file}`, join(BIN_ROOT, ...platform.split('/'), file))
  }
  if (kind === 'node' || kind === 'server') {
    for (const license of LICENSES)
      files.set(`kubernetes/LICENSES/${license}`, join(TREE, 'LICENSES', license))
  }
  const paths = [...files.keys()]
  if (kind === 'server') paths.push('kubernetes/addons/')
  const out = new Map<string, string | null>()
  for (const path of withParents(paths)) out.set(path, files.get(path) ?? null)
  return out
}

function membersOf(plan: TarballPlan): Map<string, string | null> {
  return new Map(plan.members.map((m: TarMember) => [m.path, m.kind === 'file' ? m.source : null]))
}

const tag = (platform: string): string => platform.replace('/', '-')

function plansFor(platforms: string[], targets: string | null = null): TarballPlan[] {
  const plan = planBuild(platforms, targets === null ? null : parseTargets(targets))
  return planTarballs(plan.built, BIN_ROOT, LICENSES, TREE)
}

describe('planTarballs for quick-release on linux/amd64', () => {
  const plans = plansFor(['linux/amd64'])

  it('yields the client, node, server and test tarballs of linux-amd64', () => {
    expect(plans.map(p => p.name).sort()).toEqual([
      'kubernetes-client-linux-amd64.tar.gz',
      'kubernetes-node-linux-amd64.tar.gz',
      'kubernetes-server-linux-amd64.tar.gz',
      'kubernetes-test-linux-amd64.tar.gz'
    ])
    for (const plan of plans) expect(plan.platform).toBe('linux/amd64')
  })

  it.each(['client', 'node', 'server', 'test'] as const)('%s: the §5 members, sorted, with sources', kind => {
    const plan = plans.find(p => p.name === `kubernetes-${kind}-linux-amd64.tar.gz`) as TarballPlan
    const expected = expectedMembers(kind, 'linux/amd64')
    expect(plan.members.map(m => m.path)).toEqual([...expected.keys()])
    expect(membersOf(plan)).toEqual(expected)
  })

  it('client tarball, spelled out', () => {
    const plan = plans.find(p => p.name === 'kubernetes-client-linux-amd64.tar.gz') as TarballPlan
    expect(plan.members).toEqual([
      { kind: 'dir', path: 'kubernetes/' },
      { kind: 'dir', path: 'kubernetes/client/' },
      { kind: 'dir', path: 'kubernetes/client/bin/' },
      { kind: 'file', path: 'kubernetes/client/bin/kubectl', source: `${BIN_ROOT}/linux/amd64/kubectl` },
      {
        kind: 'file',
        path: 'kubernetes/client/bin/kubectl-convert',
        source: `${BIN_ROOT}/linux/amd64/kubectl-convert`
      }
    ])
  })

  it('server tarball has the empty addons/ dir, LICENSES and the client binaries', () => {
    const paths = plans.find(p => p.name === 'kubernetes-server-linux-amd64.tar.gz')?.members.map(m => m.path)
    expect(paths).toContain('kubernetes/addons/')
    expect(paths?.filter(p => p.startsWith('kubernetes/addons/'))).toEqual(['kubernetes/addons/'])
    expect(paths).toContain('kubernetes/LICENSES/vendor/example/')
    expect(paths).toContain('kubernetes/server/bin/kubectl')
    expect(paths).toContain('kubernetes/server/bin/kubectl-convert')
  })

  it('ginkgo appears once in the test tarball', () => {
    const paths = plans.find(p => p.name === 'kubernetes-test-linux-amd64.tar.gz')?.members.map(m => m.path)
    expect(paths?.filter(p => p.endsWith('/ginkgo'))).toEqual(['kubernetes/test/bin/ginkgo'])
  })
})

describe('planTarballs for linux/amd64,linux/arm64,darwin/arm64,windows/amd64', () => {
  const platforms = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64']
  const plans = plansFor(platforms)

  // §5: client and test on every platform; node on linux and windows/amd64; server on linux only.
  const expectedNames = [
    ...platforms.map(p => ['client', p] as const),
    ...platforms.map(p => ['test', p] as const),
    ...['linux/amd64', 'linux/arm64', 'windows/amd64'].map(p => ['node', p] as const),
    ...['linux/amd64', 'linux/arm64'].map(p => ['server', p] as const)
  ]

  it('yields exactly the tarballs of §5, sorted by name', () => {
    const names = expectedNames.map(([kind, p]) => `kubernetes-${kind}-${tag(p)}.tar.gz`).sort()
    expect(plans.map(p => p.name)).toEqual(names)
    expect(plans).toHaveLength(13)
  })

  it.each(expectedNames)('%s %s: the §5 members, sorted, with sources', (kind, platform) => {
    const plan = plans.find(p => p.name === `kubernetes-${kind}-${tag(platform)}.tar.gz`) as TarballPlan
    expect(plan.platform).toBe(platform)
    const expected = expectedMembers(kind, platform)
    expect(plan.members.map(m => m.path)).toEqual([...expected.keys()])
    expect(membersOf(plan)).toEqual(expected)
  })

  it('windows binaries end in .exe, others do not', () => {
    for (const plan of plans) {
      for (const m of plan.members) {
        if (m.kind !== 'file' || m.path.includes('/LICENSES/')) continue
        expect(m.path.endsWith('.exe')).toBe(plan.platform.startsWith('windows/'))
        expect(m.kind === 'file' && m.source.endsWith('.exe')).toBe(plan.platform.startsWith('windows/'))
      }
    }
  })

  it('windows node tarball spelled out', () => {
    const plan = plans.find(p => p.name === 'kubernetes-node-windows-amd64.tar.gz') as TarballPlan
    expect(plan.members.filter(m => m.path.startsWith('kubernetes/node/bin/') && m.kind === 'file')).toEqual(
      ['kube-proxy', 'kubeadm', 'kubelet', 'kube-log-runner', 'kubectl', 'kubectl-convert']
        .map(b => `${b}.exe`)
        .sort() // code-unit order: kubectl-convert.exe before kubectl.exe
        .map(file => ({
          kind: 'file',
          path: `kubernetes/node/bin/${file}`,
          source: `${BIN_ROOT}/windows/amd64/${file}`
        }))
    )
  })

  it('darwin/arm64 test tarball has no kubemark or e2e_node.test', () => {
    const paths = plans.find(p => p.name === 'kubernetes-test-darwin-arm64.tar.gz')?.members.map(m => m.path)
    expect(paths).toEqual(withParents(TEST_BINS.map(b => `kubernetes/test/bin/${b}`)))
  })

  it('every member is under kubernetes/ and every parent directory is listed before its children', () => {
    for (const plan of plans) {
      const seen = new Set<string>()
      for (const m of plan.members) {
        expect(m.path.startsWith('kubernetes/')).toBe(true)
        const parent = m.path.replace(/[^/]+\/?$/, '')
        if (parent !== '') expect(seen.has(parent)).toBe(true)
        if (m.kind === 'dir') expect(m.path.endsWith('/')).toBe(true)
        else expect(m.path.endsWith('/')).toBe(false)
        seen.add(m.path)
      }
      expect(new Set(plan.members.map(m => m.path)).size).toBe(plan.members.length)
    }
  })
})

describe('planTarballs for a target subset', () => {
  it('client only: client tarballs, no node/server/test', () => {
    const plans = plansFor(['linux/amd64', 'windows/amd64'], 'client')
    expect(plans.map(p => p.name)).toEqual([
      'kubernetes-client-linux-amd64.tar.gz',
      'kubernetes-client-windows-amd64.tar.gz'
    ])
  })

  it('kubelet only: node and server tarballs with just kubelet (and LICENSES)', () => {
    const plans = plansFor(['linux/amd64'], 'kubelet')
    expect(plans.map(p => p.name)).toEqual([
      'kubernetes-node-linux-amd64.tar.gz',
      'kubernetes-server-linux-amd64.tar.gz'
    ])
    const node = plans[0].members.filter(m => m.kind === 'file' && !m.path.includes('/LICENSES/'))
    expect(node.map(m => m.path)).toEqual(['kubernetes/node/bin/kubelet'])
  })

  it('no licenses: node tarball without a LICENSES dir', () => {
    const plan = planBuild(['linux/amd64'], null)
    const node = planTarballs(plan.built, BIN_ROOT, [], TREE).find(p => p.name.includes('-node-'))
    expect(node?.members.some(m => m.path.startsWith('kubernetes/LICENSES'))).toBe(false)
  })
})
