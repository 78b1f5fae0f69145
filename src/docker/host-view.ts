// What the engine sees of this process's files. On the engine's own host a path is the same for both;
// in a container job (this process in a container of the engine, its work directory mounted from the
// host at another path) a path must be translated through that container's mounts; on a remote engine
// or a Docker-in-Docker sidecar nothing may be shared at all. A bind mount is only made once the
// engine has shown that it reads what this process wrote.
import { randomBytes } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { CancelledError, EngineLostError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { ContainerClient, ContainerSpec, OwnContainer } from './containers.js'

/**
 * Container ids named in this process's mount table: the engine bind-mounts /etc/hostname and friends
 * from `…/containers/<id>/…` (Docker) or `…/overlay-containers/<id>/userdata/…` (Podman).
 */
export function containerIdsInMountInfo(mountInfo: string): string[] {
  const ids = new Set<string>()
  for (const line of mountInfo.split('\n')) {
    const [, , , root, mountPoint] = line.split(' ')
    if (!['/etc/hostname', '/etc/hosts', '/etc/resolv.conf'].includes(mountPoint)) continue
    const id = /containers\/([0-9a-f]{64})\//.exec(root ?? '')?.[1]
    if (id) ids.add(id)
  }
  return [...ids]
}

/** `path` as the engine's host names it, through the mount that holds it; null when none does. */
export function translatePath(path: string, mounts: OwnContainer['mounts']): string | null {
  const holding = mounts
    .filter(m => path === m.destination || path.startsWith(m.destination.replace(/\/?$/, '/')))
    .sort((a, b) => b.destination.length - a.destination.length)[0]
  if (!holding) return null
  return posix.join(holding.source, posix.relative(holding.destination, path))
}

export class HostView {
  private constructor(
    private readonly containers: ContainerClient,
    /** The container this process runs in, as the engine knows it; null on the engine's host or elsewhere. */
    readonly ownContainer: OwnContainer | null
  ) {}

  /** Finds out whether this process runs in a container of the engine (a container job). */
  static async detect(containers: ContainerClient, log: Logger): Promise<HostView> {
    const mountInfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '')
    for (const id of containerIdsInMountInfo(mountInfo)) {
      const own = await containers.mounts(id)
      if (own) {
        log.info(
          `running in container ${own.name} of this engine (a container job): paths are translated through its mounts`
        )
        return new HostView(containers, own)
      }
    }
    return new HostView(containers, null)
  }

  /** The path the engine must mount for `path` of this process; null when it is in no mount of this container. */
  enginePath(path: string): string | null {
    return this.ownContainer ? translatePath(path, this.ownContainer.mounts) : path
  }

  /**
   * Whether a container that bind-mounts `dir` (as the engine names it) reads there a file this
   * process has just written in `localDir`: false on an engine that does not share this process's files.
   */
  async sharesDirectory(
    localDir: string,
    engineDir: string,
    spec: Pick<ContainerSpec, 'name' | 'image' | 'labels'>
  ): Promise<boolean> {
    const token = randomBytes(16).toString('hex')
    const file = join(localDir, `.kube-release-probe-${token}`)
    await writeFile(file, token)
    try {
      const lines: string[] = []
      const { exitCode } = await this.containers
        .run(
          {
            ...spec,
            cmd: ['cat', `/probe/.kube-release-probe-${token}`],
            mounts: [{ kind: 'bind', source: engineDir, target: '/probe', readOnly: true }]
          },
          line => lines.push(line)
        )
        .catch((err: unknown) => {
          // An engine without the directory refuses the bind mount itself; a cancel or a lost engine is no answer.
          if (err instanceof CancelledError || err instanceof EngineLostError) throw err
          return { exitCode: -1 }
        })
      return exitCode === 0 && lines.join('') === token
    } finally {
      await rm(file, { force: true })
    }
  }
}
