// The environment upstream's run_build_command passes into the build container
// (kube-build-flow.md §3.3.1), plus the two variables the kube-build image would otherwise set.
import { OUTPUT_SUBPATH, REMOTE_ROOT, VERSION_FILE_NAME } from './layout.js'

/** HOME of the build: under the output (git-ignored, removed by clean), never the checkout itself. */
export const BUILD_HOME = `${REMOTE_ROOT}/${OUTPUT_SUBPATH}/home`

/** Passed from the host as they are, empty when unset (upstream's `${VAR:-}`). */
const PASSED_THROUGH = [
  'KUBE_BUILD_WITH_COVERAGE',
  'KUBE_CGO_OVERRIDES',
  'KUBE_STATIC_OVERRIDES',
  'FORCE_HOST_GO',
  'GO_VERSION',
  'GOTOOLCHAIN',
  'GOFLAGS',
  'GOGCFLAGS',
  'KUBE_RACE',
  'GOPROXY'
] as const

/** Passed only when set on the host: an empty GOLDFLAGS is not the same as none. */
const PASSED_WHEN_SET = ['GOLDFLAGS', 'KUBE_PARALLEL_BUILD_MEMORY'] as const

export interface BuildEnvOptions {
  readonly fastBuild: boolean
  readonly verbosity: number
  readonly platforms: readonly string[]
  /** Build dates in the binaries come from it: the same commit builds the same bytes. */
  readonly sourceDateEpoch: number
}

function builderOs(hostEnv: NodeJS.ProcessEnv): string {
  if (hostEnv.OSTYPE) return hostEnv.OSTYPE
  return process.platform === 'linux' ? 'linux-gnu' : process.platform
}

export function buildEnv(options: BuildEnvOptions, hostEnv: NodeJS.ProcessEnv): string[] {
  return [
    `KUBE_FASTBUILD=${options.fastBuild}`,
    `KUBE_BUILDER_OS=${builderOs(hostEnv)}`,
    `KUBE_VERBOSE=${options.verbosity}`,
    `KUBE_BUILD_PLATFORMS=${options.platforms.join(' ')}`,
    `SOURCE_DATE_EPOCH=${options.sourceDateEpoch}`,
    // The kube-build image sets these two; kube-cross run directly does not.
    `KUBE_OUTPUT_SUBPATH=${OUTPUT_SUBPATH}`,
    // Binaries carry the version computed on the host, whatever the container's view of .git.
    `KUBE_GIT_VERSION_FILE=${REMOTE_ROOT}/${VERSION_FILE_NAME}`,
    // The kube-build image makes the tree HOME, and Go (telemetry, go env -w) and git write under it:
    // kept in the build output, a mounted checkout stays as it was (git status unchanged).
    `HOME=${BUILD_HOME}`,
    ...PASSED_THROUGH.map(name => `${name}=${hostEnv[name] ?? ''}`),
    ...PASSED_WHEN_SET.filter(name => hostEnv[name] !== undefined).map(name => `${name}=${hostEnv[name]}`)
  ]
}
