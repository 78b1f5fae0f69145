// Images through the Engine API, against a fake dockerode: inspect, a pull read from its progress
// stream (error events, a stalled stream, the run's cancel) and tags split as the engine wants them.
import { PassThrough } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'
import { ImageClient } from '../../../src/docker/images.js'
import { CancelledError, ReleaseError } from '../../../src/errors.js'
import { engineError, fakeCalls, realModem, recordingLog } from '../../helpers/fake-engine.js'

const KUBE_CROSS = 'registry.k8s.io/build-image/kube-cross:v1.31.0-go1.22.5-bullseye.0'
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
    expect(at('info')).toContain(`  ${KUBE_CROSS}: 0/1 layers complete`)
    expect(at('info')).toContain(`  Status: Downloaded newer image for ${KUBE_CROSS}`)
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
