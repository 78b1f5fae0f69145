// Stage 2 (kube::build::build_image): kube-cross on the engine, and for legacy trees the kube-build
// image built from build/build-image/Dockerfile. The kube-build tag is a hash of everything that goes
// into it, so an unchanged tree reuses its image and repeated runs leave no dangling images.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { tarBuffer, type TarMember } from '../archive/tar.js'
import { ImageCache } from '../cache/image-cache.js'
import { imageCacheKey } from '../cache/keys.js'
import { ImageClient } from '../docker/images.js'
import { createLabels } from '../docker/labels.js'
import type { Prereqs } from './prereqs.js'
import type { RunContext } from './context.js'

export interface BuildImage {
  /** The image build containers run: kube-build for legacy trees, else kube-cross itself. */
  readonly ref: string
  readonly kubeCross: string
  /** Names the data volume: a new image version starts from a new volume, as upstream. */
  readonly version: string
  readonly kubeCrossSource: KubeCrossSource
}

const IMAGE_ARCHIVE = 'kube-cross.tar'

export class ImageError extends Error {}

/**
 * The Dockerfile ADDs rsyncd.password. Each rsync daemon gets a fresh password at run time instead,
 * so this fixed text keeps the image identical from run to run.
 */
const PASSWORD_PLACEHOLDER = 'not-used: rsync daemons get their password at run time\n'

/** How kube-cross came onto the engine: already there, from the cache (the matched key), or pulled. */
export type KubeCrossSource =
  { readonly from: 'engine' } | { readonly from: 'cache'; readonly key: string } | { readonly from: 'pull' }

async function ensureKubeCross(
  images: ImageClient,
  ref: string,
  ctx: RunContext,
  prereqs: Prereqs
): Promise<KubeCrossSource> {
  if (await images.exists(ref)) {
    ctx.log.info(`kube-cross ${ref} is on the engine`)
    return { from: 'engine' }
  }
  if (ctx.cache) {
    const { os, arch } = prereqs.engine
    const key = await new ImageCache(ctx.cache, images, ctx.log, join(ctx.cacheFiles, IMAGE_ARCHIVE)).restore(
      ref,
      imageCacheKey(ref, os, arch)
    )
    if (key) return { from: 'cache', key }
  }
  ctx.log.info(`pulling kube-cross ${ref}`)
  try {
    await images.pull(ref)
  } catch (err) {
    throw new ImageError(
      `the kube-cross image ${ref} is not on the engine and could not be pulled: ${(err as Error).message}. ` +
        `Load it first (docker load) or name another image with the input 'kube-cross-image'.`
    )
  }
  return { from: 'pull' }
}

/** Saves kube-cross to the cache when this run pulled it. */
export async function saveKubeCross(ctx: RunContext, prereqs: Prereqs, image: BuildImage): Promise<boolean> {
  if (!ctx.cache || image.kubeCrossSource.from !== 'pull') return false
  const images = new ImageClient(prereqs.engine.docker, ctx.log, ctx.config.stallTimeoutMs)
  const { os, arch } = prereqs.engine
  return new ImageCache(ctx.cache, images, ctx.log, join(ctx.cacheFiles, IMAGE_ARCHIVE)).save(
    image.kubeCross,
    imageCacheKey(image.kubeCross, os, arch)
  )
}

async function buildContext(dir: string): Promise<TarMember[]> {
  let localtime: Buffer
  try {
    localtime = await readFile('/etc/localtime')
  } catch {
    throw new ImageError('the kube-build image needs /etc/localtime on this host, as upstream does')
  }
  const read = (name: string): Promise<Buffer> => readFile(join(dir, name))
  return [
    { kind: 'data', path: 'Dockerfile', data: await read('Dockerfile'), mode: 0o644 },
    { kind: 'data', path: 'rsyncd.sh', data: await read('rsyncd.sh'), mode: 0o755 },
    { kind: 'data', path: 'localtime', data: localtime, mode: 0o644 },
    { kind: 'data', path: 'rsyncd.password', data: PASSWORD_PLACEHOLDER, mode: 0o600 }
  ]
}

function contextHash(members: readonly TarMember[], kubeCrossId: string): string {
  const hash = createHash('sha256').update(kubeCrossId)
  for (const m of members) if (m.kind === 'data') hash.update(`\0${m.path}\0`).update(m.data)
  return hash.digest('hex').slice(0, 10)
}

export async function image(ctx: RunContext, prereqs: Prereqs): Promise<BuildImage> {
  const { config, log } = ctx
  const images = new ImageClient(prereqs.engine.docker, log, config.stallTimeoutMs)
  const kubeCross = `${config.kubeCross.repository}:${config.kubeCross.tag}`
  const kubeCrossSource = await ensureKubeCross(images, kubeCross, ctx, prereqs)

  const { buildImageDir, buildImageVersionBase } = config.tree
  if (!buildImageDir || !buildImageVersionBase) {
    log.info('the tree has no build/build-image/Dockerfile: builds run kube-cross directly')
    return { ref: kubeCross, kubeCross, version: config.kubeCross.tag, kubeCrossSource }
  }
  const version = `${buildImageVersionBase}-${config.kubeCross.tag}`
  const members = await buildContext(buildImageDir)
  const kubeCrossId = (await prereqs.engine.docker.getImage(kubeCross).inspect()).Id
  const ref = `kube-build:build-${contextHash(members, kubeCrossId)}-${version}`
  if (await images.exists(ref)) {
    log.info(`reusing ${ref}: its Dockerfile, context and kube-cross are unchanged`)
    return { ref, kubeCross, version, kubeCrossSource }
  }
  log.info(`building ${ref} from build/build-image/Dockerfile`)
  // Built under a tag of this run's own: a run building the same image at the same time must not
  // take the tag from under it and leave a dangling image behind.
  const scratch = `${ref}-${ctx.owner.runId}`
  await images.build(Readable.from(await tarBuffer(members)), {
    tag: scratch,
    buildArgs: { KUBE_CROSS_IMAGE: config.kubeCross.repository, KUBE_CROSS_VERSION: config.kubeCross.tag },
    labels: createLabels(ctx.owner, 'build-image')
  })
  if (await images.exists(ref)) log.info(`another run built ${ref} meanwhile: using that one`)
  else await images.tag(scratch, ref)
  await images.untag(scratch)
  return { ref, kubeCross, version, kubeCrossSource }
}
