// What every stage receives besides the run state: the parsed config, the run's identity, and the
// services it reports, caches and uploads through.
import type { ArtifactStore } from '../artifacts/store.js'
import type { CacheStore } from '../cache/store.js'
import type { Config } from '../config.js'
import type { Ownership } from '../docker/labels.js'
import type { Logger } from '../logger.js'
import type { ContainerTraffic, Reporter, RunTimeline } from '../report/report.js'

export interface RunContext {
  readonly config: Config
  readonly log: Logger
  /** Outputs for later steps and the summary. */
  readonly reporter: Reporter
  /** runId and treeHash: every Docker object of the run is labelled with them. */
  readonly owner: Ownership
  /** The host environment the upstream variables are read from. */
  readonly env: NodeJS.ProcessEnv
  /** Aborted when the run is cancelled: requests under way end, and nothing new starts. */
  readonly signal: AbortSignal
  /** Where caches are kept between runs; null: caching is off. */
  readonly cache: CacheStore | null
  /** The directory cache archives are written in, at a stable path (the GitHub cache's version includes it). */
  readonly cacheArchiveDir: string
  /** Where the release or a leg's binaries are uploaded; null: nowhere. */
  readonly artifacts: ArtifactStore | null
  /** Counted as the transfers happen, for the report. */
  readonly traffic: ContainerTraffic
  /** When the run started and the stages finished so far: a matrix leg hands them to the package job. */
  readonly timeline: RunTimeline
}
