// The rsync daemon on the data volume, with a fake container client: the config and password it puts
// into the container, its removal when it never answers, and (with a real rsync daemon on this host's
// loopback standing in for the container) that the config it writes serves the module behind the password.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import tar from 'tar-stream'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ContainerClient, ContainerSpec, ContainerState } from '../../../src/docker/containers.js'
import { RsyncDaemon, type RsyncDaemonOptions } from '../../../src/docker/rsync.js'
import { CancelledError, ReleaseError } from '../../../src/errors.js'
import { recordingLog } from '../../helpers/fake-engine.js'

const ID = 'fedcba9876543210fedcba9876543210'
const GATEWAY = '172.17.0.1'

const OPTIONS: RsyncDaemonOptions = {
  name: 'kube-rsync-tree-run',
  image: 'kube-build:build-tree-5-v1.31.0',
  volume: 'kube-build-data-tree',
  path: '/go/src/k8s.io/kubernetes',
  user: { uid: 1001, gid: 121 },
  labels: { 'io.kube-release-action.managed': 'true', 'io.kube-release-action.run': 'run-1' },
  moduleFilter: '- /_tmp/',
  verbosity: 1
}

interface Member {
  readonly mode: number
  readonly uid: number
  readonly gid: number
  readonly text: string
}

async function tarMembers(archive: Buffer): Promise<Map<string, Member>> {
  const extract = tar.extract()
  const members = new Map<string, Member>()
  const read = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = []
      for await (const chunk of entry) chunks.push(chunk as Buffer)
      const { name, mode = 0, uid = -1, gid = -1 } = entry.header
      members.set(name, { mode, uid, gid, text: Buffer.concat(chunks).toString() })
    }
  })()
  extract.end(archive)
  await read
  return members
}

const notRunning = (exitCode: number, published: Record<string, string> = {}): ContainerState => ({
  running: false,
  exitCode,
  oomKilled: false,
  published,
  addresses: []
})

/** A container client that records what it is given; `state` says the container exited with 1. */
function fakeContainers(gateway: string | null = GATEWAY) {
  const archives: { id: string; path: string; tar: Buffer }[] = []
  const containers = {
    create: vi.fn(async (_spec: ContainerSpec) => ID),
    defaultBridgeGateway: vi.fn(async () => gateway),
    putArchive: vi.fn(async (id: string, path: string, archive: Buffer | NodeJS.ReadableStream) => {
      archives.push({ id, path, tar: archive as Buffer })
    }),
    start: vi.fn(async (_id: string) => {}),
    state: vi.fn(async (_id: string) => notRunning(1)),
    remove: vi.fn(async (_id: string) => {})
  }
  const client = containers as unknown as ContainerClient
  /** The members of the one archive put into the container. */
  const put = async (): Promise<Map<string, Member>> => {
    expect(archives).toHaveLength(1)
    expect(archives[0]).toMatchObject({ id: ID, path: '/tmp' })
    return tarMembers(archives[0].tar)
  }
  return { containers, client, put }
}

/** Starts a daemon that never gets an address: the config has been put into the container by then. */
async function startWithoutAddress(fake: ReturnType<typeof fakeContainers>, options: RsyncDaemonOptions) {
  const recorded = recordingLog()
  await expect(RsyncDaemon.start(fake.client, options, recorded.log)).rejects.toThrow(
    'could not connect to the rsync daemon container (tried no address)'
  )
  return recorded
}

const configLines = (members: Map<string, Member>): string[] =>
  members.get('kube-release-rsyncd/rsyncd.conf')!.text.split('\n')

describe('RsyncDaemon.start', () => {
  it('creates the daemon container on the volume, published on loopback, as the build user', async () => {
    const fake = fakeContainers()
    await startWithoutAddress(fake, OPTIONS)
    expect(fake.containers.create).toHaveBeenCalledWith({
      name: OPTIONS.name,
      image: OPTIONS.image,
      cmd: ['rsync', '--daemon', '--no-detach', '--config=/tmp/kube-release-rsyncd/rsyncd.conf'],
      labels: OPTIONS.labels,
      user: '1001:121',
      mounts: [{ kind: 'volume', volume: OPTIONS.volume, target: OPTIONS.path }],
      publishOnLoopback: '8730/tcp'
    })
  })

  it('writes a module on the path with the filter, open to the bridge gateway and loopback only', async () => {
    const fake = fakeContainers()
    await startWithoutAddress(fake, OPTIONS)
    const lines = configLines(await fake.put())
    expect(lines).toContain('[k8s]')
    expect(lines).toContain(`  path = ${OPTIONS.path}`)
    expect(lines).toContain(`  filter = ${OPTIONS.moduleFilter}`)
    expect(lines).toContain(`  hosts allow = ${GATEWAY} 127.0.0.1`)
    expect(lines).toContain('  hosts deny = *')
    expect(lines).toContain('  auth users = k8s')
    expect(lines).not.toContain('  uid = 0')
  })

  it('leaves hosts open when the engine has no bridge gateway', async () => {
    const fake = fakeContainers(null)
    await startWithoutAddress(fake, OPTIONS)
    const lines = configLines(await fake.put())
    expect(lines.filter(l => l.includes('hosts'))).toEqual([])
  })

  it.each([
    ['on rootless engines', null],
    ['when the build user is root', { uid: 0, gid: 0 }]
  ])('writes as uid 0 %s', async (_case, user) => {
    const fake = fakeContainers()
    await startWithoutAddress(fake, { ...OPTIONS, user })
    const lines = configLines(await fake.put())
    expect(lines).toContain('  uid = 0')
    expect(lines).toContain('  gid = 0')
  })

  it('hands the daemon a fresh password in a file only its user may read, masked in the log', async () => {
    const fake = fakeContainers()
    const { masked, lines } = await startWithoutAddress(fake, OPTIONS)
    const secrets = (await fake.put()).get('kube-release-rsyncd/rsyncd.secrets')!
    expect(masked).toHaveLength(1)
    const password = masked[0]
    expect(password.length).toBeGreaterThanOrEqual(32)
    expect(secrets).toEqual({ mode: 0o600, uid: 1001, gid: 121, text: `k8s:${password}\n` })
    expect(lines.filter(l => l.message.includes(password))).toEqual([])

    const again = fakeContainers()
    const second = await startWithoutAddress(again, OPTIONS)
    expect(second.masked).toHaveLength(1)
    expect(second.masked[0]).not.toBe(password)
  })

  it('removes the container that exits before it answers, naming its exit code', async () => {
    // A loopback port nothing listens on: the module listing is refused at once.
    const port = await freePort()
    const fake = fakeContainers()
    fake.containers.state.mockResolvedValue(notRunning(12, { '8730/tcp': `127.0.0.1:${port}` }))
    const started = RsyncDaemon.start(fake.client, OPTIONS, recordingLog().log)
    await expect(started).rejects.toThrow(ReleaseError)
    await expect(started).rejects.toThrow('the rsync daemon container exited with code 12 before it answered')
    expect(fake.containers.remove).toHaveBeenCalledWith(ID)
  })

  it('ends with CancelledError when the run is cancelled while it waits for the daemon', async () => {
    const port = await freePort()
    const cancel = new AbortController()
    const fake = fakeContainers()
    const running = { ...notRunning(0, { '8730/tcp': `127.0.0.1:${port}` }), running: true }
    // The first state gives the address; the second comes after the first refused module listing.
    fake.containers.state.mockResolvedValueOnce(running).mockImplementationOnce(async () => {
      cancel.abort()
      return running
    })
    const started = RsyncDaemon.start(fake.client, { ...OPTIONS, signal: cancel.signal }, recordingLog().log)
    await expect(started).rejects.toThrow(CancelledError)
    await expect(started).rejects.toThrow('cancelled while waiting for the rsync daemon')
    expect(fake.containers.remove).toHaveBeenCalledWith(ID)
  })
})

/** A loopback TCP port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

describe('RsyncDaemon on a real rsync daemon', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  /**
   * A container client whose "container" is an rsync daemon on this host, run with the files the code
   * put into it: /tmp inside it is `dir`, and its port is a free one.
   */
  async function loopbackContainers(dir: string) {
    const port = await freePort()
    const fake = fakeContainers()
    let daemon: ChildProcess | undefined
    const published = { '8730/tcp': `127.0.0.1:${port}` }
    fake.containers.start.mockImplementation(async () => {
      for (const [name, member] of await fake.put()) {
        if (name.endsWith('/')) continue
        const text = member.text
          .replaceAll('/tmp/kube-release-rsyncd/', `${dir}/kube-release-rsyncd/`)
          .replace('port = 8730', `port = ${port}`)
        await mkdir(dirname(join(dir, name)), { recursive: true })
        await writeFile(join(dir, name), text, { mode: member.mode })
      }
      daemon = spawn(
        'rsync',
        ['--daemon', '--no-detach', `--config=${dir}/kube-release-rsyncd/rsyncd.conf`],
        { stdio: 'ignore' }
      )
    })
    fake.containers.state.mockImplementation(async () => ({
      running: daemon?.exitCode === null,
      exitCode: daemon?.exitCode ?? 0,
      oomKilled: false,
      published,
      addresses: []
    }))
    fake.containers.remove.mockImplementation(async () => void daemon?.kill())
    cleanups.push(async () => void daemon?.kill())
    return { fake, address: published['8730/tcp'] }
  }

  /** A daemon started on a loopback "container" serving `<dir>/volume`. */
  async function startOnLoopback(signal?: AbortSignal) {
    const dir = await mkdtemp(join(tmpdir(), 'rsync-daemon-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const volume = join(dir, 'volume')
    await mkdir(volume)
    const { fake, address } = await loopbackContainers(dir)
    const user = { uid: process.getuid!(), gid: process.getgid!() }
    const recorded = recordingLog()
    const options = { ...OPTIONS, path: volume, user, signal }
    const daemon = await RsyncDaemon.start(fake.client, options, recorded.log)
    cleanups.push(() => daemon.stop())
    return { dir, volume, fake, address, daemon, ...recorded }
  }

  it('serves the module behind the password, without what the module filter excludes', async () => {
    const { dir, volume, fake, address, daemon, lines, masked } = await startOnLoopback()
    const [source, back] = ['source', 'back'].map(d => join(dir, d))
    await mkdir(join(source, 'cmd/kubectl'), { recursive: true })
    await mkdir(join(volume, '_tmp'))
    await writeFile(join(source, 'cmd/kubectl/kubectl.go'), 'package main\n')
    await writeFile(join(volume, '_tmp/scratch'), 'never served\n')

    await daemon.push(`${source}/`, [])
    await expect(readFile(join(volume, 'cmd/kubectl/kubectl.go'), 'utf8')).resolves.toBe('package main\n')

    await daemon.pull(`${back}/`, [])
    await expect(readFile(join(back, 'cmd/kubectl/kubectl.go'), 'utf8')).resolves.toBe('package main\n')
    await expect(readFile(join(back, '_tmp/scratch'))).rejects.toThrow('ENOENT')

    const guessed = spawnSync('rsync', [`rsync://k8s@${address}/k8s/`], {
      env: { ...process.env, RSYNC_PASSWORD: 'not-the-password' },
      encoding: 'utf8'
    })
    expect(guessed.status).not.toBe(0)
    expect(guessed.stderr).toContain('auth failed')

    await daemon.stop()
    expect(fake.containers.remove).toHaveBeenCalledWith(ID)
    expect(lines.map(l => l.message)).toContain(`rsync daemon ${OPTIONS.name} listening at ${address}`)
    expect(masked).toHaveLength(1)
    expect(lines.filter(l => l.message.includes(masked[0]))).toEqual([])
  })

  it('ends a transfer with CancelledError when the run is cancelled', async () => {
    // Aborted before the transfer: the same kill and AbortError as in the middle of one.
    const cancel = new AbortController()
    const { dir, daemon } = await startOnLoopback(cancel.signal)
    cancel.abort()
    const pulled = daemon.pull(`${join(dir, 'back')}/`, [])
    await expect(pulled).rejects.toThrow(CancelledError)
    await expect(pulled).rejects.toThrow('cancelled while rsync was transferring files')
  })
})
