// Workflow artifacts through @actions/artifact (the results service of GitHub Actions).
import { DefaultArtifactClient } from '@actions/artifact'
import { join } from 'node:path'
import type { ArtifactStore, UploadedArtifact } from './store.js'

export class GitHubArtifactStore implements ArtifactStore {
  readonly description = 'GitHub Actions artifacts'
  private readonly client = new DefaultArtifactClient()

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** Available when the runner gave this step the results service. */
  static available(env: NodeJS.ProcessEnv): boolean {
    return Boolean(env.ACTIONS_RUNTIME_TOKEN && env.ACTIONS_RESULTS_URL)
  }

  private url(id: number): string {
    const { GITHUB_SERVER_URL = 'https://github.com', GITHUB_REPOSITORY, GITHUB_RUN_ID } = this.env
    return `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}/artifacts/${id}`
  }

  async uploadBundle(
    name: string,
    rootDir: string,
    files: readonly string[],
    retentionDays?: number
  ): Promise<UploadedArtifact> {
    // Tarballs are compressed already: zipping them again costs time and saves nothing.
    const { id } = await this.client.uploadArtifact(
      name,
      files.map(f => join(rootDir, f)),
      rootDir,
      { compressionLevel: 0, retentionDays }
    )
    if (id === undefined) throw new Error(`the artifact service returned no id for ${name}`)
    return { name, id, location: this.url(id) }
  }

  async list(prefix: string): Promise<string[]> {
    const { artifacts } = await this.client.listArtifacts({ latest: true })
    return artifacts.map(a => a.name).filter(name => name.startsWith(prefix))
  }

  async download(name: string, dir: string): Promise<void> {
    const { artifact } = await this.client.getArtifact(name)
    await this.client.downloadArtifact(artifact.id, { path: dir, expectedHash: artifact.digest })
  }

  async uploadFile(name: string, path: string, retentionDays?: number): Promise<UploadedArtifact> {
    const { id } = await this.client.uploadArtifact(name, [path], join(path, '..'), {
      skipArchive: true,
      retentionDays
    })
    if (id === undefined) throw new Error(`the artifact service returned no id for ${name}`)
    return { name, id, location: this.url(id) }
  }
}
