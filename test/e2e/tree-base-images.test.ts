// Base images that follow the tree (kube-build-flow.md §3.5): with no input naming one, a legacy-style
// build/common.sh gives go-runner and distroless-iptables v0.5.7, a current-style one distroless static
// and distroless-iptables v0.8.7. Stand-ins of those images are served by the local registry under the
// names the common.sh files compute (KUBE_BASE_IMAGE_REGISTRY points there; the current file's
// distroless constant is rewritten to the registry's host).
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRegistry, type Registry } from '../helpers/registry.js'
import { REPO_ROOT, cleanedFixtureTrees, runCli } from './helpers.js'
import { engineArch } from './release-check.js'

const run = promisify(execFile)

let registry: Registry
const tree = cleanedFixtureTrees()
beforeAll(async () => {
  registry = await startRegistry()
  const arch = engineArch()
  for (const [repository, tag] of [
    ['build-image/go-runner', 'v2.3.1-go1.22.6-bookworm.0'],
    ['build-image/distroless-iptables', 'v0.5.7'],
    ['build-image/distroless-iptables', 'v0.8.7'],
    ['distroless/static-debian13', 'latest']
  ]) {
    await registry.push(repository, tag, [
      { os: 'linux', arch, files: [{ path: 'etc/base-image', content: `${repository}:${tag}\n` }] }
    ])
  }
})
afterAll(async () => {
  await registry?.close()
  for (const id of registry?.imageIds ?? []) await run('docker', ['rmi', '-f', id]).catch(() => undefined)
})

/** The content of etc/base-image in the lowest layer of a docker-archive: which base it was built on. */
async function baseOf(archive: string): Promise<string> {
  const { stdout } = await run('bash', [
    '-o',
    'pipefail',
    '-c',
    'layer=$(tar -xOf "$1" manifest.json | python3 -c "import json,sys; print(json.load(sys.stdin)[0][\\"Layers\\"][0])") && tar -xOf "$1" "$layer" | tar -xOf - etc/base-image',
    '_',
    archive
  ])
  return stdout.trim()
}

async function releaseWith(commonSh: string): Promise<{ stdout: string; images: string }> {
  const dir = await tree()
  await writeFile(join(dir, 'build/common.sh'), commonSh)
  const result = await runCli(
    ['--source', dir, '--mode', 'quick-release', '--targets', 'kube-apiserver,kube-proxy'],
    {
      KUBE_BASE_IMAGE_REGISTRY: `${registry.host}/build-image`
    }
  )
  expect(result.code, result.stderr).toBe(0)
  return { stdout: result.stdout, images: join(dir, '_output/release-images', engineArch()) }
}

const fixture = (name: string): Promise<string> =>
  readFile(join(REPO_ROOT, 'test/fixtures/common-sh', `${name}.sh`), 'utf8')

describe('server images on the bases of the tree', () => {
  it('a legacy-style build/common.sh: go-runner and distroless-iptables v0.5.7', async () => {
    const { stdout, images } = await releaseWith(await fixture('legacy'))
    const from = "(from the tree's build/common.sh, with KUBE_BASE_IMAGE_REGISTRY)"
    expect(stdout).toContain(
      `kube-apiserver: base image ${registry.host}/build-image/go-runner:v2.3.1-go1.22.6-bookworm.0 ${from}`
    )
    expect(stdout).toContain(
      `kube-proxy: base image ${registry.host}/build-image/distroless-iptables:v0.5.7 ${from}`
    )
    expect(await baseOf(join(images, 'kube-apiserver.tar'))).toBe(
      'build-image/go-runner:v2.3.1-go1.22.6-bookworm.0'
    )
    expect(await baseOf(join(images, 'kube-proxy.tar'))).toBe('build-image/distroless-iptables:v0.5.7')
  })

  it('a current-style build/common.sh: distroless static and distroless-iptables v0.8.7', async () => {
    const current = (await fixture('current')).replace('gcr.io/', `${registry.host}/`)
    const { stdout, images } = await releaseWith(current)
    expect(stdout).toContain(
      `kube-apiserver: base image ${registry.host}/distroless/static-debian13 (from the tree's build/common.sh)`
    )
    expect(stdout).toContain(
      `kube-proxy: base image ${registry.host}/build-image/distroless-iptables:v0.8.7 (from the tree's build/common.sh, with KUBE_BASE_IMAGE_REGISTRY)`
    )
    expect(await baseOf(join(images, 'kube-apiserver.tar'))).toBe('distroless/static-debian13:latest')
    expect(await baseOf(join(images, 'kube-proxy.tar'))).toBe('build-image/distroless-iptables:v0.8.7')
  })
})
