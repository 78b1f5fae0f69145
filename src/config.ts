// The inputs of action.yml (and the CLI's flags) parsed once into a typed, readonly Config.
// Every check here runs before the engine is contacted, so bad input never starts a container.
import { resolve } from 'node:path'
import { InputError } from './errors.js'
import {
  Input,
  forInput,
  inputError,
  oneOf,
  parseArtifactName,
  parseBoolean,
  parseCount,
  parseImageReference,
  parsePlainPath,
  parseSize,
  parseVerbosity,
  type InputName,
  type RawInputs
} from './inputs.js'
import { isReference, parseReference } from './kube/image-reference.js'
import { parsePlatformSelection, selectPlatforms, type PlatformSelection } from './kube/platforms.js'
import { parseTargets, type Target } from './kube/targets.js'
import { OUTPUT_DIR } from './kube/layout.js'
import { readKubeTree, type KubeTree } from './kube/tree.js'

/** make release, make quick-release, and the images-only make release-images, make quick-release-images. */
export const MODES = ['release', 'quick-release', 'release-images', 'quick-release-images'] as const
export type Mode = (typeof MODES)[number]
/** The quick modes build for the engine's own linux/<arch> (KUBE_FASTBUILD=true). */
export const isQuickMode = (mode: Mode): boolean => mode.startsWith('quick-')
/** build/release-images.sh: the image binaries and their image archives, no tarballs. */
export const isImagesMode = (mode: Mode): boolean => mode.endsWith('-images')
export const WORKSPACES = ['volume', 'bind'] as const
export type WorkspaceStrategy = (typeof WORKSPACES)[number]
/** all: one machine does everything; plan/build/package: the three jobs of a matrix release. */
export const PHASES = ['all', 'plan', 'build', 'package'] as const
export type Phase = (typeof PHASES)[number]
export const ARTIFACT_LAYOUTS = ['bundle', 'per-file'] as const
export type ArtifactLayout = (typeof ARTIFACT_LAYOUTS)[number]
/** When caches are saved; decided in the main step (post-if expressions cannot read inputs). */
export const SAVE_POLICIES = ['on-success', 'always', 'never', 'default-branch'] as const
export type SavePolicy = (typeof SAVE_POLICIES)[number]

/** The local cache directory's size limit unless cache-size-limit says otherwise. */
export const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3
/** A pull or image build that reports nothing for this long is taken as stalled. */
export const DEFAULT_STALL_TIMEOUT_MS = 300_000

export interface CacheConfig {
  readonly enabled: boolean
  readonly save: SavePolicy
  /** A local directory backend instead of the GitHub cache service. */
  readonly dir: string | null
  /** Size limit of the local backend. */
  readonly maxBytes: number
}

export interface ArtifactConfig {
  readonly upload: boolean
  /** null: a name unique to the run and its platforms is made up. */
  readonly name: string | null
  /** bundle: one artifact with every file; per-file: one unzipped artifact per file. */
  readonly layout: ArtifactLayout
  /** undefined: the repository's default retention. */
  readonly retentionDays?: number
}

export const DEFAULT_KUBE_CROSS_IMAGE = 'registry.k8s.io/build-image/kube-cross'

export interface Config {
  readonly mode: Mode
  readonly platforms: PlatformSelection
  /** null: everything `make cross` builds. */
  readonly targets: readonly Target[] | null
  readonly runTests: boolean
  readonly tree: KubeTree
  readonly workspace: WorkspaceStrategy
  /** kube-cross repository and tag, e.g. registry.k8s.io/build-image/kube-cross + v1.31.0-go1.22.5-bullseye.0 */
  readonly kubeCross: { readonly repository: string; readonly tag: string }
  /** KUBE_VERBOSE for the build. */
  readonly verbosity: number
  /** Where release-tars/ and release-images/ go (upstream's OUT_DIR, default <tree>/_output). */
  readonly outputDir: string
  /** Docker image archives in the linux server tarballs. */
  readonly serverImages: boolean
  readonly artifacts: ArtifactConfig
  readonly cache: CacheConfig
  readonly phase: Phase
  /** Matrix legs the plan phase splits the platforms into. */
  readonly legs: number
  /** A pull or image build silent for this long fails (KUBE_RELEASE_STALL_TIMEOUT, seconds). */
  readonly stallTimeoutMs: number
  /** Base image overrides from inputs; they win over upstream's env variables. */
  readonly baseImages: { readonly goRunnerImage?: string; readonly kubeProxyBaseImage?: string }
  /** The images beyond the five server images, and what the images-only modes add to their build. */
  readonly images: ImageOptions
}

export interface ImageOptions {
  /** release-images/<arch>/conformance-<arch>.tar for each linux server platform (KUBE_BUILD_CONFORMANCE). */
  readonly conformance: boolean
  /** release-images/amd64/kube-proxy.exe.tar, kube-proxy for windows/amd64 (KUBE_BUILD_WINDOWS). */
  readonly windowsKubeProxy: boolean
  /** KUBE_EXTRA_WHAT: more targets for the images-only modes' build. */
  readonly extraTargets: readonly Target[]
  /** DBG for the images-only modes' build: 1 keeps symbols and turns optimisations off. */
  readonly debug: string
}

/** Upstream's test of KUBE_BUILD_CONFORMANCE and KUBE_BUILD_WINDOWS: `=~ [yY]`. */
const upstreamYes = (value: string): boolean => /[yY]/.test(value)

/** An input if given, else the upstream variable if set, else the mode's default. */
function switchedOn(
  input: InputName,
  value: string,
  variable: string | undefined,
  fallback: boolean
): boolean {
  if (value !== '') return parseBoolean(input, value, fallback)
  if (variable !== undefined && variable !== '') return upstreamYes(variable)
  return fallback
}

/** server-images: false leaves out every image, so that no base image is needed. */
function parseImageOptions(
  value: (name: InputName) => string,
  env: NodeJS.ProcessEnv,
  mode: Mode,
  serverImages: boolean
): ImageOptions {
  if (!serverImages) {
    for (const input of [Input.conformanceImage, Input.windowsKubeProxyImage]) {
      if (parseBoolean(input, value(input), false)) throw inputError(input, 'needs server-images: true')
    }
  }
  const extraTargets = env.KUBE_EXTRA_WHAT ? parseTargets(env.KUBE_EXTRA_WHAT) : null
  if (extraTargets === null && env.KUBE_EXTRA_WHAT?.trim()) {
    throw new InputError(`KUBE_EXTRA_WHAT '${env.KUBE_EXTRA_WHAT}' names no target`)
  }
  if (env.DBG !== undefined && !['', '0', '1'].includes(env.DBG)) {
    throw new InputError(`DBG must be 1 (debug binaries) or empty, not '${env.DBG}'`)
  }
  return {
    // make release sets KUBE_BUILD_CONFORMANCE=y; the other targets leave upstream's default, n.
    conformance:
      serverImages &&
      switchedOn(
        Input.conformanceImage,
        value(Input.conformanceImage),
        env.KUBE_BUILD_CONFORMANCE,
        mode === 'release'
      ),
    windowsKubeProxy:
      serverImages &&
      switchedOn(
        Input.windowsKubeProxyImage,
        value(Input.windowsKubeProxyImage),
        env.KUBE_BUILD_WINDOWS,
        false
      ),
    extraTargets: extraTargets ?? [],
    debug: env.DBG ?? ''
  }
}

/** The images-only modes make images and nothing else, on one machine. */
function checkImagesMode(mode: Mode, runTests: boolean, serverImages: boolean, phase: Phase): void {
  if (!isImagesMode(mode)) return
  if (runTests)
    throw inputError(Input.runTests, `mode '${mode}' builds no tests (as build/release-images.sh)`)
  if (!serverImages)
    throw inputError(Input.serverImages, `mode '${mode}' makes only images: it cannot be false`)
  if (phase !== 'all') throw inputError(Input.phase, `mode '${mode}' runs on one machine: only 'all'`)
}

function parseKubeCross(value: string, env: NodeJS.ProcessEnv, treeTag: string): Config['kubeCross'] {
  const ref = value || env.KUBE_CROSS_IMAGE || DEFAULT_KUBE_CROSS_IMAGE
  const parsed = parseReference(ref)
  if (!parsed || parsed.digest) {
    throw inputError(Input.kubeCrossImage, `'${ref}' is not an image reference (repository[:tag])`)
  }
  const tag = parsed.tag ?? (env.KUBE_CROSS_VERSION || treeTag)
  if (!isReference(`${parsed.repository}:${tag}`)) {
    throw inputError(Input.kubeCrossImage, `the tag '${tag}' (from KUBE_CROSS_VERSION) is not an image tag`)
  }
  return { repository: parsed.repository, tag }
}

function stallTimeout(env: NodeJS.ProcessEnv): number {
  const value = env.KUBE_RELEASE_STALL_TIMEOUT
  if (value === undefined || value === '') return DEFAULT_STALL_TIMEOUT_MS
  if (!/^[1-9][0-9]{0,5}$/.test(value)) {
    throw new InputError(`KUBE_RELEASE_STALL_TIMEOUT must be a number of seconds (1-999999), not '${value}'`)
  }
  return Number(value) * 1000
}

/** Parses and checks every input; reads the tree's VERSION files. `cwd` resolves a relative source. */
export async function loadConfig(raw: RawInputs, env: NodeJS.ProcessEnv, cwd: string): Promise<Config> {
  const value = (name: InputName): string => (raw[name] ?? '').trim()
  const mode = oneOf(Input.mode, value(Input.mode), MODES, 'release')
  const workspace = oneOf(Input.workspace, value(Input.workspace), WORKSPACES, 'volume')
  const runTests = parseBoolean(Input.runTests, value(Input.runTests), mode === 'release')
  const verbosity = parseVerbosity(Input.verbose, value(Input.verbose))
  const platforms = selectPlatforms(
    await forInput(Input.platforms, () => parsePlatformSelection(raw[Input.platforms] ?? '')),
    env
  )
  const targets = await forInput(Input.targets, () => parseTargets(raw[Input.targets] ?? ''))
  const tree = await forInput(Input.source, () => readKubeTree(resolve(cwd, value(Input.source) || '.')))
  const kubeCross = parseKubeCross(value(Input.kubeCrossImage), env, tree.crossTag)
  const outputDir = resolve(
    tree.root,
    parsePlainPath(Input.outputDir, value(Input.outputDir) || env.OUT_DIR || OUTPUT_DIR)
  )
  const serverImages = parseBoolean(Input.serverImages, value(Input.serverImages), true)
  const baseImages = {
    goRunnerImage: parseImageReference(Input.goRunnerImage, value(Input.goRunnerImage)),
    kubeProxyBaseImage: parseImageReference(Input.kubeProxyBaseImage, value(Input.kubeProxyBaseImage))
  }
  const phase = oneOf(Input.phase, value(Input.phase), PHASES, 'all')
  checkImagesMode(mode, runTests, serverImages, phase)
  return {
    mode,
    platforms,
    targets,
    runTests,
    tree,
    workspace,
    kubeCross,
    verbosity,
    outputDir,
    serverImages,
    baseImages,
    images: parseImageOptions(value, env, mode, serverImages),
    artifacts: {
      upload: parseBoolean(Input.upload, value(Input.upload), true),
      name: parseArtifactName(Input.artifactName, value(Input.artifactName)),
      layout: oneOf(Input.artifactLayout, value(Input.artifactLayout), ARTIFACT_LAYOUTS, 'bundle'),
      retentionDays: parseCount(Input.retentionDays, value(Input.retentionDays), {
        min: 1,
        max: 90,
        of: 'days'
      })
    },
    cache: {
      enabled: parseBoolean(Input.cache, value(Input.cache), true),
      save: oneOf(Input.cacheSave, value(Input.cacheSave), SAVE_POLICIES, 'on-success'),
      dir: value(Input.cacheDir) ? resolve(cwd, value(Input.cacheDir)) : null,
      maxBytes: parseSize(Input.cacheSizeLimit, value(Input.cacheSizeLimit), DEFAULT_CACHE_MAX_BYTES)
    },
    phase,
    legs: parseCount(Input.legs, value(Input.legs), { min: 1, max: 32, of: 'matrix legs' }) ?? 3,
    stallTimeoutMs: stallTimeout(env)
  }
}
