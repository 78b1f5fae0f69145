// The run state: what the stages have found and made so far. Each stage reads the parts it needs and
// returns the part it adds; the runner merges that in. The parts are named here, not in the stage
// files, so that no stage imports another.
import type { UploadedArtifact } from '../artifacts/store.js'
import type { BuildCacheTarget, BuildCacheUse } from '../cache/build-cache.js'
import type { CacheRoom } from '../cache/quota.js'
import type { Mount } from '../docker/containers.js'
import type { Engine } from '../docker/engine.js'
import type { HostView } from '../docker/host-view.js'
import type { BuildPlan } from '../kube/build-plan.js'
import type { Transfer } from '../progress.js'
import type { LegTimeline } from '../report/report.js'
import type { ReleaseTarball, ServerImageFile } from '../kube/tarballs.js'
import type { KubeVersion } from '../kube/version.js'

/** uid and gid the build containers run as. */
export interface BuildUser {
  readonly uid: number
  readonly gid: number
}

/** Added by prereqs: the engine, and what this run builds. */
export interface Prerequisites {
  readonly engine: Engine
  /** What the engine sees of this process's files (a container job translates paths). */
  readonly host: HostView
  /** null on rootless engines, where container root is the caller. */
  readonly buildUser: BuildUser | null
  readonly platforms: readonly string[]
  readonly plan: BuildPlan
  readonly version: KubeVersion
  /** Seconds since the epoch: build dates and every mtime in the tarballs. */
  readonly sourceDateEpoch: number
}

/** How kube-cross came onto the engine: already there, from the cache (the matched key, what it moved), or pulled. */
export type KubeCrossSource =
  | { readonly from: 'engine' }
  | ({ readonly from: 'cache'; readonly key: string } & Transfer)
  | { readonly from: 'pull' }

/** Added by image: the image the build containers run. */
export interface BuildContainerImage {
  readonly buildImage: {
    /** kube-build for legacy trees, else kube-cross itself. */
    readonly ref: string
    readonly kubeCross: string
    readonly kubeCrossSource: KubeCrossSource
    /** Names the data volume: a new image version starts from a new volume, as upstream. */
    readonly version: string
  }
}

/** Added by workspace: where the build container finds the tree and keeps its caches. */
export interface BuildWorkspace {
  readonly workspace: {
    readonly mounts: readonly Mount[]
    /** The data volume (volume strategy); null with bind. */
    readonly volume: string | null
    /** What the cache stage needs to save the Go build cache; null when caching is off. */
    readonly buildCache: { readonly target: BuildCacheTarget; readonly use: BuildCacheUse } | null
  }
}

/** Added by output (or by collecting a matrix's legs): the binaries on the host. */
export interface Binaries {
  /** _output/dockerized/bin on the host, one directory per platform. */
  readonly binDir: string
}

/** Added by collecting a matrix's legs: the stages each build leg ran, for the summary. */
export interface LegTimelines {
  readonly legTimelines: readonly LegTimeline[]
}

/** An image archive in release-images/: what `docker load` of it gives. */
export interface ImageArchive {
  readonly platform: string
  readonly path: string
  readonly tags: readonly string[]
}

/** Added by server-images: the image archives made for each linux server platform, and every archive made. */
export interface ServerImages {
  /** The five server images of each linux server platform, for the server tarballs. */
  readonly serverImages: ReadonlyMap<string, readonly ServerImageFile[]>
  /** Every archive in release-images/, sorted by path: the server images, conformance, windows. */
  readonly imageArchives: readonly ImageArchive[]
}

/** Added by package. */
export interface Release {
  readonly release: {
    /** release-tars/ */
    readonly dir: string
    readonly tarballs: readonly ReleaseTarball[]
    /** Every file of the release directory: tarballs and checksum files. */
    readonly files: readonly string[]
  }
}

/** Added by publish (the release) or by a build leg (its binaries). */
export interface Published {
  readonly artifacts: readonly UploadedArtifact[]
}

/** Added by plan: the matrix legs. */
export interface MatrixPlan {
  readonly legs: readonly (readonly string[])[]
}

/** Added by the closing cache stage: what its entries take of the cache's room, and what each save moved. */
export interface CachesSaved {
  readonly cacheRoom: CacheRoom
  readonly cacheSaves: { readonly image: Transfer | null; readonly build: Transfer | null }
}

/** Whatever part of the state the stages that ran have added: what the report and closing stages read. */
export type RunState = Partial<
  Prerequisites &
    BuildContainerImage &
    BuildWorkspace &
    Binaries &
    LegTimelines &
    ServerImages &
    Release &
    Published &
    MatrixPlan &
    CachesSaved
>
