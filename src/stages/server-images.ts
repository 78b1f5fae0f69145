// Stage 6a (create_docker_images_for_server): the image archives of the linux server platforms, each
// its base image for that platform plus one layer with the binary — no buildx, no emulation. Written to
// <output>/release-images/<arch>/<bin>.tar, which the server tarballs embed.
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BaseImageCache } from '../docker/image-archive/base-images.js'
import { writeServerImage } from '../docker/image-archive/server-image.js'
import { Input } from '../config.js'
import {
  dockerTag,
  serverImageSpecs,
  serverImageTags,
  unreadBaseImageVariables,
  type ServerImageSpec
} from '../kube/server-images.js'
import { readCommonSh } from '../kube/tree-base-images.js'
import type { ServerImageFile } from '../kube/tarballs.js'
import type { Stage } from '../run/stage.js'
import type { Binaries, Prerequisites, ServerImages } from '../run/state.js'

/** Where a server image's base came from, for the log. */
function baseImageOrigin({ binary, baseImageOrigin: origin }: ServerImageSpec): string {
  switch (origin.kind) {
    case 'input':
      return `from input '${binary === 'kube-proxy' ? Input.kubeProxyBaseImage : Input.goRunnerImage}'`
    case 'variable':
      return `from ${origin.name}`
    case 'tree':
      return `from the tree's build/common.sh${origin.variables.length > 0 ? `, with ${origin.variables.join(', ')}` : ''}`
    case 'default':
      return `built-in default: ${origin.reason}`
  }
}

export const serverImages: Stage<Prerequisites & Binaries, ServerImages> = {
  name: 'server-images',
  async run(ctx, state) {
    const { config } = ctx
    const imagesDir = join(config.outputDir, 'release-images')
    const images = new Map<string, ServerImageFile[]>()
    await rm(imagesDir, { recursive: true, force: true })
    const platforms = [...state.plan.built].filter(
      ([p, groups]) => p.startsWith('linux/') && groups.has('server')
    )
    if (!config.serverImages || platforms.length === 0) {
      ctx.log.info(
        config.serverImages ? 'no linux server platform: no server images' : 'server images are off'
      )
      return { serverImages: images }
    }
    const version = state.version.version
    const created = new Date(state.sourceDateEpoch * 1000)
    const commonSh = await readCommonSh(config.tree.root, ctx.env)
    const specs = serverImageSpecs(ctx.env, config.baseImages, commonSh)
    for (const spec of specs)
      ctx.log.info(`${spec.binary}: base image ${spec.baseImage} (${baseImageOrigin(spec)})`)
    for (const name of commonSh ? unreadBaseImageVariables(ctx.env, commonSh) : []) {
      ctx.log.warning(`${name} is set, but the tree's build/common.sh does not read it: it changes nothing`)
    }
    const bases = new BaseImageCache(state.engine.images, ctx.log, config.outputDir)
    try {
      const jobs = platforms.flatMap(([platform, groups]) => {
        const built = new Set([...groups.values()].flat())
        const arch = platform.split('/')[1]
        return specs
          .filter(spec => built.has(spec.binary))
          .map(async spec => {
            const dir = join(imagesDir, arch)
            await mkdir(dir, { recursive: true })
            const archive = join(dir, `${spec.binary}.tar`)
            await writeServerImage({
              bases,
              log: ctx.log,
              baseRef: spec.baseImage,
              platform,
              binaryPath: join(state.binDir, platform, spec.binary),
              imagePath: spec.imagePath,
              capabilities: spec.capabilities,
              entrypoint: spec.entrypoint,
              tags: serverImageTags(spec.binary, arch, version, ctx.env),
              created,
              output: archive
            })
            return { platform, file: { binary: spec.binary, archive, dockerTag: dockerTag(version) } }
          })
      })
      for (const { platform, file } of await Promise.all(jobs)) {
        images.set(platform, [...(images.get(platform) ?? []), file])
      }
    } finally {
      await bases.dispose()
    }
    return { serverImages: images }
  }
}
