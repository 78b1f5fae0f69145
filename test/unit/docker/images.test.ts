// Images through the Engine API, against a fake dockerode: inspect, a pull read from its progress
// stream (error events, a stalled stream, the run's cancel), tags split as the engine wants them, and
// a save that refuses an archive without the layers its manifest names.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { tarBuffer, type TarMember } from '../../../src/archive/tar.js'
import { ImageClient } from '../../../src/docker/images.js'
import { CancelledError, ReleaseError } from '../../../src/errors.js'
import { engineError, fakeCalls, realModem, recordingLog } from '../../helpers/fake-engine.js'

const KUBE_CROSS = 'registry.k8s.io/build-image/kube-cross:v1.31.0-go1.22.5-bullseye.0'
const MiB = 1024 ** 2
/** Long enough that a test never stalls by accident, short enough to wait for. */
const STALL_TIMEOUT_MS = 200

type DialCallback = (err: unknown, data: unknown) => void

/** A fake engine whose pull answers with `progress`, a stream the test writes JSON events into. */
function fakeEngine() {
  const progress = new PassThrough()
  const handed: AbortSignal[] = []
  const image = { tag: vi.fn(async () => undefined) }
  const docker = {
    pull: vi.fn(async (_ref: string, options: { abortSignal: AbortSignal }) => {
      handed.push(options.abortSignal)
      // As dockerode does: the request's signal destroys the response stream.
      options.abortSignal.addEventListener('abort', () =>
        progress.destroy(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }))
      )
      return progress
    }),
    getImage: vi.fn(() => image),
    modem: {
      dial: vi.fn((_options: { path: string }, callback: DialCallback) => callback(null, {})),
      followProgress: realModem.followProgress.bind(realModem)
    }
  }
  const event = (e: object): void => void progress.write(`${JSON.stringify(e)}\r\n`)
  return { docker, image, progress, handed, event }
}

function client(docker: object, cancel?: AbortSignal) {
  const recorded = recordingLog()
  return { images: new ImageClient(fakeCalls(docker, cancel), recorded.log, STALL_TIMEOUT_MS), ...recorded }
}

describe('ImageClient.inspect', () => {
  it("maps the engine's answer to the image's facts", async () => {
    const { docker } = fakeEngine()
    docker.modem.dial.mockImplementationOnce((_options, callback) =>
      callback(null, { Id: 'sha256:abc', Os: 'linux', Architecture: 'arm64', Size: 1234567, RepoTags: [] })
    )
    const facts = await client(docker).images.inspect(KUBE_CROSS)
    expect(facts).toEqual({ id: 'sha256:abc', os: 'linux', architecture: 'arm64', bytes: 1234567 })
    expect(docker.modem.dial.mock.calls[0][0]).toMatchObject({
      path: `/images/${KUBE_CROSS}/json`,
      method: 'GET'
    })
  })

  it('answers null when the engine has no such image', async () => {
    const { docker } = fakeEngine()
    docker.modem.dial.mockImplementationOnce((_options, callback) =>
      callback(engineError(404, `No such image: ${KUBE_CROSS}`), null)
    )
    await expect(client(docker).images.inspect(KUBE_CROSS)).resolves.toBeNull()
  })
})

describe('ImageClient.pull', () => {
  it('follows the progress stream to its end, for the platform asked for', async () => {
    const { docker, progress, event } = fakeEngine()
    const { images, at } = client(docker)
    const pulled = images.pull(KUBE_CROSS, 'linux/arm64')
    event({ status: 'Pulling from build-image/kube-cross', id: 'v1.31.0' })
    event({ status: 'Downloading', id: 'layer1', progressDetail: { current: 1, total: 2 } })
    event({ status: 'Pull complete', id: 'layer1' })
    event({ status: `Status: Downloaded newer image for ${KUBE_CROSS}` })
    progress.end()
    await expect(pulled).resolves.toBeUndefined()
    expect(docker.pull).toHaveBeenCalledWith(KUBE_CROSS, {
      platform: 'linux/arm64',
      abortSignal: expect.any(AbortSignal)
    })
    expect(at('info')).toContain(`  Status: Downloaded newer image for ${KUBE_CROSS}`)
  })

  it('reports the bytes downloaded over every layer, of their sizes, at each interval', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const { docker, progress, event } = fakeEngine()
      const { images, at } = client(docker)
      const pulled = images.pull(KUBE_CROSS)
      event({ status: 'Downloading', id: 'layer1', progressDetail: { current: MiB, total: 2 * MiB } })
      event({ status: 'Downloading', id: 'layer2', progressDetail: { current: 0, total: 2 * MiB } })
      await new Promise(resolve => setImmediate(resolve))
      vi.advanceTimersByTime(10_000)
      event({ status: 'Pull complete', id: 'layer1' })
      await new Promise(resolve => setImmediate(resolve))
      vi.advanceTimersByTime(10_000)
      progress.end()
      await pulled
      vi.advanceTimersByTime(10_000)
      expect(at('info').filter(line => line.startsWith('pulling'))).toEqual([
        `pulling ${KUBE_CROSS}: 1 MiB of 4 MiB, 102 KiB/s`,
        `pulling ${KUBE_CROSS}: 2 MiB of 4 MiB, 102 KiB/s`
      ])
    } finally {
      vi.useRealTimers()
    }
  })

  it("fails on an error event with the engine's message", async () => {
    const { docker, event } = fakeEngine()
    const pulled = client(docker).images.pull(KUBE_CROSS)
    event({ status: 'Pulling from build-image/kube-cross', id: 'v1.31.0' })
    event({
      error: 'manifest unknown',
      errorDetail: { message: `manifest for ${KUBE_CROSS} not found: manifest unknown` }
    })
    await expect(pulled).rejects.toThrow(ReleaseError)
    await expect(pulled).rejects.toThrow(
      `pulling ${KUBE_CROSS} failed: manifest for ${KUBE_CROSS} not found: manifest unknown`
    )
  })

  it('fails a stream silent for the stall timeout as stalled, and aborts the request', async () => {
    const { docker, handed, event } = fakeEngine()
    const pulled = client(docker).images.pull(KUBE_CROSS)
    event({ status: 'Pulling from build-image/kube-cross', id: 'v1.31.0' })
    await expect(pulled).rejects.toThrow(
      `pulling ${KUBE_CROSS} stalled: the engine reported no progress for ${STALL_TIMEOUT_MS / 1000} s`
    )
    expect(handed).toHaveLength(1)
    expect(handed[0].aborted).toBe(true)
  })

  it('rearms the stall timeout on every event', async () => {
    vi.useFakeTimers()
    try {
      const { docker, progress, event } = fakeEngine()
      const pulled = client(docker).images.pull(KUBE_CROSS)
      // Three stall timeouts in all, never one without an event.
      for (let i = 0; i < 6; i++) {
        event({ status: 'Downloading', id: 'layer1', progressDetail: { current: i, total: 6 } })
        await vi.advanceTimersByTimeAsync(STALL_TIMEOUT_MS / 2)
      }
      progress.end()
      await expect(pulled).resolves.toBeUndefined()
    } finally {
      vi.useRealTimers()
    }
  })

  it('ends with CancelledError when the run is cancelled, aborting the request', async () => {
    const { docker, handed, event } = fakeEngine()
    const cancel = new AbortController()
    const pulled = client(docker, cancel.signal).images.pull(KUBE_CROSS)
    event({ status: 'Pulling from build-image/kube-cross', id: 'v1.31.0' })
    await vi.waitFor(() => expect(handed).toHaveLength(1))
    cancel.abort()
    await expect(pulled).rejects.toThrow(CancelledError)
    expect(handed[0].aborted).toBe(true)
  })
})

describe('ImageClient.tag', () => {
  it.each([
    ['kube-build:build-0123456789-5-v1.31.0', 'kube-build', 'build-0123456789-5-v1.31.0'],
    ['localhost:5000/build-image/kube-cross:v1.31.0', 'localhost:5000/build-image/kube-cross', 'v1.31.0']
  ])('tags %s as repository %s and tag %s', async (ref, repo, tag) => {
    const { docker, image } = fakeEngine()
    await client(docker).images.tag('sha256:abc', ref)
    expect(docker.getImage).toHaveBeenCalledWith('sha256:abc')
    expect(image.tag).toHaveBeenCalledWith({ repo, tag, abortSignal: expect.any(AbortSignal) })
  })
})

describe('ImageClient.save', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-image-save-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const manifest = (layers: string[]): TarMember => ({
    kind: 'data',
    path: 'manifest.json',
    data: JSON.stringify([{ Config: 'config.json', RepoTags: [KUBE_CROSS], Layers: layers }]),
    mode: 0o644
  })
  const file = (path: string): TarMember => ({ kind: 'data', path, data: `${path} bytes`, mode: 0o644 })

  /** Saves KUBE_CROSS from an engine whose export is the tar of `members`. */
  async function save(members: TarMember[]): Promise<string> {
    const { docker } = fakeEngine()
    const archive = await tarBuffer(members)
    docker.modem.dial.mockImplementationOnce((_options, callback) => callback(null, Readable.from([archive])))
    const path = join(dir, 'kube-cross.tar')
    await client(docker).images.save(KUBE_CROSS, path)
    expect(docker.modem.dial.mock.calls[0][0]).toMatchObject({ path: `/images/${KUBE_CROSS}/get` })
    return path
  }

  it('writes an archive that holds every layer its manifest names, repeated layers as links', async () => {
    await expect(
      save([
        file('config.json'),
        file('aaa/layer.tar'),
        { kind: 'symlink', path: 'bbb/layer.tar', target: '../aaa/layer.tar' },
        manifest(['aaa/layer.tar', 'bbb/layer.tar'])
      ])
    ).resolves.toBe(join(dir, 'kube-cross.tar'))
  })

  it('refuses an archive whose manifest names layers it does not hold (containerd store)', async () => {
    const saving = save([
      file('config.json'),
      file('blobs/sha256/aaa'),
      manifest(['blobs/sha256/aaa', 'blobs/sha256/bbb', 'blobs/sha256/ccc'])
    ])
    await expect(saving).rejects.toThrow(ReleaseError)
    await expect(saving).rejects.toThrow(
      /lacks 2 of the files its manifest names \(blobs\/sha256\/bbb, blobs\/sha256\/ccc\)/
    )
  })

  it('refuses an archive without a manifest, or whose link points at nothing', async () => {
    await expect(save([file('config.json'), file('aaa/layer.tar')])).rejects.toThrow(/manifest\.json/)
    await expect(
      save([
        file('config.json'),
        { kind: 'symlink', path: 'bbb/layer.tar', target: '../aaa/layer.tar' },
        manifest(['bbb/layer.tar'])
      ])
    ).rejects.toThrow(/bbb\/layer\.tar/)
  })
})
