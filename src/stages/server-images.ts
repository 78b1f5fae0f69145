// Part of stage 6 (create_docker_images_for_server): the image archives of the linux server
// platforms, each its base image for that platform plus one layer with the binary — no buildx, no
// emulation. Written to <output>/release-images/<arch>/<bin>.tar, which the server tarballs embed.
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BaseImageCache } from '../docker/image-archive/base-images.js'
import { writeServerImage } from '../docker/image-archive/server-image.js'
import { ImageClient } from '../docker/images.js'
import { dockerTag, serverImageSpecs, serverImageTags } from '../kube/server-images.js'
import type { ServerImageFile } from '../kube/tarballs.js'
import type { RunContext } from './context.js'
import type { BuildOutput } from './output.js'
import type { Prereqs } from './prereqs.js'

export async function makeServerImages(
  ctx: RunContext,
  prereqs: Prereqs,
  out: BuildOutput,
  imagesDir: string,
  created: Date
): Promise<Map<string, ServerImageFile[]>> {
  const images = new Map<string, ServerImageFile[]>()
  const platforms = [...prereqs.plan.built].filter(
    ([p, groups]) => p.startsWith('linux/') && groups.has('server')
  )
  await rm(imagesDir, { recursive: true, force: true })
  if (platforms.length === 0) return images
  const version = prereqs.version.version
  const specs = serverImageSpecs(ctx.env, ctx.config.baseImages)
  const { docker } = prereqs.engine
  const bases = new BaseImageCache(
    new ImageClient(docker, ctx.log, ctx.config.stallTimeoutMs),
    ctx.log,
    ctx.config.outputDir
  )
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
            binaryPath: join(out.binDir, platform, spec.binary),
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
  return images
}
