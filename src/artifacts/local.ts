// The CLI's artifacts: the same layouts as GitHub's, as files under a directory.
import { copyFile, cp, mkdir, readdir, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { ArtifactStore, UploadedArtifact } from './store.js'

export class LocalArtifactStore implements ArtifactStore {
  readonly description: string
  private readonly dir: string

  constructor(dir: string) {
    this.dir = resolve(dir)
    this.description = `the directory ${this.dir}`
  }

  /** `<dir>/<name>/<files>`, like a downloaded bundle artifact. */
  async uploadBundle(name: string, rootDir: string, files: readonly string[]): Promise<UploadedArtifact> {
    const target = join(this.dir, name)
    await rm(target, { recursive: true, force: true })
    for (const file of files) {
      await mkdir(dirname(join(target, file)), { recursive: true })
      await copyFile(join(rootDir, file), join(target, file))
    }
    return { name, location: target }
  }

  async list(prefix: string): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    return names.filter(name => name.startsWith(prefix)).sort()
  }

  async download(name: string, dir: string): Promise<void> {
    await cp(join(this.dir, name), dir, { recursive: true })
  }

  /** `<dir>/<name>`: the file itself. */
  async uploadFile(name: string, path: string): Promise<UploadedArtifact> {
    await mkdir(this.dir, { recursive: true })
    const target = join(this.dir, name)
    await copyFile(path, target)
    return { name, location: target }
  }
}
