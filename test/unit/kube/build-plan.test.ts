// The build plan: what the container runs and what it produces, checked against kube-build-flow.md
// §1.1 (make cross / make all), §3.3.2 (cross.sh: one make all per group over its platforms) and §4.
import { describe, expect, it } from 'vitest'
import { buildCommands, planBuild, type BuildPlan } from '../../../src/kube/build-plan.js'
import { parseTargets, type TargetGroupName } from '../../../src/kube/targets.js'

const LOG_RUNNER = 'staging/src/k8s.io/component-base/logs/kube-log-runner'

// §4 binaries per group.
const SERVER = [
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
]
const NODE = ['kube-proxy', 'kubeadm', 'kubelet', 'kube-log-runner']
const CLIENT = ['kubectl', 'kubectl-convert']
const TEST = ['ginkgo', 'e2e.test', 'go-runner']
const TEST_SERVER = ['kubemark', 'ginkgo', 'e2e_node.test']

// §4 supported platforms per group.
const SUPPORTED: Record<TargetGroupName, string[]> = {
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
  ],
  'test-server': ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/ppc64le']
}
const GROUP_BINARIES: Record<TargetGroupName, string[]> = {
  server: SERVER,
  node: NODE,
  client: CLIENT,
  test: TEST,
  'test-server': TEST_SERVER
}

const FOUR = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64']

/** The built map as plain sorted data: platform → group → sorted binaries. */
function builtAsObject(plan: BuildPlan): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {}
  for (const [platform, groups] of plan.built) {
    out[platform] = {}
    for (const [group, binaries] of groups) out[platform][group] = [...binaries].sort()
  }
  return out
}

/** What make cross builds for `platforms`, derived from the §4 tables: every group on its supported platforms. */
function expectedCross(platforms: string[]): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {}
  for (const platform of platforms) {
    const groups: Record<string, string[]> = {}
    for (const group of Object.keys(SUPPORTED) as TargetGroupName[]) {
      if (SUPPORTED[group].includes(platform)) groups[group] = [...GROUP_BINARIES[group]].sort()
    }
    if (Object.keys(groups).length > 0) out[platform] = groups
  }
  return out
}

/** Parses `make all WHAT=… KUBE_BUILD_PLATFORMS=…` into its WHAT and platform lists. */
function parseMakeAll(argv: readonly string[]): { what: string[]; platforms: string[] } {
  expect(argv.slice(0, 2)).toEqual(['make', 'all'])
  const what = argv.find(a => a.startsWith('WHAT='))
  const platforms = argv.find(a => a.startsWith('KUBE_BUILD_PLATFORMS='))
  expect(what).toBeDefined()
  expect(platforms).toBeDefined()
  expect(argv).toHaveLength(4)
  return {
    what: (what as string).slice('WHAT='.length).split(' '),
    platforms: (platforms as string).slice('KUBE_BUILD_PLATFORMS='.length).split(' ')
  }
}

/** For every (target path, platform), how many make all commands compile it. */
function compileCounts(plan: BuildPlan): Map<string, number> {
  const counts = new Map<string, number>()
  for (const argv of plan.commands) {
    const { what, platforms } = parseMakeAll(argv)
    for (const target of what) {
      for (const platform of platforms) {
        const key = `${target}@${platform}`
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
    }
  }
  return counts
}

describe('planBuild with every target (make cross)', () => {
  it.each([
    [['linux/amd64']],
    [['linux/arm64']],
    [FOUR],
    [['darwin/arm64']],
    [['linux/386', 'windows/386']],
    [SUPPORTED.client]
  ])('%j: one `make cross`, KUBE_BUILD_PLATFORMS = the selection', platforms => {
    const plan = planBuild(platforms, null)
    expect(plan.commands).toEqual([['make', 'cross']])
    expect([...plan.platforms]).toEqual(platforms)
  })

  it('for linux/amd64,linux/arm64,darwin/arm64,windows/amd64 the built map follows §4', () => {
    const plan = planBuild(FOUR, null)
    const expected = expectedCross(FOUR)
    expect(builtAsObject(plan)).toEqual(expected)
    // Spelled out, as the brief states it:
    expect(Object.keys(expected['darwin/arm64']).sort()).toEqual(['client', 'test'])
    expect(Object.keys(expected['windows/amd64']).sort()).toEqual(['client', 'node', 'test'])
    expect(Object.keys(expected['linux/amd64']).sort()).toEqual([
      'client',
      'node',
      'server',
      'test',
      'test-server'
    ])
    expect(Object.keys(expected['linux/arm64']).sort()).toEqual([
      'client',
      'node',
      'server',
      'test',
      'test-server'
    ])
  })

  it('for every supported platform (make release) the built map follows §4', () => {
    const plan = planBuild(SUPPORTED.client, null)
    expect(builtAsObject(plan)).toEqual(expectedCross(SUPPORTED.client))
    expect(plan.built.size).toBe(11)
  })

  it('client-only platforms build only the client group', () => {
    const plan = planBuild(['linux/386', 'windows/386', 'linux/arm'], null)
    expect(builtAsObject(plan)).toEqual({
      'linux/386': { client: [...CLIENT].sort() },
      'windows/386': { client: [...CLIENT].sort() },
      'linux/arm': { client: [...CLIENT].sort() }
    })
  })
})

describe('planBuild with a target subset (make all)', () => {
  it('builds each target over exactly its groups’ platforms, a shared target once per platform', () => {
    const targets = parseTargets('server,node')
    const plan = planBuild(FOUR, targets)
    const counts = compileCounts(plan)
    // kube-proxy, kubelet, kubeadm and kube-log-runner are in server (linux) and node (linux + windows/amd64).
    const expected = new Map<string, number>()
    for (const path of ['cmd/kube-proxy', 'cmd/kubelet', 'cmd/kubeadm', LOG_RUNNER]) {
      for (const p of ['linux/amd64', 'linux/arm64', 'windows/amd64']) expected.set(`${path}@${p}`, 1)
    }
    for (const path of [
      'cmd/kube-apiserver',
      'cmd/kube-controller-manager',
      'cmd/kube-scheduler',
      'staging/src/k8s.io/kube-aggregator',
      'staging/src/k8s.io/apiextensions-apiserver',
      'cluster/gce/gci/mounter'
    ]) {
      for (const p of ['linux/amd64', 'linux/arm64']) expected.set(`${path}@${p}`, 1)
    }
    expect(new Map([...counts].sort())).toEqual(new Map([...expected].sort()))
    expect([...plan.platforms]).toEqual(FOUR)
  })

  it('server,node: the built map has server and node on linux, node only on windows/amd64, nothing on darwin', () => {
    const plan = planBuild(FOUR, parseTargets('server,node'))
    expect(builtAsObject(plan)).toEqual({
      'linux/amd64': { server: [...SERVER].sort(), node: [...NODE].sort() },
      'linux/arm64': { server: [...SERVER].sort(), node: [...NODE].sort() },
      'windows/amd64': { node: [...NODE].sort() }
    })
  })

  it('kubectl alone: one make all over every selected platform', () => {
    const plan = planBuild(FOUR, parseTargets('kubectl'))
    expect(plan.commands).toHaveLength(1)
    const { what, platforms } = parseMakeAll(plan.commands[0])
    expect(what).toEqual(['cmd/kubectl'])
    expect([...platforms].sort()).toEqual([...FOUR].sort())
    for (const platform of FOUR) expect(plan.built.get(platform)?.get('client')).toEqual(['kubectl'])
  })

  it('kube-proxy alone on linux/amd64 compiles once although server and node both list it', () => {
    const plan = planBuild(['linux/amd64'], parseTargets('kube-proxy'))
    expect(plan.commands).toEqual([
      ['make', 'all', 'WHAT=cmd/kube-proxy', 'KUBE_BUILD_PLATFORMS=linux/amd64']
    ])
    expect(builtAsObject(plan)).toEqual({ 'linux/amd64': { server: ['kube-proxy'], node: ['kube-proxy'] } })
  })

  it('test: ginkgo compiles once per platform; test-server binaries only on server platforms', () => {
    const plan = planBuild(FOUR, parseTargets('test'))
    const counts = compileCounts(plan)
    for (const platform of FOUR) {
      expect(counts.get(`ginkgo@${platform}`)).toBe(1)
      expect(counts.get(`test/e2e/e2e.test@${platform}`)).toBe(1)
      expect(counts.get(`test/conformance/image/go-runner@${platform}`)).toBe(1)
    }
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      expect(counts.get(`cmd/kubemark@${platform}`)).toBe(1)
      expect(counts.get(`test/e2e_node/e2e_node.test@${platform}`)).toBe(1)
    }
    for (const platform of ['darwin/arm64', 'windows/amd64']) {
      expect(counts.get(`cmd/kubemark@${platform}`)).toBeUndefined()
      expect(counts.get(`test/e2e_node/e2e_node.test@${platform}`)).toBeUndefined()
    }
    expect(counts.size).toBe(4 * 3 + 2 * 2)
    expect(builtAsObject(plan)['darwin/arm64']).toEqual({ test: [...TEST].sort() })
  })

  it('a platform where none of the targets is built is left out of the make all platforms', () => {
    const plan = planBuild(['linux/amd64', 'darwin/arm64'], parseTargets('server'))
    for (const argv of plan.commands) expect(parseMakeAll(argv).platforms).toEqual(['linux/amd64'])
    expect([...plan.built.keys()]).toEqual(['linux/amd64'])
  })

  it('every target of the subset appears in some command, and nothing else', () => {
    const targets = parseTargets('client,kubelet,e2e.test') ?? []
    const plan = planBuild(FOUR, targets)
    const what = plan.commands.flatMap(argv => parseMakeAll(argv).what)
    expect([...what].sort()).toEqual(targets.map(x => x.path).sort())
  })
})

describe('buildCommands', () => {
  // §3.3.5: KUBE_RELEASE_RUN_TESTS runs make test, then make test-integration, after the build.
  it('the plan, then make test and make test-integration when tests are on', () => {
    const plan = planBuild(['linux/amd64'], null)
    expect(buildCommands(plan, true)).toEqual([
      ['make', 'cross'],
      ['make', 'test'],
      ['make', 'test-integration']
    ])
  })

  it('the plan alone when tests are off', () => {
    const plan = planBuild(['linux/amd64'], parseTargets('kubectl'))
    expect(buildCommands(plan, false)).toEqual(plan.commands)
  })
})

describe('planBuild with nothing buildable', () => {
  it.each([
    ['server', ['darwin/arm64']],
    ['node', ['darwin/arm64', 'linux/386']],
    ['kubemark', ['windows/amd64']],
    ['test', ['linux/386', 'windows/386']]
  ])('targets %s on %j throws', (targets, platforms) => {
    expect(() => planBuild(platforms, parseTargets(targets))).toThrow(/nothing to build/)
  })

  it('names the platforms in the error', () => {
    expect(() => planBuild(['darwin/arm64'], parseTargets('server'))).toThrow(/darwin\/arm64/)
  })
})
