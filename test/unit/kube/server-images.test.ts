// The server images of create_docker_images_for_server, checked against kube-build-flow.md §3.5
// (binaries, Dockerfiles, tags, base images of common@72d3584 and common@0052cca) and §5 (the five
// image archives).
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CommonSh } from '../../../src/kube/tree-base-images.js'
import {
  CAP_NET_BIND_SERVICE,
  DEFAULT_GORUNNER_IMAGE,
  DEFAULT_KUBE_PROXY_BASE_IMAGE,
  SERVER_IMAGE_BINARIES,
  baseImage,
  dockerTag,
  serverImageSpecs,
  serverImageTags,
  unreadBaseImageVariables,
  type ServerImageBinary
} from '../../../src/kube/server-images.js'
import { ReleaseError } from '../../../src/errors.js'

const GO_RUNNER_BINARIES: ServerImageBinary[] = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl'
]

describe('dockerTag', () => {
  it.each([
    ['v1.31.0+abc', 'v1.31.0_abc'],
    ['v1.35.0-alpha.1.149+e21082468a3b49', 'v1.35.0-alpha.1.149_e21082468a3b49'],
    ['v1.31.2-42+abcdefabcdef01-dirty', 'v1.31.2-42_abcdefabcdef01-dirty'],
    ['v1.2.3', 'v1.2.3'],
    // Only the first `+`, as upstream's ${KUBE_GIT_VERSION/+/_}.
    ['v1.0.0+a+b', 'v1.0.0_a+b']
  ])('%s → %s', (version, tag) => {
    expect(dockerTag(version)).toBe(tag)
  })

  it('refuses an empty version with upstream`s message', () => {
    expect(() => dockerTag('')).toThrow(
      new ReleaseError('git version information missing; cannot create Docker tag')
    )
  })
})

describe('serverImageTags', () => {
  it('tags registry.k8s.io/<bin>-<arch>:<docker tag> only, when the extra tag would be the same', () => {
    expect(serverImageTags('kube-apiserver', 'arm64', 'v1.31.0+abc', {})).toEqual([
      'registry.k8s.io/kube-apiserver-arm64:v1.31.0_abc'
    ])
    const same = { KUBE_DOCKER_REGISTRY: 'registry.k8s.io', KUBE_DOCKER_IMAGE_TAG: 'v1.31.0_abc' }
    expect(serverImageTags('kube-apiserver', 'arm64', 'v1.31.0+abc', same)).toHaveLength(1)
  })

  it.each([
    [{ KUBE_DOCKER_REGISTRY: 'gcr.io/my-project' }, 'gcr.io/my-project/kube-proxy-amd64:v1.31.0_abc'],
    [{ KUBE_DOCKER_REGISTRY: 'localhost:5000' }, 'localhost:5000/kube-proxy-amd64:v1.31.0_abc'],
    [{ KUBE_DOCKER_IMAGE_TAG: 'latest' }, 'registry.k8s.io/kube-proxy-amd64:latest'],
    [
      { KUBE_DOCKER_REGISTRY: 'example.com/k8s', KUBE_DOCKER_IMAGE_TAG: 'ci' },
      'example.com/k8s/kube-proxy-amd64:ci'
    ]
  ])('adds the extra tag of %j', (env, extra) => {
    expect(serverImageTags('kube-proxy', 'amd64', 'v1.31.0+abc', env)).toEqual([
      'registry.k8s.io/kube-proxy-amd64:v1.31.0_abc',
      extra
    ])
  })

  it.each([
    [{ KUBE_DOCKER_REGISTRY: '' }, /KUBE_DOCKER_REGISTRY is set but empty/],
    [{ KUBE_DOCKER_IMAGE_TAG: '' }, /KUBE_DOCKER_IMAGE_TAG is set but empty/],
    [
      { KUBE_DOCKER_REGISTRY: 'Example.com/UPPER' },
      /invalid image reference 'Example.com\/UPPER\/kubectl-amd64/
    ],
    [{ KUBE_DOCKER_IMAGE_TAG: 'no spaces' }, /invalid image reference .*KUBE_DOCKER_IMAGE_TAG/]
  ])('rejects %j with a clear error', (env, message) => {
    expect(() => serverImageTags('kubectl', 'amd64', 'v1.31.0', env)).toThrow(message)
  })

  it('rejects a version whose tag keeps a second +', () => {
    expect(() => serverImageTags('kubectl', 'amd64', 'v1.0.0+a+b', {})).toThrow(
      /invalid image reference 'registry.k8s.io\/kubectl-amd64:v1.0.0_a\+b' \(from the version\)/
    )
  })

  it('refuses an empty version before anything else', () => {
    expect(() => serverImageTags('kubectl', 'amd64', '', { KUBE_DOCKER_REGISTRY: '' })).toThrow(
      'git version information missing'
    )
  })
})

describe('baseImage', () => {
  it('defaults to go-runner, and distroless-iptables for kube-proxy', () => {
    for (const binary of GO_RUNNER_BINARIES) expect(baseImage(binary, {}).image).toBe(DEFAULT_GORUNNER_IMAGE)
    expect(baseImage('kube-proxy', {}).image).toBe(DEFAULT_KUBE_PROXY_BASE_IMAGE)
    expect(DEFAULT_GORUNNER_IMAGE).toBe('registry.k8s.io/build-image/go-runner:v2.3.1-go1.22.6-bookworm.0')
    expect(DEFAULT_KUBE_PROXY_BASE_IMAGE).toBe('registry.k8s.io/build-image/distroless-iptables:v0.5.7')
  })

  it('takes KUBE_GORUNNER_IMAGE for all but kube-proxy', () => {
    const env = { KUBE_GORUNNER_IMAGE: 'example.com/go-runner:v1' }
    for (const binary of GO_RUNNER_BINARIES)
      expect(baseImage(binary, env).image).toBe('example.com/go-runner:v1')
    expect(baseImage('kube-proxy', env).image).toBe(DEFAULT_KUBE_PROXY_BASE_IMAGE)
  })

  it.each([
    ['kube-apiserver', 'KUBE_APISERVER_BASE_IMAGE'],
    ['kube-controller-manager', 'KUBE_CONTROLLER_MANAGER_BASE_IMAGE'],
    ['kube-scheduler', 'KUBE_SCHEDULER_BASE_IMAGE'],
    ['kube-proxy', 'KUBE_PROXY_BASE_IMAGE'],
    ['kubectl', 'KUBECTL_BASE_IMAGE']
  ] as const)('takes %s`s own %s over KUBE_GORUNNER_IMAGE, for it only', (binary, variable) => {
    const env = { KUBE_GORUNNER_IMAGE: 'example.com/go-runner:v1', [variable]: 'example.com/own:v2' }
    for (const other of SERVER_IMAGE_BINARIES) {
      const expected =
        other === binary
          ? 'example.com/own:v2'
          : other === 'kube-proxy'
            ? DEFAULT_KUBE_PROXY_BASE_IMAGE
            : 'example.com/go-runner:v1'
      expect(baseImage(other, env).image).toBe(expected)
    }
  })

  it('treats empty variables as unset, as ${VAR:-default} does', () => {
    const env = { KUBE_GORUNNER_IMAGE: '', KUBE_APISERVER_BASE_IMAGE: '', KUBE_PROXY_BASE_IMAGE: '' }
    expect(baseImage('kube-apiserver', env).image).toBe(DEFAULT_GORUNNER_IMAGE)
    expect(baseImage('kube-proxy', env).image).toBe(DEFAULT_KUBE_PROXY_BASE_IMAGE)
  })

  it('lets the action inputs win over every variable', () => {
    const env = {
      KUBE_GORUNNER_IMAGE: 'example.com/env-go-runner:v1',
      KUBE_APISERVER_BASE_IMAGE: 'example.com/env-apiserver:v1',
      KUBE_PROXY_BASE_IMAGE: 'example.com/env-proxy:v1'
    }
    const options = {
      goRunnerImage: 'example.com/input-go-runner:v2',
      kubeProxyBaseImage: 'example.com/input-proxy:v2'
    }
    for (const binary of GO_RUNNER_BINARIES) {
      expect(baseImage(binary, env, options).image).toBe('example.com/input-go-runner:v2')
    }
    expect(baseImage('kube-proxy', env, options).image).toBe('example.com/input-proxy:v2')
  })

  it('treats empty inputs as not given', () => {
    const env = { KUBE_APISERVER_BASE_IMAGE: 'example.com/env-apiserver:v1' }
    const options = { goRunnerImage: '', kubeProxyBaseImage: '' }
    expect(baseImage('kube-apiserver', env, options).image).toBe('example.com/env-apiserver:v1')
    expect(baseImage('kube-proxy', env, options).image).toBe(DEFAULT_KUBE_PROXY_BASE_IMAGE)
  })
})

const COMMON_SH = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/common-sh')
const commonSh = (name: 'legacy' | 'current', env: NodeJS.ProcessEnv = {}): CommonSh =>
  new CommonSh(readFileSync(join(COMMON_SH, `${name}.sh`), 'utf8'), env)

describe('baseImage from the tree', () => {
  const DISTROLESS_STATIC = 'gcr.io/distroless/static-debian13'
  const IPTABLES_V0_8_7 = 'registry.k8s.io/build-image/distroless-iptables:v0.8.7'

  it('a current tree: distroless static and distroless-iptables v0.8.7, from its common.sh', () => {
    const tree = commonSh('current')
    for (const binary of GO_RUNNER_BINARIES) {
      expect(baseImage(binary, {}, {}, tree)).toEqual({
        image: DISTROLESS_STATIC,
        origin: { kind: 'tree', variables: [] }
      })
    }
    expect(baseImage('kube-proxy', {}, {}, tree)).toEqual({
      image: IPTABLES_V0_8_7,
      origin: { kind: 'tree', variables: [] }
    })
  })

  it('a legacy tree: go-runner and distroless-iptables v0.5.7, as the built-in defaults', () => {
    const tree = commonSh('legacy')
    expect(baseImage('kubectl', {}, {}, tree).image).toBe(DEFAULT_GORUNNER_IMAGE)
    expect(baseImage('kube-proxy', {}, {}, tree).image).toBe(DEFAULT_KUBE_PROXY_BASE_IMAGE)
  })

  it('names the variable the tree read the image from', () => {
    const env = { KUBE_GORUNNER_IMAGE: 'example.com/runner:1', KUBE_PROXY_BASE_IMAGE: 'example.com/proxy:1' }
    const tree = commonSh('legacy', env)
    expect(baseImage('kube-scheduler', env, {}, tree)).toEqual({
      image: 'example.com/runner:1',
      origin: { kind: 'tree', variables: ['KUBE_GORUNNER_IMAGE'] }
    })
    expect(baseImage('kube-proxy', env, {}, tree)).toEqual({
      image: 'example.com/proxy:1',
      origin: { kind: 'variable', name: 'KUBE_PROXY_BASE_IMAGE' }
    })
  })

  it('an input wins over the tree', () => {
    const choice = baseImage('kube-apiserver', {}, { goRunnerImage: 'example.com/in:1' }, commonSh('current'))
    expect(choice).toEqual({ image: 'example.com/in:1', origin: { kind: 'input' } })
  })

  it('falls back to the variables, then the built-in default, saying why, when the tree does not set it', () => {
    const tree = new CommonSh('readonly KUBE_APISERVER_BASE_IMAGE=$(pick-one)\n', {})
    expect(baseImage('kube-apiserver', { KUBE_GORUNNER_IMAGE: 'example.com/r:1' }, {}, tree)).toEqual({
      image: 'example.com/r:1',
      origin: { kind: 'variable', name: 'KUBE_GORUNNER_IMAGE' }
    })
    expect(baseImage('kube-apiserver', {}, {}, tree)).toEqual({
      image: DEFAULT_GORUNNER_IMAGE,
      origin: {
        kind: 'default',
        reason: expect.stringMatching(/^build\/common.sh sets KUBE_APISERVER_BASE_IMAGE=\$\(pick-one\)/)
      }
    })
    expect(baseImage('kube-proxy', {}, {}, tree)).toEqual({
      image: DEFAULT_KUBE_PROXY_BASE_IMAGE,
      origin: { kind: 'default', reason: 'build/common.sh does not set KUBE_PROXY_BASE_IMAGE' }
    })
  })
})

describe('unreadBaseImageVariables', () => {
  it('KUBE_GORUNNER_IMAGE set for a current tree, which never reads it', () => {
    const env = { KUBE_GORUNNER_IMAGE: 'example.com/runner:1', KUBECTL_BASE_IMAGE: 'example.com/k:1' }
    expect(unreadBaseImageVariables(env, commonSh('current', env))).toEqual(['KUBE_GORUNNER_IMAGE'])
    expect(unreadBaseImageVariables(env, commonSh('legacy', env))).toEqual([])
  })
})

const NO_TREE = { kind: 'default', reason: 'the tree has no build/common.sh' }

describe('serverImageSpecs', () => {
  it('places the five binaries as build/server-image/*/Dockerfile do', () => {
    expect(serverImageSpecs({})).toEqual([
      {
        binary: 'kube-apiserver',
        baseImage: DEFAULT_GORUNNER_IMAGE,
        baseImageOrigin: NO_TREE,
        imagePath: '/usr/local/bin/kube-apiserver',
        capabilities: [CAP_NET_BIND_SERVICE]
      },
      {
        binary: 'kube-controller-manager',
        baseImage: DEFAULT_GORUNNER_IMAGE,
        baseImageOrigin: NO_TREE,
        imagePath: '/usr/local/bin/kube-controller-manager'
      },
      {
        binary: 'kube-scheduler',
        baseImage: DEFAULT_GORUNNER_IMAGE,
        baseImageOrigin: NO_TREE,
        imagePath: '/usr/local/bin/kube-scheduler'
      },
      {
        binary: 'kube-proxy',
        baseImage: DEFAULT_KUBE_PROXY_BASE_IMAGE,
        baseImageOrigin: NO_TREE,
        imagePath: '/usr/local/bin/kube-proxy'
      },
      {
        binary: 'kubectl',
        baseImage: DEFAULT_GORUNNER_IMAGE,
        baseImageOrigin: NO_TREE,
        imagePath: '/bin/kubectl',
        entrypoint: ['/bin/kubectl']
      }
    ])
    expect(CAP_NET_BIND_SERVICE).toBe(10)
  })

  it('passes the environment and the inputs to every base image', () => {
    const specs = serverImageSpecs(
      { KUBECTL_BASE_IMAGE: 'example.com/kubectl-base:v1' },
      { kubeProxyBaseImage: 'p:1' }
    )
    expect(Object.fromEntries(specs.map(s => [s.binary, s.baseImage]))).toEqual({
      'kube-apiserver': DEFAULT_GORUNNER_IMAGE,
      'kube-controller-manager': DEFAULT_GORUNNER_IMAGE,
      'kube-scheduler': DEFAULT_GORUNNER_IMAGE,
      'kube-proxy': 'p:1',
      kubectl: 'example.com/kubectl-base:v1'
    })
  })
})
