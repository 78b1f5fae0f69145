// Images through the Engine API: presence, pull with condensed progress, classic builds, save and load.
import { createReadStream, createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ReleaseError } from '../errors.js'
import type { Logger } from '../logger.js'
import { startProgress } from '../progress.js'
import type Dockerode from 'dockerode'
import { get, unlessMissing, type EngineCalls } from './calls.js'
import { missingArchiveMembers } from './image-archive/export-reader.js'
import { firstCut, hasEveryLabel } from './labels.js'

interface ProgressEvent {
  status?: string
  id?: string
  stream?: string
  error?: string
  errorDetail?: { message?: string }
  progressDetail?: { current?: number; total?: number }
}

/** What the rest of the code needs to know of an image on the engine. */
export interface ImageFacts {
  readonly id: string
  readonly os: string
  readonly architecture: string
  readonly bytes: number
}

export class ImageClient {
  constructor(
    private readonly calls: EngineCalls,
    private readonly log: Logger,
    /** A pull, load or build that reports nothing for this long is taken as stalled. */
    private readonly stallTimeoutMs: number
  ) {}

  /** The image's facts, or null when the engine has no such image. */
  async inspect(ref: string): Promise<ImageFacts | null> {
    const info = await this.calls.call(`inspecting image ${ref}`, abortSignal =>
      unlessMissing(get<Dockerode.ImageInspectInfo>(this.calls.docker, `/images/${ref}/json`, abortSignal))
    )
    return info && { id: info.Id, os: info.Os, architecture: info.Architecture, bytes: info.Size }
  }

  async exists(ref: string): Promise<boolean> {
    return (await this.inspect(ref)) !== null
  }

  /**
   * Pulls an image, for one platform when given (the engine's tag then points at that platform's
   * image); a long pull reports the bytes downloaded over all its layers at a steady interval.
   */
  async pull(ref: string, platform?: string): Promise<void> {
    /** Per layer: bytes downloaded and its size, as the engine reports them. */
    const layers = new Map<string, { current: number; total: number }>()
    const progress = startProgress(`pulling ${ref}`, this.log)
    try {
      await this.follow(
        `pulling ${ref}`,
        abortSignal => this.calls.docker.pull(ref, { ...(platform ? { platform } : {}), abortSignal }),
        event => {
          if (event.id && event.status && !event.status.startsWith('Pulling from')) {
            const layer = layers.get(event.id) ?? { current: 0, total: 0 }
            const detail = event.progressDetail
            if (event.status === 'Downloading' && detail?.total) {
              layer.current = detail.current ?? 0
              layer.total = detail.total
            } else if (event.status === 'Download complete' || event.status === 'Pull complete') {
              layer.current = layer.total
            }
            layers.set(event.id, layer)
            const sum = (of: 'current' | 'total'): number =>
              [...layers.values()].reduce((bytes, l) => bytes + l[of], 0)
            progress.set(sum('current'), sum('total'))
          } else if (event.status) {
            this.log.info(`  ${event.status}`)
          }
        }
      )
    } finally {
      progress.stop()
    }
  }

  /** Points `ref` (repository:tag) at the image `source` names. */
  async tag(source: string, ref: string): Promise<void> {
    const colon = ref.lastIndexOf(':')
    await this.calls.call(`tagging ${source} as ${ref}`, abortSignal =>
      this.calls.docker
        .getImage(source)
        .tag({ repo: ref.slice(0, colon), tag: ref.slice(colon + 1), abortSignal })
    )
  }

  /** Removes a tag; the image goes with its last tag. A tag already gone is not an error. */
  async untag(ref: string): Promise<void> {
    await this.calls.call(`removing ${ref}`, abortSignal =>
      unlessMissing(this.calls.docker.getImage(ref).remove({ abortSignal }))
    )
  }

  /** A docker-archive of the image (`docker save`) as a stream; it takes as long as it takes. */
  async export(ref: string): Promise<NodeJS.ReadableStream> {
    return this.calls.call(
      `exporting image ${ref}`,
      abortSignal =>
        get<NodeJS.ReadableStream>(this.calls.docker, `/images/${ref}/get`, abortSignal, { isStream: true }),
      { timeoutMs: null }
    )
  }

  /**
   * Writes the image as a docker-archive (`docker save`), streamed to the file, and checks as it
   * goes by that the archive holds every layer its manifest names. Reports progress.
   */
  async save(ref: string, file: string): Promise<void> {
    const archive = await this.export(ref)
    const toFile = new PassThrough()
    const toCheck = new PassThrough()
    archive.on('error', err => [toFile, toCheck].forEach(stream => stream.destroy(err)))
    // A check that fails early lets go of its copy; the writes still under way then must not throw.
    toCheck.on('error', () => undefined)
    archive.pipe(toFile)
    archive.pipe(toCheck)
    const progress = startProgress(`saving ${ref}`, this.log)
    const [written, checked] = await Promise.allSettled([
      pipeline(toFile, progress.counter(), createWriteStream(file)),
      missingArchiveMembers(toCheck)
    ]).finally(() => progress.stop())
    if (written.status === 'rejected') throw this.calls.failure(`saving ${ref}`, written.reason)
    if (checked.status === 'rejected')
      throw this.calls.failure(`reading the archive of ${ref}`, checked.reason)
    const missing = checked.value
    if (missing.length > 0) {
      throw new ReleaseError(
        `the engine's archive of ${ref} lacks ${missing.length} of the files its manifest names (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`,
        {
          fix: 'With the containerd image store, pull the image again so that the engine holds all of its layers'
        }
      )
    }
  }

  /** Loads a docker-archive (`docker load`), streamed from the file; a load error fails it. Reports progress. */
  async load(file: string): Promise<void> {
    const progress = startProgress(`loading ${file}`, this.log, { total: (await stat(file)).size })
    try {
      await this.follow(
        `loading ${file}`,
        abortSignal =>
          this.calls.docker.loadImage(Readable.from(progress.count(createReadStream(file))), {
            abortSignal
          }),
        event => {
          const text = event.stream?.trimEnd()
          if (text) this.log.debug(text)
        }
      )
    } finally {
      progress.stop()
    }
  }

  /** Classic (non-BuildKit) build from a tar context; build output goes to the log line by line. */
  async build(
    context: Readable,
    options: { tag: string; buildArgs: Record<string, string>; labels: Record<string, string> }
  ): Promise<void> {
    await this.follow(
      `building ${options.tag}`,
      abortSignal =>
        this.calls.docker.buildImage(context, {
          t: options.tag,
          buildargs: options.buildArgs,
          labels: options.labels,
          rm: true,
          forcerm: true,
          abortSignal
        }),
      event => {
        const text = event.stream?.trimEnd()
        if (text) this.log.info(`  ${text}`)
      }
    )
  }

  /** Every image carrying all of `labels`, removed; returns how many. Runs after a cancel too. */
  async removeLabelled(labels: readonly string[]): Promise<number> {
    const listed = await this.calls.call(
      'listing images',
      abortSignal => this.calls.docker.listImages({ filters: firstCut(labels), abortSignal }),
      { cancellable: false }
    )
    const labelled = listed.filter(image => hasEveryLabel(image.Labels, labels))
    for (const image of labelled) {
      await this.calls.call(
        `removing image ${image.Id}`,
        abortSignal =>
          unlessMissing(this.calls.docker.getImage(image.Id).remove({ force: true, abortSignal })),
        { cancellable: false }
      )
    }
    return labelled.length
  }

  /**
   * Starts a request answered with a JSON progress stream and reads it to its end: an error event
   * fails it, and so does silence for the stall timeout, which aborts the request on the engine too.
   */
  private async follow(
    operation: string,
    start: (abortSignal: AbortSignal) => Promise<NodeJS.ReadableStream>,
    onEvent: (event: ProgressEvent) => void
  ): Promise<void> {
    const stalled = new AbortController()
    await this.calls.call(
      operation,
      async abortSignal => {
        const signal = AbortSignal.any([abortSignal, stalled.signal])
        const stream = (await start(signal)) as Readable
        await new Promise<void>((resolve, reject) => {
          let watchdog: NodeJS.Timeout | undefined
          const rearm = (): void => {
            clearTimeout(watchdog)
            watchdog = setTimeout(() => {
              const silence = `the engine reported no progress for ${this.stallTimeoutMs / 1000} s`
              stalled.abort()
              stream.destroy()
              reject(new ReleaseError(`${operation} stalled: ${silence}`))
            }, this.stallTimeoutMs)
          }
          rearm()
          this.calls.docker.modem.followProgress(
            stream,
            (err: Error | null) => {
              clearTimeout(watchdog)
              if (err) reject(err)
              else resolve()
            },
            (event: ProgressEvent) => {
              rearm()
              if (event.error) {
                clearTimeout(watchdog)
                stream.destroy()
                reject(new ReleaseError(`${operation} failed: ${event.errorDetail?.message ?? event.error}`))
                return
              }
              onEvent(event)
            }
          )
        })
      },
      { timeoutMs: null }
    )
  }
}
