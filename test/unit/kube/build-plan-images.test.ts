// The build plan when images need binaries of their own (kube-build-flow.md §4
// KUBE_CONFORMANCE_IMAGE_TARGETS, KUBE_SERVER_IMAGE_TARGETS) and the images-only modes (§3.7:
// build/release-images.sh's make all, plus kube-proxy for windows/amd64 with KUBE_BUILD_WINDOWS).
import { describe, expect, it } from 'vitest'
import { planBuild, planImagesBuild } from '../../../src/kube/build-plan.js'
import { parseTargets } from '../../../src/kube/targets.js'

const CONFORMANCE = ['ginkgo', 'test/e2e/e2e.test', 'test/conformance/image/go-runner', 'cmd/kubectl']
const SERVER_IMAGES = [
  'cmd/kube-apiserver',
  'cmd/kube-controller-manager',
  'cmd/kube-scheduler',
  'cmd/kube-proxy',
  'cmd/kubectl'
]
const ON = { conformance: true, windowsKubeProxy: true }
const groups = (plan: ReturnType<typeof planBuild>, platform: string) =>
  Object.fromEntries(plan.built.get(platform) ?? new Map())

describe('planBuild with images', () => {
  it('make cross already builds what conformance needs; windows/amd64 kube-proxy is one more make all', () => {
    const plan = planBuild(['linux/amd64', 'linux/arm64'], null, ON)
    expect(plan.commands).toEqual([
      ['make', 'cross'],
      ['make', 'all', 'WHAT=cmd/kube-proxy', 'KUBE_BUILD_PLATFORMS=windows/amd64']
    ])
    expect(groups(plan, 'windows/amd64')).toEqual({ images: ['kube-proxy'] })
    expect(groups(plan, 'linux/amd64').images).toBeUndefined()
  })

  it('a release with windows/amd64 builds its kube-proxy in make cross: nothing more', () => {
    const plan = planBuild(['linux/amd64', 'windows/amd64'], null, ON)
    expect(plan.commands).toEqual([['make', 'cross']])
    expect(groups(plan, 'windows/amd64').images).toBeUndefined()
  })

  it('targets that leave out the conformance binaries get them built for the linux server platforms', () => {
    const plan = planBuild(['linux/amd64', 'darwin/arm64'], parseTargets('kube-apiserver'), {
      conformance: true,
      windowsKubeProxy: false
    })
    expect(groups(plan, 'linux/amd64')).toEqual({
      server: ['kube-apiserver'],
      images: ['ginkgo', 'e2e.test', 'go-runner', 'kubectl']
    })
    expect(plan.built.has('darwin/arm64')).toBe(false)
    expect(plan.commands).toEqual([
      ['make', 'all', `WHAT=cmd/kube-apiserver ${CONFORMANCE.join(' ')}`, 'KUBE_BUILD_PLATFORMS=linux/amd64']
    ])
  })

  it('no images: the plan of before', () => {
    expect(planBuild(['linux/amd64'], null)).toEqual(
      planBuild(['linux/amd64'], null, { conformance: false, windowsKubeProxy: false })
    )
    expect(planBuild(['linux/amd64'], null).commands).toEqual([['make', 'cross']])
  })
})

describe('planImagesBuild (build/release-images.sh)', () => {
  const options = { conformance: false, windowsKubeProxy: false, extraTargets: [], debug: '' }

  it('the server image targets for the linux server platforms in one make all, with DBG', () => {
    const plan = planImagesBuild(['linux/amd64', 'linux/arm64', 'darwin/arm64', 'linux/386'], {
      ...options,
      debug: '1'
    })
    expect(plan.commands).toEqual([
      [
        'make',
        'all',
        `WHAT=${SERVER_IMAGES.join(' ')}`,
        'KUBE_BUILD_PLATFORMS=linux/amd64 linux/arm64',
        'DBG=1'
      ]
    ])
    expect(plan.platforms).toEqual(['linux/amd64', 'linux/arm64'])
    expect(groups(plan, 'linux/arm64')).toEqual({
      server: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'],
      client: ['kubectl']
    })
  })

  it('plus the conformance targets, KUBE_EXTRA_WHAT, and kube-proxy for windows/amd64', () => {
    const plan = planImagesBuild(['linux/amd64'], {
      ...ON,
      extraTargets: parseTargets('cmd/kubeadm kubectl')!,
      debug: ''
    })
    expect(plan.commands).toEqual([
      [
        'make',
        'all',
        `WHAT=${[...SERVER_IMAGES, ...CONFORMANCE.slice(0, 3), 'cmd/kubeadm'].join(' ')}`,
        'KUBE_BUILD_PLATFORMS=linux/amd64',
        'DBG='
      ],
      ['make', 'all', 'WHAT=cmd/kube-proxy', 'KUBE_BUILD_PLATFORMS=windows/amd64']
    ])
    expect(plan.platforms).toEqual(['linux/amd64', 'windows/amd64'])
    expect(groups(plan, 'linux/amd64').images).toEqual(['ginkgo', 'e2e.test', 'go-runner', 'kubeadm'])
  })

  it('no linux server platform: an error naming them', () => {
    expect(() => planImagesBuild(['darwin/arm64'], options)).toThrow(
      /no linux server platform among darwin\/arm64/
    )
  })
})
