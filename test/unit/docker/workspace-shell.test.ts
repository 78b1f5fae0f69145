// Scripts in the build workspace, against a fake dockerode: they run as exec sessions of one idle
// container of the build image that mounts the workspace, and a file a script writes comes back to
// this host over the API (docker cp's archive endpoint), never through a shared path.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Duplex, Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { tarBuffer } from '../../../src/archive/tar.js'
import type { Mount } from '../../../src/docker/containers.js'
import { markedCommand } from '../../../src/docker/piped-exec.js'
import { WorkspaceShell } from '../../../src/docker/workspace-shell.js'
import { ReleaseError } from '../../../src/errors.js'
import { execFrame, fakeContainerClient, realModem, recordingLog } from '../../helpers/fake-engine.js'

const WORKSPACE: Mount = {
  kind: 'volume',
  volume: 'kube-build-data-tree',
  target: '/go/src/k8s.io/kubernetes'
}
const IN_CONTAINER = '/tmp/kube-release-go-cache.tar'
const CONTENT = Buffer.from('the Go cache archive, as the script wrote it\n')
const STARTED = '\x06'

/** An exec session that starts, writes `output` (stdout, then `stderr` on its own pipe) and exits with `exitCode`. */
function execSession(output: string, stderr: string, exitCode: number) {
  const session = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() })
  session.push(execFrame(1, `${STARTED}${output}`))
  if (stderr) session.push(execFrame(2, stderr))
  session.push(null)
  return {
    start: vi.fn(async () => session),
    inspect: vi.fn(async () => ({ Running: false, ExitCode: exitCode }))
  }
}

/** An engine whose scripts exit with `exitCodes` in turn and whose container holds CONTENT at IN_CONTAINER. */
function fakeEngine(exitCodes: number[]) {
  const events: string[] = []
  let execs = 0
  const container = {
    start: vi.fn(async () => void events.push('start')),
    exec: vi.fn(async (options: { Cmd: string[]; User?: string }) => {
      const exitCode = exitCodes[execs++]
      events.push(`exec as ${options.User}`)
      return execSession(`line ${execs}\n`, exitCode === 0 ? '' : `failed ${execs}\n`, exitCode)
    }),
    getArchive: vi.fn(async (options: { path: string }) => {
      events.push(`getArchive ${options.path}`)
      const name = options.path.split('/').pop()!
      return Readable.from([await tarBuffer([{ kind: 'data', path: name, data: CONTENT, mode: 0o644 }])])
    }),
    stop: vi.fn(async () => void events.push('stop')),
    remove: vi.fn(async () => void events.push('remove'))
  }
  const docker = {
    createContainer: vi.fn(
      async (_body: { Cmd: string[]; User?: string; HostConfig: { Mounts?: unknown[] } }) => ({
        id: 'c0ffee'
      })
    ),
    getContainer: vi.fn(() => container),
    modem: { demuxStream: realModem.demuxStream.bind(realModem) }
  }
  const shell = new WorkspaceShell(fakeContainerClient(docker, recordingLog().log), {
    name: 'kube-cache-tree-run',
    image: 'kube-build:tag',
    labels: { 'io.kube-release-action.managed': 'true' },
    mounts: [WORKSPACE]
  })
  return { docker, container, events, shell }
}

describe('WorkspaceShell.run', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-workspace-shell-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('runs every script as an exec of one idle container, each as its own user, with its output lines', async () => {
    const { docker, container, events, shell } = fakeEngine([0, 0])
    expect(await shell.run('echo "$1"', ['a'], { user: '0:0' })).toEqual(['line 1'])
    expect(await shell.run('echo "$1"', ['b'], { user: '1001:121' })).toEqual(['line 2'])
    expect(docker.createContainer).toHaveBeenCalledTimes(1)
    const created = docker.createContainer.mock.calls[0][0]
    expect(created.Cmd).toEqual(['sleep', 'infinity'])
    expect(created.User).toBeUndefined()
    // Only the workspace is mounted: nothing of this host's file system is shared with the engine.
    expect(created.HostConfig.Mounts).toEqual([
      { Type: 'volume', Source: 'kube-build-data-tree', Target: '/go/src/k8s.io/kubernetes' }
    ])
    expect(container.exec.mock.calls[1][0].Cmd).toEqual(markedCommand(['sh', '-c', 'echo "$1"', 'sh', 'b']))
    // The idle container stays for later scripts: the run's cleanup removes it.
    expect(events).toEqual(['start', 'exec as 0:0', 'exec as 1001:121'])
  })

  it('copies the file out over the API after the script', async () => {
    const { events, shell } = fakeEngine([0])
    const destination = join(dir, 'go-build-cache.tar')
    await shell.run('tar -cf "$1" .', [IN_CONTAINER], {
      user: '1001:121',
      copyOut: { path: IN_CONTAINER, destination }
    })
    expect(await readFile(destination)).toEqual(CONTENT)
    expect(events).toEqual(['start', 'exec as 1001:121', `getArchive ${IN_CONTAINER}`])
  })

  it('copies nothing when the script fails, and says how it failed with its last lines', async () => {
    const { events, shell } = fakeEngine([2])
    const destination = join(dir, 'go-build-cache.tar')
    const run = shell.run('exit 2', [], { user: '0:0', copyOut: { path: IN_CONTAINER, destination } })
    await expect(run).rejects.toThrow(ReleaseError)
    await expect(run).rejects.toThrow('exit code 2: line 1 | failed 1')
    expect(events).toEqual(['start', 'exec as 0:0'])
    await expect(readFile(destination)).rejects.toThrow(/ENOENT/)
  })
})
