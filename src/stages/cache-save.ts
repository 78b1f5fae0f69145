// The closing stage (none upstream): the caches saved as the policy says, after success or failure —
// kube-cross when this run pulled it, the Go build cache with what the build used — and a warning
// when this run's entries approach the room the cache keeps (in the log and the summary).
import { join } from 'node:path'
import { saveBuildCache } from '../cache/build-cache.js'
import { ImageCache, KUBE_CROSS_ARCHIVE } from '../cache/image-cache.js'
import { imageCacheKey } from '../cache/keys.js'
import { saveDecision } from '../cache/policy.js'
import { cacheRoom } from '../cache/quota.js'
import type { ImageFacts } from '../docker/images.js'
import type { Transfer } from '../progress.js'
import type { KubeCrossSource } from '../run/state.js'
import type { ClosingStage } from '../run/stage.js'

/**
 * The kube-cross entry's bytes: the archive this run loaded or saved. A pulled image that was not saved
 * (its entry existed, or the disk lacked room) is measured in the engine; its size stands for its archive's.
 */
async function kubeCrossEntryBytes(
  source: KubeCrossSource,
  saved: Transfer | null,
  inspect: () => Promise<ImageFacts | null>
): Promise<number> {
  if (source.from === 'engine') return 0
  if (source.from === 'cache') return source.bytes
  return saved?.bytes ?? (await inspect().catch(() => null))?.bytes ?? 0
}

export const saveCaches: ClosingStage = {
  name: 'cache',
  decide(ctx, state, outcome) {
    if (!ctx.cache || !state.engine || !state.buildImage) return { run: false }
    const decision = saveDecision(ctx.config.cache.save, outcome.succeeded, ctx.env)
    return decision.save ? { run: true } : { run: false, log: `caches not saved: ${decision.reason}` }
  },
  async run(ctx, state) {
    const { engine, buildImage, workspace } = state
    if (!ctx.cache || !engine || !buildImage) return {}
    const { from } = buildImage.kubeCrossSource
    const { os, arch } = engine.info
    const archive = join(ctx.cacheArchiveDir, KUBE_CROSS_ARCHIVE)
    const imageSaved =
      from === 'pull'
        ? await new ImageCache(ctx.cache, engine.images, ctx.log, archive).save(
            buildImage.kubeCross,
            imageCacheKey(buildImage.kubeCross, os, arch)
          )
        : null
    const buildCache = workspace?.buildCache
    const buildSaved = buildCache ? await saveBuildCache(buildCache.target, buildCache.use) : null
    const buildBytes = buildSaved?.bytes ?? buildCache?.use.restoredBytes ?? 0
    const imageBytes = await kubeCrossEntryBytes(buildImage.kubeCrossSource, imageSaved, () =>
      engine.images.inspect(buildImage.kubeCross)
    )
    const room = cacheRoom(
      [
        { name: 'kube-cross image', bytes: imageBytes },
        { name: 'build cache', bytes: buildBytes }
      ],
      ctx.cache.quotaBytes,
      ctx.cache.description
    )
    if (room.warning) ctx.log.warning(room.warning)
    return { cacheRoom: room, cacheSaves: { image: imageSaved, build: buildSaved } }
  }
}
