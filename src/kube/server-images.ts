// The server images of create_docker_images_for_server (kube-build-flow.md §3.5): which binaries,
// where each goes in its image, on which base, under which tags. The base is the tree's own
// (build/common.sh); the built-in defaults are the legacy ones (common@72d3584).
import { InputError, ReleaseError } from '../errors.js'
import { isReference } from './image-reference.js'
import type { CommonSh } from './tree-base-images.js'

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

/** Where a base image came from, first that is set: input, the tree's common.sh, variable, default. */
export type BaseImageOrigin =
  | { readonly kind: 'input' }
  /** The tree's build/common.sh, with the environment variables it read into the value. */
  | { readonly kind: 'tree'; readonly variables: readonly string[] }
  | { readonly kind: 'variable'; readonly name: string }
  | { readonly kind: 'default'; readonly reason: string }

export interface BaseImageChoice {
  readonly image: string
  readonly origin: BaseImageOrigin
}

export interface ServerImageSpec {
  readonly binary: ServerImageBinary
  readonly baseImage: string
  readonly baseImageOrigin: BaseImageOrigin
  /** Absolute path of the binary inside the image. */
  readonly imagePath: string
  /** File capabilities set permitted and effective, as `setcap <caps>=+ep` does. */
  readonly capabilities?: readonly number[]
  readonly entrypoint?: readonly string[]
}

/** What the server/<name>/Dockerfile of each binary adds on top of its base image. */
function placement(
  binary: ServerImageBinary
): Omit<ServerImageSpec, 'binary' | 'baseImage' | 'baseImageOrigin'> {
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
 * The base image of one binary. An action input wins; then what the tree's build/common.sh makes of
 * its variable (the environment included, as sourcing it would); without a readable common.sh, the
 * per-binary variable, then KUBE_GORUNNER_IMAGE for all but kube-proxy, then the legacy default.
 */
export function baseImage(
  binary: ServerImageBinary,
  env: NodeJS.ProcessEnv,
  options: BaseImageOptions = {},
  tree: CommonSh | null = null
): BaseImageChoice {
  const isProxy = binary === 'kube-proxy'
  const input = nonEmpty(isProxy ? options.kubeProxyBaseImage : options.goRunnerImage)
  if (input) return { image: input, origin: { kind: 'input' } }
  const variable = BASE_IMAGE_VARIABLES[binary]
  const declared = tree?.value(variable)
  if (declared && !('unreadable' in declared) && declared.text !== '') {
    return {
      image: declared.text,
      origin: declared.fromEnv.has(variable)
        ? { kind: 'variable', name: variable }
        : { kind: 'tree', variables: [...declared.fromEnv] }
    }
  }
  const fromEnv = (isProxy ? [variable] : [variable, 'KUBE_GORUNNER_IMAGE']).find(name => nonEmpty(env[name]))
  if (fromEnv) return { image: env[fromEnv]!, origin: { kind: 'variable', name: fromEnv } }
  const reason = !tree
    ? 'the tree has no build/common.sh'
    : declared && 'unreadable' in declared
      ? `build/common.sh sets ${declared.unreadable}`
      : `build/common.sh does not set ${variable}`
  return {
    image: isProxy ? DEFAULT_KUBE_PROXY_BASE_IMAGE : DEFAULT_GORUNNER_IMAGE,
    origin: { kind: 'default', reason }
  }
}

/**
 * Base image variables set in the environment that the tree's build/common.sh never reads (v1.35+
 * makes KUBE_GORUNNER_IMAGE a constant): as with make release, they change nothing.
 */
export function unreadBaseImageVariables(env: NodeJS.ProcessEnv, tree: CommonSh): string[] {
  const names = ['KUBE_BASE_IMAGE_REGISTRY', 'KUBE_GORUNNER_IMAGE', ...Object.values(BASE_IMAGE_VARIABLES)]
  return names.filter(name => nonEmpty(env[name]) && !tree.consulted.has(name))
}

export function serverImageSpecs(
  env: NodeJS.ProcessEnv,
  options: BaseImageOptions = {},
  tree: CommonSh | null = null
): ServerImageSpec[] {
  return SERVER_IMAGE_BINARIES.map(binary => {
    const { image, origin } = baseImage(binary, env, options, tree)
    return { binary, baseImage: image, baseImageOrigin: origin, ...placement(binary) }
  })
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
