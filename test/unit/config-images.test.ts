// The images-only modes and the images beyond the server images (kube-build-flow.md §1.1: make release
// sets KUBE_BUILD_CONFORMANCE=y, release-images leaves it n; §3.5 KUBE_BUILD_WINDOWS; §3.7 DBG and
// KUBE_EXTRA_WHAT), parsed from inputs and upstream's variables.
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { MODES, loadConfig } from '../../src/config.js'
import type { RawInputs } from '../../src/inputs.js'

const FIXTURE_TREE = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/kube-tree')

const load = (raw: RawInputs, env: NodeJS.ProcessEnv = {}) =>
  loadConfig({ source: FIXTURE_TREE, ...raw }, env, FIXTURE_TREE)

describe('loadConfig: conformance and windows images', () => {
  it.each([
    ['release', true],
    ['quick-release', false],
    ['release-images', false],
    ['quick-release-images', false]
  ] as const)(
    'mode %s: conformance image %s by default, windows kube-proxy off',
    async (mode, conformance) => {
      const config = await load({ mode })
      expect(config.images).toEqual({ conformance, windowsKubeProxy: false, extraTargets: [], debug: '' })
    }
  )

  it.each([
    // upstream tests `=~ [yY]`
    ['y', true],
    ['Y', true],
    ['yes', true],
    ['n', false],
    ['no', false],
    ['0', false]
  ])(
    'KUBE_BUILD_CONFORMANCE=%s and KUBE_BUILD_WINDOWS=%s decide when the inputs are empty',
    async (value, on) => {
      for (const mode of MODES) {
        const config = await load({ mode }, { KUBE_BUILD_CONFORMANCE: value, KUBE_BUILD_WINDOWS: value })
        expect([config.images.conformance, config.images.windowsKubeProxy], mode).toEqual([on, on])
      }
    }
  )

  it('the inputs win over the variables', async () => {
    const config = await load(
      { mode: 'release', 'conformance-image': 'false', 'windows-kube-proxy-image': 'true' },
      { KUBE_BUILD_CONFORMANCE: 'y', KUBE_BUILD_WINDOWS: 'n' }
    )
    expect(config.images).toMatchObject({ conformance: false, windowsKubeProxy: true })
  })

  it('a bad value names the input', async () => {
    await expect(load({ 'conformance-image': 'yes' })).rejects.toThrow(
      /input 'conformance-image': 'yes' is not a boolean/
    )
    await expect(load({ 'windows-kube-proxy-image': 'y' })).rejects.toThrow(
      /input 'windows-kube-proxy-image'/
    )
  })

  it('KUBE_EXTRA_WHAT names targets; DBG is 1 or empty', async () => {
    const config = await load(
      { mode: 'quick-release-images' },
      { KUBE_EXTRA_WHAT: 'cmd/kubeadm cmd/kubelet', DBG: '1' }
    )
    expect(config.images.extraTargets.map(t => t.binary)).toEqual(['kubeadm', 'kubelet'])
    expect(config.images.debug).toBe('1')
    await expect(load({}, { KUBE_EXTRA_WHAT: 'cmd/nope' })).rejects.toThrow(/unknown target 'cmd\/nope'/)
    await expect(load({}, { DBG: 'yes' })).rejects.toThrow(/DBG must be 1/)
  })
})

describe('loadConfig: the images-only modes', () => {
  it.each(['release-images', 'quick-release-images'])('%s: no tests by default', async mode => {
    expect((await load({ mode })).runTests).toBe(false)
  })

  it.each([
    [{ 'run-tests': 'true' }, /input 'run-tests': mode 'release-images' builds no tests/],
    [{ 'server-images': 'false' }, /input 'server-images': mode 'release-images' makes only images/],
    [{ phase: 'build' }, /input 'phase': mode 'release-images' runs on one machine/]
  ])('refuses %j', async (inputs, message) => {
    await expect(load({ mode: 'release-images', ...inputs })).rejects.toThrow(message)
  })
})

describe('loadConfig: server-images false leaves out every image', () => {
  it('release: no conformance image, whatever KUBE_BUILD_CONFORMANCE says', async () => {
    const config = await load(
      { mode: 'release', 'server-images': 'false' },
      { KUBE_BUILD_CONFORMANCE: 'y', KUBE_BUILD_WINDOWS: 'y' }
    )
    expect(config.images).toMatchObject({ conformance: false, windowsKubeProxy: false })
  })

  it.each(['conformance-image', 'windows-kube-proxy-image'] as const)(
    '%s: true with it is an error',
    async input => {
      await expect(load({ 'server-images': 'false', [input]: 'true' })).rejects.toThrow(
        `input '${input}': needs server-images: true`
      )
    }
  )
})
