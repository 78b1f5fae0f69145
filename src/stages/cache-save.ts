// The closing stage (none upstream): the caches saved as the policy says, after success or failure —
// kube-cross when this run pulled it, the Go build cache with what the build used.
import { join } from 'node:path'
import { saveBuildCache } from '../cache/build-cache.js'
import { ImageCache, KUBE_CROSS_ARCHIVE } from '../cache/image-cache.js'
import { imageCacheKey } from '../cache/keys.js'
import { saveDecision } from '../cache/policy.js'
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
    if (!ctx.cache || !engine || !buildImage) return
    if (buildImage.kubeCrossSource.from === 'pull') {
      const { os, arch } = engine.info
      const archive = join(ctx.cacheArchiveDir, KUBE_CROSS_ARCHIVE)
      await new ImageCache(ctx.cache, engine.images, ctx.log, archive).save(
        buildImage.kubeCross,
        imageCacheKey(buildImage.kubeCross, os, arch)
      )
    }
    if (workspace?.buildCache) await saveBuildCache(workspace.buildCache.target, workspace.buildCache.use)
  }
}
