// The kube-cross image between runs: restored with a streamed `docker load` when the engine lacks
// it, saved with a streamed `docker save` after a pull. A cache problem is a warning, never a failure.
import { mkdir, rm, stat, statfs } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { ImageClient } from '../docker/images.js'
import { errorMessage } from '../errors.js'
import type { Logger } from '../logger.js'
import { secondsSince, type Transfer } from '../progress.js'
import type { CacheStore } from './store.js'

/** The archive's file name in the run's cache archive directory. */
export const KUBE_CROSS_ARCHIVE = 'kube-cross.tar'

/** Free space wanted beyond the image itself before an archive of it is written. */
const DISK_MARGIN_BYTES = 1024 ** 3

export class ImageCache {
  constructor(
    private readonly store: CacheStore,
    private readonly images: ImageClient,
    private readonly log: Logger,
    /** Where the archive is written: a stable path (the GitHub cache's version includes it). */
    private readonly file: string
  ) {}

  /** Loads the image from the cache: the matched key and what it moved, or undefined on a miss or a problem. */
  async restore(ref: string, key: string): Promise<(Transfer & { readonly key: string }) | undefined> {
    const started = performance.now()
    try {
      await mkdir(dirname(this.file), { recursive: true })
      const matched = await this.store.restore(this.file, key)
      if (!matched) {
        this.log.info(`image cache: no entry for ${key}`)
        return undefined
      }
      const { size } = await stat(this.file)
      await this.images.load(this.file)
      if (!(await this.images.exists(ref))) throw new Error(`the cached archive did not hold ${ref}`)
      this.log.info(`image cache: loaded ${ref} from ${this.store.description}`)
      return { key: matched, bytes: size, seconds: secondsSince(started) }
    } catch (err) {
      this.log.warning(`image cache: could not restore ${ref} (${errorMessage(err)}); pulling it instead`)
      return undefined
    } finally {
      await rm(this.file, { force: true })
    }
  }

  /**
   * Saves the image under `key` when the disk has room for its archive; problems are warnings.
   * What it moved, or null when nothing was saved.
   */
  async save(ref: string, key: string): Promise<Transfer | null> {
    const started = performance.now()
    try {
      const size = (await this.images.inspect(ref))?.bytes ?? 0
      await mkdir(dirname(this.file), { recursive: true })
      const { bavail, bsize } = await statfs(dirname(this.file))
      if (bavail * bsize < size + DISK_MARGIN_BYTES) {
        this.log.warning(`image cache: not saving ${ref}: ${dirname(this.file)} lacks room for its archive`)
        return null
      }
      await this.images.save(ref, this.file)
      const { size: bytes } = await stat(this.file)
      const saved = await this.store.save(this.file, key)
      this.log.info(saved ? `image cache: saved ${ref} as ${key}` : `image cache: ${key} exists already`)
      return saved ? { bytes, seconds: secondsSince(started) } : null
    } catch (err) {
      this.log.warning(`image cache: could not save ${ref}: ${errorMessage(err)}`)
      return null
    } finally {
      await rm(this.file, { force: true })
    }
  }
}
