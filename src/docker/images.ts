// Images through the Engine API: presence, pull with condensed progress, classic builds.
import type Dockerode from 'dockerode'
import { createReadStream, createWriteStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Logger } from '../logger.js'
import { operationFailed, statusCode, withTimeout } from './errors.js'

interface ProgressEvent {
  status?: string
  id?: string
  stream?: string
  error?: string
  errorDetail?: { message?: string }
  aux?: { ID?: string }
}

/** How often pull progress is summarised in the log. */
const PROGRESS_INTERVAL_MS = 10_000
/** A pull or build that reports nothing for this long is taken as stalled. */
export const DEFAULT_STALL_TIMEOUT_MS = 300_000

export class ImageClient {
  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
    private readonly stallTimeoutMs = DEFAULT_STALL_TIMEOUT_MS
  ) {}

  /** The image's inspect data, or null when the engine has no such image. */
  async inspect(ref: string): Promise<Dockerode.ImageInspectInfo | null> {
    try {
      return await withTimeout(`inspecting image ${ref}`, this.docker.getImage(ref).inspect())
    } catch (err) {
      if (statusCode(err) === 404) return null
      throw operationFailed(`inspecting image ${ref}`, err)
    }
  }

  async exists(ref: string): Promise<boolean> {
    return (await this.inspect(ref)) !== null
  }

  /**
   * Pulls an image, for one platform when given (the engine's tag then points at that platform's
   * image); the log gets a summary line at most every few seconds, not every layer tick.
   */
  async pull(ref: string, platform?: string): Promise<void> {
    let stream: Readable
    try {
      stream = (await this.docker.pull(ref, platform ? { platform } : {})) as Readable
    } catch (err) {
      throw operationFailed(`pulling ${ref}`, err)
    }
    const layers = new Map<string, string>()
    let lastReport = 0
    await this.follow(stream, `pulling ${ref}`, event => {
      if (event.id && event.status && !event.status.startsWith('Pulling from')) {
        layers.set(event.id, event.status)
        const now = Date.now()
        if (now - lastReport >= PROGRESS_INTERVAL_MS) {
          lastReport = now
          const complete = [...layers.values()].filter(
            s => s === 'Pull complete' || s === 'Already exists'
          ).length
          this.log.info(`  ${ref}: ${complete}/${layers.size} layers complete`)
        }
      } else if (event.status) {
        this.log.info(`  ${event.status}`)
      }
    })
  }

  /** Points `ref` (repository:tag) at the image `source` names. */
  async tag(source: string, ref: string): Promise<void> {
    const colon = ref.lastIndexOf(':')
    try {
      await withTimeout(
        `tagging ${ref}`,
        this.docker.getImage(source).tag({ repo: ref.slice(0, colon), tag: ref.slice(colon + 1) })
      )
    } catch (err) {
      throw operationFailed(`tagging ${source} as ${ref}`, err)
    }
  }

  /** Removes a tag; the image goes with its last tag. A tag already gone is not an error. */
  async untag(ref: string): Promise<void> {
    try {
      await withTimeout(`removing ${ref}`, this.docker.getImage(ref).remove())
    } catch (err) {
      if (statusCode(err) !== 404) throw operationFailed(`removing ${ref}`, err)
    }
  }

  /** Writes the image as a docker-archive (`docker save`), streamed to the file. */
  async save(ref: string, file: string): Promise<void> {
    try {
      await pipeline(await this.docker.getImage(ref).get(), createWriteStream(file))
    } catch (err) {
      throw operationFailed(`saving ${ref}`, err)
    }
  }

  /** The image as a docker-archive stream (GET /images/{id}/get), for the caller to read. */
  async export(id: string): Promise<NodeJS.ReadableStream> {
    try {
      return await this.docker.getImage(id).get()
    } catch (err) {
      throw operationFailed(`exporting image ${id}`, err)
    }
  }

  /** Loads a docker-archive (`docker load`), streamed from the file; a load error fails it. */
  async load(file: string): Promise<void> {
    let stream: Readable
    try {
      stream = (await this.docker.loadImage(createReadStream(file))) as Readable
    } catch (err) {
      throw operationFailed(`loading ${file}`, err)
    }
    await this.follow(stream, `loading ${file}`, event => {
      const text = event.stream?.trimEnd()
      if (text) this.log.debug(text)
    })
  }

  /** Classic (non-BuildKit) build from a tar context; build output goes to the log line by line. */
  async build(
    context: Readable,
    options: { tag: string; buildArgs: Record<string, string>; labels: Record<string, string> }
  ): Promise<void> {
    let stream: Readable
    try {
      stream = (await this.docker.buildImage(context, {
        t: options.tag,
        buildargs: options.buildArgs,
        labels: options.labels,
        rm: true,
        forcerm: true
      })) as Readable
    } catch (err) {
      throw operationFailed(`building ${options.tag}`, err)
    }
    await this.follow(stream, `building ${options.tag}`, event => {
      const text = event.stream?.trimEnd()
      if (text) this.log.info(`  ${text}`)
    })
  }

  /** Reads a JSON progress stream to its end; an error event fails the operation. */
  private follow(
    stream: Readable,
    operation: string,
    onEvent: (event: ProgressEvent) => void
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      let watchdog: NodeJS.Timeout | undefined
      const rearm = (): void => {
        clearTimeout(watchdog)
        watchdog = setTimeout(() => {
          stream.destroy()
          reject(
            new Error(
              `${operation} stalled: the engine reported no progress for ${this.stallTimeoutMs / 1000} s`
            )
          )
        }, this.stallTimeoutMs)
      }
      rearm()
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => {
          clearTimeout(watchdog)
          if (err) reject(operationFailed(operation, err))
          else resolve()
        },
        (event: ProgressEvent) => {
          rearm()
          if (event.error) {
            stream.destroy()
            reject(new Error(`${operation} failed: ${event.errorDetail?.message ?? event.error}`))
            return
          }
          onEvent(event)
        }
      )
    })
  }
}
