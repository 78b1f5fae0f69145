// What the pipeline reads from a Kubernetes checkout before anything starts.
import { InputError } from '../errors.js'
import { access, readFile, realpath, stat } from 'node:fs/promises'
import { join } from 'node:path'

export interface KubeTree {
  /** Physical path, symlinks resolved (KUBE_ROOT). */
  readonly root: string
  /** build/build-image/cross/VERSION: the kube-cross tag. */
  readonly crossTag: string
  /** build/build-image/VERSION, legacy trees only (upstream: 5). */
  readonly buildImageVersionBase: string | null
  /** Trees up to v1.34 build a kube-build image from build/build-image/Dockerfile. */
  readonly buildImageDir: string | null
  /** .go-version, when present. */
  readonly goVersion: string | null
}

const CROSS_VERSION = 'build/build-image/cross/VERSION'
const DOCKER_TAG = /^[\w][\w.-]{0,127}$/
const BUILD_IMAGE_VERSION = 'build/build-image/VERSION'
const BUILD_IMAGE_DOCKERFILE = 'build/build-image/Dockerfile'

async function readOptional(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch {
    return null
  }
}

export async function readKubeTree(source: string): Promise<KubeTree> {
  let root: string
  try {
    root = await realpath(source)
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory')
  } catch {
    throw new InputError(`'${source}' does not exist or is not a directory`)
  }
  const crossTag = await readOptional(join(root, CROSS_VERSION))
  const hasMakefile = await access(join(root, 'Makefile')).then(
    () => true,
    () => false
  )
  if (!crossTag || !hasMakefile) {
    throw new InputError(
      `'${source}' is not a Kubernetes tree: ${!crossTag ? `${CROSS_VERSION} is missing or empty` : 'Makefile is missing'} ` +
        `(point 'source' at the root of a kubernetes/kubernetes checkout)`
    )
  }
  const hasDockerfile = await access(join(root, BUILD_IMAGE_DOCKERFILE)).then(
    () => true,
    () => false
  )
  const buildImageVersionBase = await readOptional(join(root, BUILD_IMAGE_VERSION))
  if (hasDockerfile && !buildImageVersionBase) {
    throw new InputError(`'${source}' has ${BUILD_IMAGE_DOCKERFILE} but no ${BUILD_IMAGE_VERSION}`)
  }
  // Both end up in image tags and volume names.
  if (!DOCKER_TAG.test(crossTag)) {
    throw new InputError(`'${source}': ${CROSS_VERSION} holds '${crossTag}', which is not an image tag`)
  }
  if (buildImageVersionBase !== null && !DOCKER_TAG.test(buildImageVersionBase)) {
    throw new InputError(
      `'${source}': ${BUILD_IMAGE_VERSION} holds '${buildImageVersionBase}', which is not a version`
    )
  }
  return {
    root,
    crossTag,
    buildImageVersionBase,
    buildImageDir: hasDockerfile ? join(root, 'build/build-image') : null,
    goVersion: await readOptional(join(root, '.go-version'))
  }
}
