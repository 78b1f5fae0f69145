// Stand-ins for the server images' base images (go-runner, distroless-iptables) and the conformance
// image's (the fixture Makefile's debian-base RUNNERIMAGE), served for every server architecture by
// the local registry, so builds pull them the way they would upstream's.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { startRegistry, type PlatformImage, type Registry } from '../helpers/registry.js'

const run = promisify(execFile)

const SERVER_ARCHES = ['amd64', 'arm64', 's390x', 'ppc64le']

export interface BaseImages {
  readonly registry: Registry
  readonly goRunner: string
  readonly kubeProxyBase: string
  /** CLI flags naming them. */
  readonly args: string[]
  /** The environment naming the conformance base (the fixture Makefile reads KUBE_BASE_IMAGE_REGISTRY). */
  readonly env: NodeJS.ProcessEnv
  /** Stops the registry and removes from the engine every image pulled from it. */
  close(): Promise<void>
}

function standIn(name: string, entrypoint: string[]): PlatformImage[] {
  return SERVER_ARCHES.map(arch => ({
    os: 'linux',
    arch,
    files: [{ path: `etc/${name}-arch`, content: `${arch}\n` }],
    config: { Entrypoint: entrypoint, Env: ['PATH=/usr/local/bin:/usr/bin:/bin'] }
  }))
}

export async function startBaseImages(): Promise<BaseImages> {
  const registry = await startRegistry()
  await registry.push('build-image/go-runner', 'stand-in', standIn('go-runner', ['/go-runner']))
  await registry.push('build-image/distroless-iptables', 'stand-in', standIn('distroless-iptables', []))
  for (const arch of SERVER_ARCHES) {
    const [debianBase] = standIn('debian-base', []).filter(image => image.arch === arch)
    await registry.push(`build-image/debian-base-${arch}`, 'bookworm-v1.0.4', [debianBase])
  }
  const goRunner = `${registry.host}/build-image/go-runner:stand-in`
  const kubeProxyBase = `${registry.host}/build-image/distroless-iptables:stand-in`
  return {
    registry,
    goRunner,
    kubeProxyBase,
    args: ['--go-runner-image', goRunner, '--kube-proxy-base-image', kubeProxyBase],
    env: { KUBE_BASE_IMAGE_REGISTRY: registry.host },
    close: async () => {
      await registry.close()
      // By reference: the containerd store names an image by its manifest's digest, not its config's.
      // Then by ID: on the classic store, a pull for another platform leaves the earlier image untagged.
      for (const image of [goRunner, kubeProxyBase, ...registry.imageIds]) {
        await run('docker', ['rmi', '-f', image]).catch(() => undefined)
      }
    }
  }
}
