// Scripts in the build workspace, against a fake dockerode: a file the script writes in its container
// comes back to this host over the API (docker cp's archive endpoint), never through a shared path,
// before the container goes.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { tarBuffer } from '../../../src/archive/tar.js'
import type { Mount } from '../../../src/docker/containers.js'
import { WorkspaceShell } from '../../../src/docker/workspace-shell.js'
import { ReleaseError } from '../../../src/errors.js'
import { fakeContainerClient, realModem, recordingLog } from '../../helpers/fake-engine.js'

const WORKSPACE: Mount = {
  kind: 'volume',
  volume: 'kube-build-data-tree',
  target: '/go/src/k8s.io/kubernetes'
}
const IN_CONTAINER = '/tmp/kube-release-go-cache.tar'
const CONTENT = Buffer.from('the Go cache archive, as the script wrote it\n')

/** An engine whose one container exits with `exitCode` and holds CONTENT at IN_CONTAINER. */
function fakeEngine(exitCode = 0) {
  const events: string[] = []
  const container = {
    attach: vi.fn(async () => Readable.from([])),
    start: vi.fn(async () => undefined),
    wait: vi.fn(async () => ({ StatusCode: exitCode })),
    inspect: vi.fn(async () => ({
      State: { Running: false, ExitCode: exitCode, OOMKilled: false },
      NetworkSettings: {}
    })),
    getArchive: vi.fn(async (options: { path: string }) => {
      events.push(`getArchive ${options.path}`)
      const name = options.path.split('/').pop()!
      return Readable.from([await tarBuffer([{ kind: 'data', path: name, data: CONTENT, mode: 0o644 }])])
    }),
    stop: vi.fn(async () => void events.push('stop')),
    remove: vi.fn(async () => void events.push('remove'))
  }
  const docker = {
    createContainer: vi.fn(async (_body: { HostConfig: { Mounts?: unknown[] } }) => ({ id: 'c0ffee' })),
    getContainer: vi.fn(() => container),
    modem: { demuxStream: realModem.demuxStream.bind(realModem) }
  }
  const shell = new WorkspaceShell(fakeContainerClient(docker, recordingLog().log), {
    name: 'kube-cache-tree-run',
    image: 'kube-build:tag',
    labels: { 'io.kube-release-action.managed': 'true' },
    mounts: [WORKSPACE]
  })
  return { docker, events, shell }
}

describe('WorkspaceShell.run with copyOut', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-workspace-shell-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('copies the file out over the API after the script, then removes the container', async () => {
    const { docker, events, shell } = fakeEngine()
    const destination = join(dir, 'go-build-cache.tar')
    await shell.run('tar -cf "$1" .', [IN_CONTAINER], {
      user: '1001:121',
      copyOut: { path: IN_CONTAINER, destination }
    })
    expect(await readFile(destination)).toEqual(CONTENT)
    expect(events).toEqual([`getArchive ${IN_CONTAINER}`, 'stop', 'remove'])
    // Only the workspace is mounted: nothing of this host's file system is shared with the engine.
    expect(docker.createContainer.mock.calls[0][0].HostConfig.Mounts).toEqual([
      { Type: 'volume', Source: 'kube-build-data-tree', Target: '/go/src/k8s.io/kubernetes' }
    ])
  })

  it('copies nothing when the script fails, and says how it failed', async () => {
    const { events, shell } = fakeEngine(2)
    const destination = join(dir, 'go-build-cache.tar')
    await expect(
      shell.run('exit 2', [], { user: '0:0', copyOut: { path: IN_CONTAINER, destination } })
    ).rejects.toThrow(ReleaseError)
    expect(events).toEqual(['stop', 'remove'])
    await expect(readFile(destination)).rejects.toThrow(/ENOENT/)
  })
})
