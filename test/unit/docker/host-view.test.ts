// What the engine sees of this process's files: the container id found in a container's mount table,
// paths translated through a container job's mounts, and the probe that proves a bind mount shows
// what this process wrote.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ContainerClient, ContainerSpec, OutputLine } from '../../../src/docker/containers.js'
import { HostView, containerIdsInMountInfo, translatePath } from '../../../src/docker/host-view.js'
import { CancelledError } from '../../../src/errors.js'
import { recordingLog } from '../../helpers/fake-engine.js'

const DOCKER_ID = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4)
const PODMAN_ID = 'c'.repeat(64)

describe('containerIdsInMountInfo', () => {
  it("finds the id in Docker's and Podman's /etc/hostname mounts, and nothing on a host", () => {
    const docker = [
      '1190 1180 0:120 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X',
      `1201 1180 8:1 /var/lib/docker/containers/${DOCKER_ID}/resolv.conf /etc/resolv.conf rw - ext4 /dev/sda1 rw`,
      `1202 1180 8:1 /var/lib/docker/containers/${DOCKER_ID}/hostname /etc/hostname rw - ext4 /dev/sda1 rw`,
      '1203 1180 8:1 /home/runner/work /__w rw - ext4 /dev/sda1 rw'
    ].join('\n')
    const podman = `88 70 0:44 /containers/storage/overlay-containers/${PODMAN_ID}/userdata/hostname /etc/hostname rw - tmpfs tmpfs rw`
    const host = '21 26 0:20 / /proc rw,relatime - proc proc rw\n26 1 8:1 / / rw - ext4 /dev/sda1 rw'
    expect(containerIdsInMountInfo(docker)).toEqual([DOCKER_ID])
    expect(containerIdsInMountInfo(podman)).toEqual([PODMAN_ID])
    expect(containerIdsInMountInfo(host)).toEqual([])
  })

  it('ignores ids in mounts that are not the engine-made files', () => {
    const other = `300 1 8:1 /var/lib/docker/containers/${DOCKER_ID}/data /data rw - ext4 /dev/sda1 rw`
    expect(containerIdsInMountInfo(other)).toEqual([])
  })
})

describe('translatePath', () => {
  const mounts = [
    { source: '/home/runner/work', destination: '/__w' },
    { source: '/home/runner/work/_temp/_github_home', destination: '/github/home' },
    { source: '/opt/hostedtoolcache', destination: '/__t' },
    { source: '/srv/nested-tree', destination: '/__w/kubernetes/nested' }
  ]

  it('maps a path through the deepest mount that holds it', () => {
    expect(translatePath('/__w/kubernetes/kubernetes', mounts)).toBe(
      '/home/runner/work/kubernetes/kubernetes'
    )
    expect(translatePath('/__w/kubernetes/nested/x', mounts)).toBe('/srv/nested-tree/x')
    expect(translatePath('/__w', mounts)).toBe('/home/runner/work')
  })

  it('gives null for a path in no mount, including a sibling that only shares a prefix', () => {
    expect(translatePath('/tmp/tree', mounts)).toBeNull()
    expect(translatePath('/__work/tree', mounts)).toBeNull()
  })
})

describe('HostView.sharesDirectory', () => {
  const dirs: string[] = []
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })

  /** A container client whose one container answers as `answer` says; `dir` is this process's side. */
  async function probe(
    answer: (spec: ContainerSpec, onLine: OutputLine, dir: string) => Promise<{ exitCode: number }>
  ) {
    const dir = await mkdtemp(join(tmpdir(), 'host-view-'))
    dirs.push(dir)
    const run = vi.fn((spec: ContainerSpec, onLine: OutputLine) => answer(spec, onLine, dir))
    const containers = { mounts: async () => null, run } as unknown as ContainerClient
    const view = await HostView.detect(containers, recordingLog().log)
    const shared = view.sharesDirectory(dir, '/engine/side', { name: 'probe', image: 'img', labels: {} })
    return { dir, run, shared }
  }

  it('is true when the container reads the token this process wrote, through a read-only bind', async () => {
    const { dir, run, shared } = await probe(async (spec, onLine, local) => {
      // The "engine" reads the file where this process wrote it: the same files.
      onLine(await readFile(join(local, spec.cmd[1].replace('/probe/', '')), 'utf8'), 'stdout')
      return { exitCode: 0 }
    })
    await expect(shared).resolves.toBe(true)
    expect(run.mock.calls[0][0].mounts).toEqual([
      { kind: 'bind', source: '/engine/side', target: '/probe', readOnly: true }
    ])
    expect(await readdir(dir)).toEqual([])
  })

  it('is false when the container finds no such file, or the engine refuses the mount', async () => {
    const missing = await probe(async (_spec, onLine) => {
      onLine('cat: /probe/x: No such file or directory', 'stderr')
      return { exitCode: 1 }
    })
    await expect(missing.shared).resolves.toBe(false)
    const refused = await probe(async () => {
      throw new Error('invalid mount config for type "bind": bind source path does not exist')
    })
    await expect(refused.shared).resolves.toBe(false)
  })

  it('is false when the container reads another file of the same name (another machine)', async () => {
    const other = await probe(async (_spec, onLine) => {
      onLine('0123456789abcdef0123456789abcdef', 'stdout')
      return { exitCode: 0 }
    })
    await expect(other.shared).resolves.toBe(false)
  })

  it('passes a cancel on instead of answering', async () => {
    const cancelled = await probe(async () => {
      throw new CancelledError('cancelled while running container probe')
    })
    await expect(cancelled.shared).rejects.toThrow(CancelledError)
  })
})
