// Stage 6a (build_server_images, create_docker_images_for_server): the image archives, each its base
// image for the platform plus new layers — no buildx, no emulation. The five server images of each
// linux server platform go to <output>/release-images/<arch>/<bin>.tar, which the server tarballs
// embed; the conformance image (conformance-<arch>.tar) and the windows kube-proxy
// (amd64/kube-proxy.exe.tar) go only there, as upstream's.
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BaseImageCache } from '../docker/image-archive/base-images.js'
import { copyEntries, type BuildContext } from '../docker/image-archive/build-context.js'
import type { ConfigPatch } from '../docker/image-archive/image-config.js'
import { writeImage, type WriteStep } from '../docker/image-archive/image-writer.js'
import { writeServerImage } from '../docker/image-archive/server-image.js'
import { Input } from '../inputs.js'
import { ReleaseError } from '../errors.js'
import { interpretDockerfile, type ConfigChange, type ImageRecipe } from '../kube/dockerfile.js'
import {
  CONFORMANCE_IMAGE_DIR,
  DEFAULT_KUBE_PROXY_WINDOWS_BASE_IMAGE,
  WINDOWS_KUBE_PROXY_FILE,
  conformanceBuildArgs,
  conformanceContext,
  conformanceImage,
  windowsDockerfileCandidates
} from '../kube/extra-images.js'
import { SERVER_PLATFORMS } from '../kube/platforms.js'
import {
  dockerTag,
  serverImageSpecs,
  serverImageTags,
  unreadBaseImageVariables,
  type ServerImageSpec
} from '../kube/server-images.js'
import { readCommonSh } from '../kube/tree-base-images.js'
import type { ServerImageFile } from '../kube/tarballs.js'
import { CONFORMANCE_IMAGE_TARGETS, WINDOWS_IMAGE_PLATFORM, binaryFileName } from '../kube/targets.js'
import { Output } from '../report/report.js'
import type { RunContext } from '../run/context.js'
import type { Stage } from '../run/stage.js'
import type { Binaries, ImageArchive, Prerequisites, ServerImages } from '../run/state.js'

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

type Needs = Prerequisites & Binaries

/** A Dockerfile instruction's config change in the image config's own terms. */
function configPatch(change: ConfigChange): ConfigPatch {
  return {
    Env: change.env?.map(([name, value]) => `${name}=${value}`),
    Entrypoint: change.entrypoint,
    Cmd: change.cmd,
    WorkingDir: change.workingDir,
    Labels: change.labels,
    User: change.user,
    ExposedPorts: change.exposedPorts,
    Volumes: change.volumes,
    StopSignal: change.stopSignal,
    Shell: change.shell
  }
}

/** The recipe's steps with every COPY resolved against the context. */
async function writeSteps(recipe: ImageRecipe, context: BuildContext): Promise<WriteStep[]> {
  const steps: WriteStep[] = []
  for (const step of recipe.steps) {
    if (step.kind === 'config') steps.push({ createdBy: step.instruction, patch: configPatch(step.change) })
    else
      steps.push({
        createdBy: `${step.instruction} # kube-release-action`,
        entries: await copyEntries(context, step)
      })
  }
  return steps
}

interface DockerfileImage {
  readonly dockerfile: string
  readonly buildArgs: Record<string, string>
  readonly context: BuildContext
  readonly platform: string
  readonly tags: readonly string[]
  readonly output: string
}

/** Writes the image a tree's Dockerfile describes, for one platform. */
async function writeDockerfileImage(
  ctx: RunContext,
  state: Needs,
  bases: BaseImageCache,
  image: DockerfileImage
): Promise<ImageArchive> {
  const root = ctx.config.tree.root
  const text = await readFile(join(root, image.dockerfile), 'utf8')
  const recipe = interpretDockerfile(text, {
    path: image.dockerfile,
    buildArgs: image.buildArgs,
    platform: image.platform
  })
  ctx.log.info(`${image.output}: ${image.dockerfile} on ${recipe.base} (${image.platform})`)
  await writeImage({
    bases,
    log: ctx.log,
    baseRef: recipe.base,
    platform: image.platform,
    steps: await writeSteps(recipe, image.context),
    tags: image.tags,
    created: new Date(state.sourceDateEpoch * 1000),
    output: image.output
  })
  return { platform: image.platform, path: image.output, tags: image.tags }
}

/** The first of the paths the tree has. */
async function firstPresent(root: string, paths: readonly string[]): Promise<string> {
  for (const path of paths) {
    if (
      await readFile(join(root, path)).then(
        () => true,
        () => false
      )
    )
      return path
  }
  throw new ReleaseError(`the tree has none of ${paths.join(', ')}`)
}

/** The conformance image of each linux server platform whose conformance binaries were built. */
function conformanceJobs(
  ctx: RunContext,
  state: Needs,
  bases: BaseImageCache,
  imagesDir: string
): Promise<ImageArchive>[] {
  const needed = CONFORMANCE_IMAGE_TARGETS.map(t => t.binary)
  return [...state.plan.built]
    .filter(([platform, groups]) => {
      const built = new Set([...groups.values()].flat())
      return (SERVER_PLATFORMS as readonly string[]).includes(platform) && needed.every(b => built.has(b))
    })
    .map(async ([platform]) => {
      const arch = platform.split('/')[1]
      const root = ctx.config.tree.root
      const { file, tag } = conformanceImage(arch, state.version.version)
      await mkdir(join(imagesDir, arch), { recursive: true })
      return writeDockerfileImage(ctx, state, bases, {
        dockerfile: `${CONFORMANCE_IMAGE_DIR}/Dockerfile`,
        buildArgs: await conformanceBuildArgs(root, arch, state.version.version, ctx.env),
        context: await conformanceContext(root, join(state.binDir, platform)),
        platform,
        tags: [tag],
        output: join(imagesDir, arch, file)
      })
    })
}

/** kube-proxy for windows/amd64, from the tree's Dockerfile_windows (or the Dockerfile upstream falls back to). */
async function windowsKubeProxy(
  ctx: RunContext,
  state: Needs,
  bases: BaseImageCache,
  imagesDir: string
): Promise<ImageArchive> {
  const arch = WINDOWS_IMAGE_PLATFORM.split('/')[1]
  const binary = binaryFileName('kube-proxy', WINDOWS_IMAGE_PLATFORM)
  await mkdir(join(imagesDir, arch), { recursive: true })
  return writeDockerfileImage(ctx, state, bases, {
    dockerfile: await firstPresent(ctx.config.tree.root, windowsDockerfileCandidates('kube-proxy')),
    buildArgs: {
      BASEIMAGE: ctx.env.KUBE_PROXY_WINDOWS_BASE_IMAGE || DEFAULT_KUBE_PROXY_WINDOWS_BASE_IMAGE,
      BINARY: binary
    },
    context: new Map([[binary, { path: join(state.binDir, WINDOWS_IMAGE_PLATFORM, binary) }]]),
    platform: WINDOWS_IMAGE_PLATFORM,
    // Upstream names windows images <name>-windows-<arch>.
    tags: serverImageTags('kube-proxy', `windows-${arch}`, state.version.version, ctx.env),
    output: join(imagesDir, arch, WINDOWS_KUBE_PROXY_FILE)
  })
}

export const serverImages: Stage<Needs, ServerImages> = {
  name: 'server-images',
  async run(ctx, state) {
    const { config } = ctx
    const imagesDir = join(config.outputDir, 'release-images')
    const images = new Map<string, ServerImageFile[]>()
    await rm(imagesDir, { recursive: true, force: true })
    const platforms = [...state.plan.built].filter(
      ([p, groups]) => p.startsWith('linux/') && groups.has('server')
    )
    if (!config.serverImages) {
      ctx.log.info('server images are off')
      return { serverImages: images, imageArchives: [] }
    }
    if (platforms.length === 0) ctx.log.info('no linux server platform: no server images')
    const version = state.version.version
    const created = new Date(state.sourceDateEpoch * 1000)
    const commonSh = await readCommonSh(config.tree.root, ctx.env)
    const specs = serverImageSpecs(ctx.env, config.baseImages, commonSh)
    for (const spec of specs)
      ctx.log.info(`${spec.binary}: base image ${spec.baseImage} (${baseImageOrigin(spec)})`)
    for (const name of commonSh ? unreadBaseImageVariables(ctx.env, commonSh) : []) {
      ctx.log.warning(`${name} is set, but the tree's build/common.sh does not read it: it changes nothing`)
    }
    const bases = new BaseImageCache(state.engine.images, ctx.log, config.outputDir, ctx.signal)
    const archives: ImageArchive[] = []
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
            const tags = serverImageTags(spec.binary, arch, version, ctx.env)
            await writeServerImage({
              bases,
              log: ctx.log,
              baseRef: spec.baseImage,
              platform,
              binaryPath: join(state.binDir, platform, spec.binary),
              imagePath: spec.imagePath,
              capabilities: spec.capabilities,
              entrypoint: spec.entrypoint,
              tags,
              created,
              output: archive
            })
            archives.push({ platform, path: archive, tags })
            return { platform, file: { binary: spec.binary, archive, dockerTag: dockerTag(version) } }
          })
      })
      const extra = [
        ...(config.images.conformance ? conformanceJobs(ctx, state, bases, imagesDir) : []),
        ...(config.images.windowsKubeProxy ? [windowsKubeProxy(ctx, state, bases, imagesDir)] : [])
      ]
      // Every job settles before the bases' files go, so none is cut off half-way.
      const [server, others] = await Promise.all([Promise.allSettled(jobs), Promise.allSettled(extra)])
      const failure = [...server, ...others].find(r => r.status === 'rejected')
      if (failure) throw failure.reason
      for (const result of server) {
        if (result.status !== 'fulfilled') continue
        const { platform, file } = result.value
        images.set(platform, [...(images.get(platform) ?? []), file])
      }
      for (const result of others) if (result.status === 'fulfilled') archives.push(result.value)
    } finally {
      await bases.dispose()
    }
    archives.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    for (const archive of archives) ctx.log.info(`${archive.path}: ${archive.tags.join(', ')}`)
    ctx.reporter.setOutput(Output.images, JSON.stringify(archives))
    return { serverImages: images, imageArchives: archives }
  }
}
