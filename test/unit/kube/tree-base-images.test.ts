// The base images a tree's build/common.sh declares, checked against kube-build-flow.md §3.5:
// common@72d3584 (legacy) and common@0052cca (v1.35+), read from test/fixtures/common-sh.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { CommonSh, readCommonSh } from '../../../src/kube/tree-base-images.js'

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/common-sh')
const LEGACY = readFileSync(join(FIXTURES, 'legacy.sh'), 'utf8')
const CURRENT = readFileSync(join(FIXTURES, 'current.sh'), 'utf8')

const VARIABLES = [
  'KUBE_APISERVER_BASE_IMAGE',
  'KUBE_CONTROLLER_MANAGER_BASE_IMAGE',
  'KUBE_SCHEDULER_BASE_IMAGE',
  'KUBE_PROXY_BASE_IMAGE',
  'KUBECTL_BASE_IMAGE'
]

function values(text: string, env: NodeJS.ProcessEnv = {}): Record<string, string> {
  const sh = new CommonSh(text, env)
  return Object.fromEntries(
    VARIABLES.map(name => {
      const value = sh.value(name)
      if (!value || 'unreadable' in value) throw new Error(`${name}: ${JSON.stringify(value)}`)
      return [name, value.text]
    })
  )
}

const GO_RUNNER_V2_3_1 = 'registry.k8s.io/build-image/go-runner:v2.3.1-go1.22.6-bookworm.0'
const STATIC_DEBIAN13 = 'gcr.io/distroless/static-debian13'

describe('CommonSh: legacy build/common.sh', () => {
  it('go-runner v2.3.1 for four, distroless-iptables v0.5.7 for kube-proxy', () => {
    expect(values(LEGACY)).toEqual({
      KUBE_APISERVER_BASE_IMAGE: GO_RUNNER_V2_3_1,
      KUBE_CONTROLLER_MANAGER_BASE_IMAGE: GO_RUNNER_V2_3_1,
      KUBE_SCHEDULER_BASE_IMAGE: GO_RUNNER_V2_3_1,
      KUBE_PROXY_BASE_IMAGE: 'registry.k8s.io/build-image/distroless-iptables:v0.5.7',
      KUBECTL_BASE_IMAGE: GO_RUNNER_V2_3_1
    })
  })

  it('reads KUBE_GORUNNER_IMAGE and KUBE_BASE_IMAGE_REGISTRY from the environment, and says so', () => {
    const env = { KUBE_GORUNNER_IMAGE: 'example.com/runner:1', KUBE_BASE_IMAGE_REGISTRY: 'mirror.example/bi' }
    const sh = new CommonSh(LEGACY, env)
    expect(sh.value('KUBE_SCHEDULER_BASE_IMAGE')).toEqual({
      text: 'example.com/runner:1',
      fromEnv: new Set(['KUBE_GORUNNER_IMAGE'])
    })
    expect(sh.value('KUBE_PROXY_BASE_IMAGE')).toEqual({
      text: 'mirror.example/bi/distroless-iptables:v0.5.7',
      fromEnv: new Set(['KUBE_BASE_IMAGE_REGISTRY'])
    })
    expect([...sh.consulted]).toEqual(expect.arrayContaining(['KUBE_GORUNNER_IMAGE', ...VARIABLES]))
  })

  it('takes an empty variable as unset (${VAR:-default})', () => {
    expect(values(LEGACY, { KUBE_GORUNNER_IMAGE: '', KUBE_PROXY_BASE_IMAGE: '' })).toEqual(values(LEGACY))
  })

  it('reads no assignment inside a function, and marks lines it cannot read', () => {
    const sh = new CommonSh(LEGACY, {})
    expect(sh.value('USER_ID')).toEqual({ unreadable: expect.stringContaining('$(id -u)') })
    expect(sh.value('KUBE_BUILD_IMAGE_CROSS_TAG')).toHaveProperty('unreadable')
    expect(sh.value('KUBE_BUILD_IMAGE_REPO')).toEqual({ text: 'kube-build', fromEnv: new Set() })
    expect(sh.value('targets')).toBeUndefined()
  })
})

describe('CommonSh: current (v1.35+) build/common.sh', () => {
  const DYNAMIC = 'registry.k8s.io/build-image/distroless-iptables:v0.8.7'

  it('distroless static for the statically linked four, distroless-iptables v0.8.7 for kube-proxy', () => {
    expect(values(CURRENT)).toEqual({
      KUBE_APISERVER_BASE_IMAGE: STATIC_DEBIAN13,
      KUBE_CONTROLLER_MANAGER_BASE_IMAGE: STATIC_DEBIAN13,
      KUBE_SCHEDULER_BASE_IMAGE: STATIC_DEBIAN13,
      KUBE_PROXY_BASE_IMAGE: DYNAMIC,
      KUBECTL_BASE_IMAGE: STATIC_DEBIAN13
    })
  })

  it('a command built with cgo (KUBE_CGO_OVERRIDES) gets the dynamic base', () => {
    const env = { KUBE_CGO_OVERRIDES: 'kubelet kube-scheduler' }
    expect(values(CURRENT, env).KUBE_SCHEDULER_BASE_IMAGE).toBe(DYNAMIC)
    expect(values(CURRENT, env).KUBE_APISERVER_BASE_IMAGE).toBe(STATIC_DEBIAN13)
  })

  it('ignores KUBE_GORUNNER_IMAGE, a constant there, and does not count it as read', () => {
    const sh = new CommonSh(CURRENT, { KUBE_GORUNNER_IMAGE: 'example.com/runner:1' })
    expect(sh.value('KUBECTL_BASE_IMAGE')).toEqual({ text: STATIC_DEBIAN13, fromEnv: new Set() })
    expect(sh.consulted.has('KUBE_GORUNNER_IMAGE')).toBe(false)
  })

  it('a per-binary variable still wins, as ${VAR:-…} reads it', () => {
    const sh = new CommonSh(CURRENT, { KUBECTL_BASE_IMAGE: 'example.com/kubectl-base:1' })
    expect(sh.value('KUBECTL_BASE_IMAGE')).toEqual({
      text: 'example.com/kubectl-base:1',
      fromEnv: new Set(['KUBECTL_BASE_IMAGE'])
    })
  })

  it('does not run a function it does not know', () => {
    const text = CURRENT.replace('if kube::golang::is_statically_linked "$1"; then', 'if true; then')
    const value = new CommonSh(text, {}).value('KUBE_APISERVER_BASE_IMAGE')
    expect(value).toEqual({ unreadable: expect.stringContaining('__default_base_image is not the function') })
  })
})

describe('readCommonSh', () => {
  let root: string | undefined
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('null for a tree without build/common.sh; the parsed file otherwise', async () => {
    root = await mkdtemp(join(tmpdir(), 'kube-common-sh-'))
    expect(await readCommonSh(root, {})).toBeNull()
    await mkdir(join(root, 'build'))
    await writeFile(join(root, 'build/common.sh'), CURRENT)
    expect((await readCommonSh(root, {}))?.value('KUBECTL_BASE_IMAGE')).toEqual({
      text: STATIC_DEBIAN13,
      fromEnv: new Set()
    })
  })
})
