// The closing stage (none upstream): the caches saved as the policy says, after success or failure —
// kube-cross when this run pulled it, the Go build cache with what the build used — and a warning
// when this run's entries approach the room the cache keeps (in the log and the summary).
import { join } from 'node:path'
import { saveBuildCache } from '../cache/build-cache.js'
import { ImageCache, KUBE_CROSS_ARCHIVE } from '../cache/image-cache.js'
import { imageCacheKey } from '../cache/keys.js'
import { saveDecision } from '../cache/policy.js'
import { cacheRoom } from '../cache/quota.js'
import type { ClosingStage } from '../run/stage.js'

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
    // The image's size stands for its entry's (an archive of its layers), when this run saved or loaded it.
    const imageBytes =
      from === 'engine'
        ? 0
        : ((await engine.images.inspect(buildImage.kubeCross).catch(() => null))?.bytes ?? 0)
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
