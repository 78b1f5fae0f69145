// The server images of create_docker_images_for_server (kube-build-flow.md §3.5): which binaries,
// where each goes in its image, on which base, under which tags. Legacy defaults (common@72d3584).
import { InputError, ReleaseError } from '../errors.js'
import { isReference } from './image-reference.js'

export const SERVER_IMAGE_BINARIES = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'kubectl'
] as const

export type ServerImageBinary = (typeof SERVER_IMAGE_BINARIES)[number]

/** The registry upstream always tags with; KUBE_DOCKER_REGISTRY only adds an extra tag. */
export const UPSTREAM_REGISTRY = 'registry.k8s.io'

export const DEFAULT_GORUNNER_IMAGE = 'registry.k8s.io/build-image/go-runner:v2.3.1-go1.22.6-bookworm.0'
export const DEFAULT_KUBE_PROXY_BASE_IMAGE = 'registry.k8s.io/build-image/distroless-iptables:v0.5.7'

/** linux/capability.h: binding ports below 1024. */
export const CAP_NET_BIND_SERVICE = 10

/** The per-binary base image variables of build/common.sh. */
const BASE_IMAGE_VARIABLES: Record<ServerImageBinary, string> = {
  'kube-apiserver': 'KUBE_APISERVER_BASE_IMAGE',
  'kube-controller-manager': 'KUBE_CONTROLLER_MANAGER_BASE_IMAGE',
  'kube-scheduler': 'KUBE_SCHEDULER_BASE_IMAGE',
  'kube-proxy': 'KUBE_PROXY_BASE_IMAGE',
  kubectl: 'KUBECTL_BASE_IMAGE'
}

/** Base images chosen by action inputs; an empty string is an input left unset. */
export interface BaseImageOptions {
  readonly goRunnerImage?: string
  readonly kubeProxyBaseImage?: string
}

export interface ServerImageSpec {
  readonly binary: ServerImageBinary
  readonly baseImage: string
  /** Absolute path of the binary inside the image. */
  readonly imagePath: string
  /** File capabilities set permitted and effective, as `setcap <caps>=+ep` does. */
  readonly capabilities?: readonly number[]
  readonly entrypoint?: readonly string[]
}

/** What the server/<name>/Dockerfile of each binary adds on top of its base image. */
function placement(binary: ServerImageBinary): Omit<ServerImageSpec, 'binary' | 'baseImage'> {
  switch (binary) {
    case 'kube-apiserver':
      // Its setcap stage: the apiserver may serve on 443 without running as root.
      return { imagePath: `/usr/local/bin/${binary}`, capabilities: [CAP_NET_BIND_SERVICE] }
    case 'kubectl':
      return { imagePath: '/bin/kubectl', entrypoint: ['/bin/kubectl'] }
    default:
      return { imagePath: `/usr/local/bin/${binary}` }
  }
}

/** `${VAR:-default}`: build/common.sh treats an empty base image variable as unset. */
function nonEmpty(...candidates: (string | undefined)[]): string | undefined {
  return candidates.find(c => c !== undefined && c !== '')
}

/**
 * The base image of one binary. An action input wins over every variable, the per-binary variable
 * over KUBE_GORUNNER_IMAGE, which replaces the go-runner default for all but kube-proxy.
 */
export function baseImage(
  binary: ServerImageBinary,
  env: NodeJS.ProcessEnv,
  options: BaseImageOptions = {}
): string {
  const perBinary = env[BASE_IMAGE_VARIABLES[binary]]
  if (binary === 'kube-proxy') {
    return nonEmpty(options.kubeProxyBaseImage, perBinary) ?? DEFAULT_KUBE_PROXY_BASE_IMAGE
  }
  return nonEmpty(options.goRunnerImage, perBinary, env.KUBE_GORUNNER_IMAGE) ?? DEFAULT_GORUNNER_IMAGE
}

export function serverImageSpecs(env: NodeJS.ProcessEnv, options: BaseImageOptions = {}): ServerImageSpec[] {
  return SERVER_IMAGE_BINARIES.map(binary => ({
    binary,
    baseImage: baseImage(binary, env, options),
    ...placement(binary)
  }))
}

/** The version as a Docker tag: the first `+` (semver build metadata) is not allowed in tags. */
export function dockerTag(version: string): string {
  if (version === '') throw new ReleaseError('git version information missing; cannot create Docker tag')
  return version.replace('+', '_')
}

function checkedReference(repository: string, tag: string, origin: string): string {
  if (!isReference(`${repository}:${tag}`)) {
    throw new InputError(`invalid image reference '${repository}:${tag}' (${origin})`)
  }
  return `${repository}:${tag}`
}

/** The image name of one binary for one architecture, without registry. */
export function imageName(binary: ServerImageBinary, arch: string): string {
  return `${binary}-${arch}`
}

/**
 * The tags of one server image: `registry.k8s.io/<bin>-<arch>:<docker tag>`, then the extra tag of
 * KUBE_DOCKER_REGISTRY and KUBE_DOCKER_IMAGE_TAG when it differs. Upstream defaults those two only
 * when unset; set but empty they would make an invalid reference, which is rejected here.
 */
export function serverImageTags(
  binary: ServerImageBinary,
  arch: string,
  version: string,
  env: NodeJS.ProcessEnv
): string[] {
  const tag = dockerTag(version)
  const name = imageName(binary, arch)
  const main = checkedReference(`${UPSTREAM_REGISTRY}/${name}`, tag, 'from the version')
  const registry = env.KUBE_DOCKER_REGISTRY ?? UPSTREAM_REGISTRY
  const extraTag = env.KUBE_DOCKER_IMAGE_TAG ?? tag
  if (registry === '')
    throw new InputError('KUBE_DOCKER_REGISTRY is set but empty; unset it or name a registry')
  if (extraTag === '') throw new InputError('KUBE_DOCKER_IMAGE_TAG is set but empty; unset it or give a tag')
  const extra = checkedReference(
    `${registry}/${name}`,
    extraTag,
    'from KUBE_DOCKER_REGISTRY and KUBE_DOCKER_IMAGE_TAG'
  )
  return extra === main ? [main] : [main, extra]
}
