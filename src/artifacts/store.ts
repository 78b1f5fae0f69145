// Where the release goes after packaging: workflow artifacts in GitHub Actions, a directory on the
// CLI. Both take the same two layouts.

export interface UploadedArtifact {
  readonly name: string
  /** The service's id (GitHub), if any. */
  readonly id?: number
  /** Where a person finds it: a URL, or a local path. */
  readonly location: string
}

export interface ArtifactStore {
  /** Describes the store for logs and errors. */
  readonly description: string
  /** One artifact holding `files` (paths relative to `rootDir`), stored without recompression. */
  uploadBundle(
    name: string,
    rootDir: string,
    files: readonly string[],
    retentionDays?: number
  ): Promise<UploadedArtifact>
  /** One artifact that is the file itself, not an archive of it. */
  uploadFile(name: string, path: string, retentionDays?: number): Promise<UploadedArtifact>
  /** Names of this run's artifacts that start with `prefix`. */
  list(prefix: string): Promise<string[]>
  /** Unpacks a bundle artifact into `dir`, its files at their relative paths. */
  download(name: string, dir: string): Promise<void>
}
