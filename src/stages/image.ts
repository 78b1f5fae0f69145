// Stage 2 (kube::build::build_image): kube-cross on the engine (already there, from the cache, or
// pulled), and for legacy trees the kube-build image built from build/build-image/Dockerfile.
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { tarBuffer } from '../archive/tar.js'
import { ImageCache, KUBE_CROSS_ARCHIVE } from '../cache/image-cache.js'
import { imageCacheKey } from '../cache/keys.js'
import type { ImageClient } from '../docker/images.js'
import { createLabels } from '../docker/labels.js'
import { ReleaseError, errorMessage } from '../errors.js'
import { buildImageArgs, buildImageContext, buildImageRef } from '../kube/build-image.js'
import { Output } from '../report/report.js'
import type { RunContext } from '../run/context.js'
import type { Stage } from '../run/stage.js'
import type { BuildContainerImage, KubeCrossSource, Prerequisites } from '../run/state.js'

async function ensureKubeCross(ctx: RunContext, state: Prerequisites, ref: string): Promise<KubeCrossSource> {
  const { images, info } = state.engine
  if (await images.exists(ref)) {
    ctx.log.info(`kube-cross ${ref} is on the engine`)
    return { from: 'engine' }
  }
  if (ctx.cache) {
    const archive = join(ctx.cacheArchiveDir, KUBE_CROSS_ARCHIVE)
    const restored = await new ImageCache(ctx.cache, images, ctx.log, archive).restore(
      ref,
      imageCacheKey(ref, info.os, info.arch)
    )
    if (restored) return { from: 'cache', ...restored }
  }
  ctx.log.info(`pulling kube-cross ${ref}`)
  try {
    await images.pull(ref)
  } catch (err) {
    throw new ReleaseError(
      `the kube-cross image ${ref} is not on the engine and could not be pulled: ${errorMessage(err)}`,
      {
        fix: "Load it first (docker load) or name another image with the input 'kube-cross-image'",
        cause: err
      }
    )
  }
  return { from: 'pull' }
}

/** The kube-build image of a legacy tree, built unless an image of the same inputs is there. */
async function ensureKubeBuild(
  ctx: RunContext,
  images: ImageClient,
  kubeCross: string,
  version: string,
  dir: string
): Promise<string> {
  const { log, config } = ctx
  const context = await buildImageContext(dir)
  const kubeCrossFacts = await images.inspect(kubeCross)
  if (!kubeCrossFacts) throw new ReleaseError(`kube-cross ${kubeCross} went missing from the engine`)
  const ref = buildImageRef(context, kubeCrossFacts.id, version)
  if (await images.exists(ref)) {
    log.info(`reusing ${ref}: its Dockerfile, context and kube-cross are unchanged`)
    return ref
  }
  log.info(`building ${ref} from build/build-image/Dockerfile`)
  // Built under a tag of this run's own: a run building the same image at the same time must not
  // take the tag from under it and leave a dangling image behind.
  const runTag = `${ref}-${ctx.owner.runId}`
  await images.build(Readable.from(await tarBuffer(context)), {
    tag: runTag,
    buildArgs: buildImageArgs(config.kubeCross),
    labels: createLabels(ctx.owner, 'build-image')
  })
  if (await images.exists(ref)) log.info(`another run built ${ref} meanwhile: using that one`)
  else await images.tag(runTag, ref)
  await images.untag(runTag)
  return ref
}

export const image: Stage<Prerequisites, BuildContainerImage> = {
  name: 'image',
  async run(ctx, state) {
    const { config, log, reporter } = ctx
    const kubeCross = `${config.kubeCross.repository}:${config.kubeCross.tag}`
    const kubeCrossSource = await ensureKubeCross(ctx, state, kubeCross)
    const cacheHit = kubeCrossSource.from === 'cache' ? kubeCrossSource.key : null
    reporter.setOutput(Output.imageCacheHit, String(cacheHit !== null))
    if (cacheHit) reporter.setOutput(Output.imageCacheKey, cacheHit)

    const { buildImageDir, buildImageVersionBase } = config.tree
    if (!buildImageDir || !buildImageVersionBase) {
      log.info('the tree has no build/build-image/Dockerfile: builds run kube-cross directly')
      return { buildImage: { ref: kubeCross, kubeCross, kubeCrossSource, version: config.kubeCross.tag } }
    }
    const version = `${buildImageVersionBase}-${config.kubeCross.tag}`
    const ref = await ensureKubeBuild(ctx, state.engine.images, kubeCross, version, buildImageDir)
    return { buildImage: { ref, kubeCross, kubeCrossSource, version } }
  }
}
