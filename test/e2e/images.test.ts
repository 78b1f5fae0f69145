// make quick-release-images on the real engine, with the conformance image and the windows kube-proxy:
// only image archives, the conformance image from the fixture's test/conformance/image (its
// Makefile's RUNNERIMAGE), the windows image on a stand-in Windows base from the local registry.
// `docker load` takes the linux archives; a Linux engine refuses every Windows image, so the windows
// archive is loaded by Podman into a store of the test's own.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBaseImages, type BaseImages } from './base-images.js'
import { binaryPlatform, cleanTree, fixtureTree, gitDescribe, runCli, type Result } from './helpers.js'
import { checkRelease, engineArch } from './release-check.js'
import { pythonTarList } from '../unit/archive/readers.js'

const run = promisify(execFile)
const MAX_BUFFER = 256 << 20
const WINDOWS_BUILD = '10.0.17763.1'
const HPC_BASE = 'oss/kubernetes/windows-host-process-containers-base-image'

let bases: BaseImages
let tree: string
let result: Result
let tag: string
const arch = engineArch()
const imagesDir = (): string => join(tree, '_output/release-images')

/** Podman with a store of its own, so nothing of the machine's containers is touched. */
async function podman(store: string, ...args: string[]): Promise<string> {
  const flags = ['--root', join(store, 'root'), '--runroot', join(store, 'run'), '--storage-driver', 'vfs']
  return (await run('podman', [...flags, ...args], { maxBuffer: MAX_BUFFER })).stdout.trim()
}

beforeAll(async () => {
  if (!existsSync('/usr/bin/podman')) await run('apt-get', ['install', '-y', '-qq', 'podman'])
  bases = await startBaseImages()
  await bases.registry.push(HPC_BASE, 'v1.0.0', [
    {
      os: 'windows',
      arch: 'amd64',
      osVersion: WINDOWS_BUILD,
      files: [
        { path: 'Files/License.txt', content: 'stand-in\n' },
        { path: 'Hives/DefaultUser_Delta', content: '' }
      ]
    }
  ])
  tree = await fixtureTree('v1.31.0')
  tag = gitDescribe(tree).replace('+', '_')
  result = await runCli(
    [
      '--source',
      tree,
      '--mode',
      'quick-release-images',
      '--conformance-image',
      'true',
      '--windows-kube-proxy-image',
      'true',
      ...bases.args
    ],
    {
      // The fixture's Makefile: RUNNERIMAGE ?= ${KUBE_BASE_IMAGE_REGISTRY}/build-image/debian-base-${ARCH}:…
      ...bases.env,
      KUBE_PROXY_WINDOWS_BASE_IMAGE: `${bases.registry.host}/${HPC_BASE}:v1.0.0`
    }
  )
})

const trees: string[] = []
afterAll(async () => {
  for (const built of [tree, ...trees]) if (built) await cleanTree(built)
  await bases?.close()
})

describe('quick-release-images', () => {
  it('writes only image archives: the server images, conformance and windows kube-proxy, no tarballs', async () => {
    expect(result.code, result.stderr + result.stdout.slice(-3000)).toBe(0)
    expect(existsSync(join(tree, '_output/release-tars'))).toBe(false)
    const server = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubectl']
    const expected = new Map([[arch, [...server.map(b => `${b}.tar`), `conformance-${arch}.tar`]]])
    expected.set('amd64', [...(expected.get('amd64') ?? []), 'kube-proxy.exe.tar'])
    for (const [dir, files] of expected)
      expect(await readdir(join(imagesDir(), dir))).toEqual([...files].sort())
    // Built for the server platform and windows/amd64 only, nothing else.
    expect(await readdir(join(tree, '_output/dockerized/bin/linux'))).toEqual([arch])
    expect(await readdir(join(tree, '_output/dockerized/bin/windows/amd64'))).toEqual(['kube-proxy.exe'])
    expect(result.stdout).toMatch(/image archives:\n/)
    expect(result.stdout).toContain(`registry.k8s.io/conformance-${arch}:${tag}`)
    expect(result.stdout).toContain(`registry.k8s.io/kube-proxy-windows-amd64:${tag}`)
  })

  it('the conformance image: docker load gives its tag, on the Makefile`s RUNNERIMAGE, with the binaries and cluster/', async () => {
    const ref = `registry.k8s.io/conformance-${arch}:${tag}`
    const { stdout } = await run('docker', ['load', '-i', join(imagesDir(), arch, `conformance-${arch}.tar`)])
    expect(stdout).toContain(`Loaded image: ${ref}`)
    const container = (await run('docker', ['create', ref])).stdout.trim()
    try {
      const [image] = JSON.parse((await run('docker', ['image', 'inspect', ref])).stdout)
      expect(image).toMatchObject({ Os: 'linux', Architecture: arch })
      expect(image.Config.Entrypoint).toEqual(['kubeconformance'])
      expect(image.Config.Env).toEqual(
        expect.arrayContaining(['E2E_FOCUS=\\[Conformance\\]', 'E2E_SKIP=', 'RESULTS_DIR=/tmp/results'])
      )
      const exported = join(await mkdtemp(join(tmpdir(), 'conformance-')), 'fs.tar')
      await writeFile(
        exported,
        (await run('docker', ['export', container], { encoding: 'buffer', maxBuffer: MAX_BUFFER })).stdout
      )
      const files = new Map(pythonTarList(exported, 'r:', { content: false }).map(m => [m.name, m]))
      // The stand-in debian-base of the Makefile's RUNNERIMAGE for this architecture.
      expect(files.has('etc/debian-base-arch')).toBe(true)
      expect(files.has('kubernetes/cluster/get-kube-binaries.sh')).toBe(true)
      for (const path of ['ginkgo', 'e2e.test', 'kubectl', 'kubeconformance'].map(b => `usr/local/bin/${b}`))
        expect((files.get(path)?.mode ?? 0) & 0o7777).toBe(0o755)
      for (const path of ['run_e2e.sh', 'gorunner']) expect(files.has(path)).toBe(true)
      // The binaries run from the image and carry the build's version.
      for (const binary of ['kubectl', 'kubeconformance']) {
        const printed = await run('docker', [
          'run',
          '--rm',
          '--entrypoint',
          `/usr/local/bin/${binary}`,
          ref,
          '--version'
        ])
        expect(printed.stdout).toContain(gitDescribe(tree))
      }
      await rm(join(exported, '..'), { recursive: true, force: true })
    } finally {
      await run('docker', ['rm', '-f', container])
      await run('docker', ['rmi', '-f', ref])
    }
  })

  it('the windows kube-proxy: a Windows image Podman loads with its tag, on the stand-in base`s os.version', async () => {
    const archive = join(imagesDir(), 'amd64', 'kube-proxy.exe.tar')
    // Podman wants a short run root: not under the suite's temporary directory.
    const store = await mkdtemp('/tmp/kre-podman-')
    try {
      const ref = `registry.k8s.io/kube-proxy-windows-amd64:${tag}`
      expect(await podman(store, 'load', '-i', archive)).toContain(ref)
      const [image] = JSON.parse(await podman(store, 'image', 'inspect', ref))
      expect(image).toMatchObject({ Os: 'windows', Architecture: 'amd64' })
      expect(image.Config.Entrypoint).toEqual(['c:/hpc/kube-proxy/kube-proxy.exe'])
    } finally {
      await run('podman', [
        '--root',
        join(store, 'root'),
        '--runroot',
        join(store, 'run'),
        '--storage-driver',
        'vfs',
        'system',
        'reset',
        '-f'
      ]).catch(() => undefined)
      await rm(store, { recursive: true, force: true })
    }
    const members = new Map(pythonTarList(archive, 'r:').map(m => [m.name, m]))
    const [{ Config, Layers }] = JSON.parse(
      Buffer.from(members.get('manifest.json')!.contentHex!, 'hex').toString()
    )
    const config = JSON.parse(Buffer.from(members.get(Config)!.contentHex!, 'hex').toString())
    expect(config).toMatchObject({ os: 'windows', architecture: 'amd64', 'os.version': WINDOWS_BUILD })
    const layer = join(await mkdtemp(join(tmpdir(), 'windows-layer-')), 'layer.tar')
    await writeFile(layer, Buffer.from(members.get(Layers.at(-1))!.contentHex!, 'hex'))
    const layerMembers = pythonTarList(layer, 'r:')
    expect(layerMembers.map(m => m.name)).toEqual([
      'Hives/',
      'Files/',
      'Files/kube-proxy/',
      'Files/kube-proxy/kube-proxy.exe'
    ])
    const binary = layerMembers.at(-1)!
    expect(binary.pax).toMatchObject({ 'MSWINDOWS.fileattr': Buffer.from('32').toString('hex') })
    const extracted = join(layer, '..', 'kube-proxy.exe')
    await writeFile(extracted, Buffer.from(binary.contentHex!, 'hex'))
    expect(await binaryPlatform(extracted)).toBe('windows/amd64')
    expect(
      Buffer.from(binary.contentHex!, 'hex').equals(
        await readFile(join(tree, '_output/dockerized/bin/windows/amd64/kube-proxy.exe'))
      )
    ).toBe(true)
    await rm(join(layer, '..'), { recursive: true, force: true })
  })
})

describe('quick-release with the conformance and windows images', () => {
  it('writes them to release-images only: the tarballs are those of a quick-release', async () => {
    const release = await fixtureTree('v1.31.0')
    trees.push(release)
    const built = await runCli(
      [
        '--source',
        release,
        '--mode',
        'quick-release',
        '--workspace',
        'bind',
        '--conformance-image',
        'true',
        '--windows-kube-proxy-image',
        'true',
        ...bases.args
      ],
      { ...bases.env, KUBE_PROXY_WINDOWS_BASE_IMAGE: `${bases.registry.host}/${HPC_BASE}:v1.0.0` }
    )
    expect(built.code, built.stderr + built.stdout.slice(-3000)).toBe(0)
    // No windows node tarball, no image archive beyond the five in the server tarball.
    await checkRelease(release, {
      platforms: [`linux/${arch}`],
      version: gitDescribe(release),
      images: true,
      full: true
    })
    const images = join(release, '_output/release-images')
    expect(await readdir(join(images, arch))).toContain(`conformance-${arch}.tar`)
    expect(await readdir(join(images, 'amd64'))).toContain('kube-proxy.exe.tar')
  })
})
