// rsync to and from a data volume over the API connection, with a container client whose "container"
// is a real `rsync --server` on this host, fed through the same streams a hijacked attach gives: the
// relay, the protocol both ways, upstream's filters, incremental transfers, failures and a cancel.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ContainerClient, ContainerSpec } from '../../../src/docker/containers.js'
import type { PipedStreams } from '../../../src/docker/piped-exec.js'
import { VolumeRsync, type VolumeRsyncOptions } from '../../../src/docker/rsync.js'
import { CancelledError, ReleaseError } from '../../../src/errors.js'
import { PULL_ARGS, PUSH_ARGS } from '../../../src/kube/sync-filters.js'
import { recordingLog } from '../../helpers/fake-engine.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'volume-rsync-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A container client that runs each piped container's command on this host (the "volume" is a local
 * directory); `wrap` may change the command, e.g. to make the remote side fail.
 */
function localContainers(wrap: (cmd: readonly string[]) => readonly string[] = cmd => cmd) {
  const specs: ContainerSpec[] = []
  const children: ChildProcess[] = []
  const runPiped = vi.fn(async (spec: ContainerSpec, streams: PipedStreams): Promise<number> => {
    specs.push(spec)
    const [command, ...args] = wrap(spec.cmd)
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    children.push(child)
    child.stdin.on('error', () => {})
    streams.stdin.pipe(child.stdin)
    child.stdout.pipe(streams.stdout)
    child.stderr.on('data', (chunk: Buffer) => streams.onStderr(chunk))
    return new Promise(resolve => child.on('close', code => resolve(code ?? -1)))
  })
  cleanups.push(async () => children.forEach(c => c.kill()))
  return { client: { runPiped } as unknown as ContainerClient, runPiped, specs }
}

function options(volume: string, more: Partial<VolumeRsyncOptions> = {}): VolumeRsyncOptions {
  return {
    name: 'kube-rsync-tree-run',
    image: 'kube-build:build-tree-5-v1.31.0',
    volume: 'kube-build-data-tree',
    path: volume,
    user: { uid: 1001, gid: 121 },
    labels: { 'io.kube-release-action.managed': 'true', 'io.kube-release-action.run': 'run-1' },
    verbosity: 6,
    ...more
  }
}

/** What rsync itemised as sent or received (`-i` lines of files, not directories). */
const transferred = (messages: string[]): string[] =>
  messages
    .flatMap(m => m.split('\n'))
    .filter(l => /^[<>]f/.test(l))
    .map(l => l.split(' ').at(-1)!)

async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true })
    await writeFile(join(root, path), content)
  }
}

describe('VolumeRsync', () => {
  it('runs rsync --server in a container on the volume, as the build user, with the run labels', async () => {
    const dir = await tempDir()
    await tree(join(dir, 'source'), { 'cmd/kubectl/kubectl.go': 'package main\n' })
    const fake = localContainers()
    const volume = join(dir, 'volume')
    await new VolumeRsync(fake.client, options(volume), recordingLog().log).push(`${dir}/source/`, [])
    expect(fake.specs).toHaveLength(1)
    const [spec] = fake.specs
    expect(spec.cmd.slice(0, 2)).toEqual(['rsync', '--server'])
    expect(spec.cmd.at(-1)).toBe(`${volume}/`)
    expect(spec).toMatchObject({
      name: 'kube-rsync-tree-run',
      image: 'kube-build:build-tree-5-v1.31.0',
      user: '1001:121',
      labels: options(volume).labels,
      mounts: [{ kind: 'volume', volume: 'kube-build-data-tree', target: volume }]
    })
  })

  it('returns the bytes of the stream it relayed each way: the file size when it moves, little when not', async () => {
    const dir = await tempDir()
    const [source, volume, back] = [join(dir, 'source'), join(dir, 'volume'), join(dir, 'back')]
    const size = 256 * 1024
    await mkdir(source, { recursive: true })
    // Random bytes: rsync's compression cannot shrink them, so the stream carries the whole file.
    await writeFile(join(source, 'kubectl'), randomBytes(size))
    const rsync = new VolumeRsync(localContainers().client, options(volume), recordingLog().log)
    const cold = await rsync.push(`${source}/`, [])
    expect(cold.sent).toBeGreaterThanOrEqual(size)
    expect(cold.received).toBeLessThan(size / 8)
    const unchanged = await rsync.push(`${source}/`, [])
    expect(unchanged.sent).toBeLessThan(size / 8)
    const pulled = await rsync.pull(`${back}/`, [])
    expect(pulled.received).toBeGreaterThanOrEqual(size)
    expect(pulled.sent).toBeLessThan(size / 8)
  })

  it('pushes with upstream filters, then sends only what changed and mirrors deletions', async () => {
    const dir = await tempDir()
    const [source, volume] = [join(dir, 'source'), join(dir, 'volume')]
    await tree(source, {
      'cmd/kubectl/kubectl.go': 'package main\n',
      'pkg/api/types.go': 'package api\n',
      'pkg/api/old.go': 'package api\n',
      '_output/local/bin/kubectl': 'not sent\n',
      '_tmp/scratch': 'not sent\n'
    })
    const recorded = recordingLog()
    const rsync = new VolumeRsync(localContainers().client, options(volume), recorded.log)
    await rsync.push(`${source}/`, PUSH_ARGS)
    expect(transferred(recorded.at('debug')).sort()).toEqual([
      'cmd/kubectl/kubectl.go',
      'pkg/api/old.go',
      'pkg/api/types.go'
    ])
    expect((await readdir(volume)).sort()).toEqual(['cmd', 'pkg'])

    await writeFile(join(source, 'pkg/api/types.go'), 'package api // changed\n')
    await rm(join(source, 'pkg/api/old.go'))
    recorded.lines.splice(0)
    await rsync.push(`${source}/`, PUSH_ARGS)
    expect(transferred(recorded.at('debug'))).toEqual(['pkg/api/types.go'])
    expect(await readFile(join(volume, 'pkg/api/types.go'), 'utf8')).toBe('package api // changed\n')
    expect(await readdir(join(volume, 'pkg/api'))).toEqual(['types.go'])
  })

  it("pulls binaries and generated files, never the tree's _tmp or the Go caches", async () => {
    const dir = await tempDir()
    const [volume, back] = [join(dir, 'volume'), join(dir, 'back')]
    await tree(volume, {
      '_output/dockerized/bin/linux/amd64/kubectl': 'binary\n',
      '_output/dockerized/go/cache/build/00/x': 'cache\n',
      'pkg/api/zz_generated.deepcopy.go': 'generated\n',
      'pkg/api/handwritten.go': 'not pulled\n',
      '_tmp/zz_generated.scratch.go': 'not pulled\n'
    })
    await mkdir(back)
    const rsync = new VolumeRsync(localContainers().client, options(volume), recordingLog().log)
    await rsync.pull(`${back}/`, PULL_ARGS)
    const pulled = (await readdir(back, { recursive: true, withFileTypes: true }))
      .filter(e => e.isFile())
      .map(e => join(e.parentPath, e.name).slice(back.length + 1))
      .sort()
    expect(pulled).toEqual(['_output/dockerized/bin/linux/amd64/kubectl', 'pkg/api/zz_generated.deepcopy.go'])
  })

  it("fails with rsync's message and the container's own stderr when the remote side fails", async () => {
    const dir = await tempDir()
    await tree(join(dir, 'source'), { 'a.go': 'package a\n' })
    const failing = localContainers(() => [
      'sh',
      '-c',
      'echo "rsync: mkdir failed: Permission denied" >&2; exit 23'
    ])
    const rsync = new VolumeRsync(failing.client, options(join(dir, 'volume')), recordingLog().log)
    const pushed = rsync.push(`${dir}/source/`, [])
    await expect(pushed).rejects.toThrow(ReleaseError)
    await expect(pushed).rejects.toThrow(/rsync exited with \d+: [^]*in the container: rsync: mkdir failed/)
  })

  it('ends with CancelledError when the run is cancelled mid-transfer', async () => {
    const dir = await tempDir()
    await tree(join(dir, 'source'), { 'a.go': 'package a\n' })
    const cancel = new AbortController()
    // A remote side that never answers: the transfer waits until the cancel kills it.
    const hanging = localContainers(() => ['sleep', '30'])
    hanging.runPiped.mockImplementationOnce(async (_spec, streams) => {
      setTimeout(() => cancel.abort(), 100)
      const [command, ...args] = ['sleep', '30']
      const child = spawn(command, args)
      cleanups.push(async () => void child.kill())
      streams.stdin.resume()
      return new Promise(resolve => child.on('close', code => resolve(code ?? -1)))
    })
    const rsync = new VolumeRsync(
      hanging.client,
      options(join(dir, 'volume'), { signal: cancel.signal }),
      recordingLog().log
    )
    await expect(rsync.push(`${dir}/source/`, [])).rejects.toThrow(CancelledError)
  })

  it('leaves no relay files behind', async () => {
    const dir = await tempDir()
    await tree(join(dir, 'source'), { 'a.go': 'package a\n' })
    const before = await readdir(tmpdir())
    const rsync = new VolumeRsync(localContainers().client, options(join(dir, 'volume')), recordingLog().log)
    await rsync.push(`${dir}/source/`, [])
    const after = await readdir(tmpdir())
    expect(after.filter(name => !before.includes(name) && name.startsWith('kube-release-rsync-'))).toEqual([])
  })
})
