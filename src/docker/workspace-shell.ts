// Commands and files in a build workspace (the data volume or the bind-mounted tree), through
// short-lived containers of the build image that mount it as the build does.
import { ReleaseError } from '../errors.js'
import type { ContainerClient, Mount } from './containers.js'

export interface WorkspaceShellSpec {
  /** Container name; one container at a time uses it. */
  readonly name: string
  /** An image with sh and the tools the scripts use (the build image). */
  readonly image: string
  readonly labels: Record<string, string>
  readonly mounts: readonly Mount[]
}

export class WorkspaceShell {
  constructor(
    private readonly containers: ContainerClient,
    private readonly spec: WorkspaceShellSpec
  ) {}

  /**
   * Runs a fixed script with `sh -c`; values reach it only as positional arguments, never spliced into
   * its text. Returns its output lines; a non-zero exit fails with the last of them.
   */
  async run(
    script: string,
    args: readonly string[],
    options: {
      readonly user: string
      /** A file the script writes in its container, copied to this host over the API after it exits. */
      readonly copyOut?: {
        readonly path: string
        readonly destination: string
        /** Names the copy in progress reports. */
        readonly what?: string
      }
    }
  ): Promise<string[]> {
    const lines: string[] = []
    const { copyOut } = options
    const { exitCode } = await this.containers.run(
      {
        name: this.spec.name,
        image: this.spec.image,
        cmd: ['sh', '-c', script, 'sh', ...args],
        labels: this.spec.labels,
        user: options.user,
        mounts: this.spec.mounts
      },
      line => lines.push(line),
      copyOut
        ? async (id, status) => {
            if (status.exitCode === 0)
              await this.containers.copyFileOut(id, copyOut.path, copyOut.destination, copyOut.what)
          }
        : undefined
    )
    if (exitCode !== 0) throw new ReleaseError(`exit code ${exitCode}: ${lines.slice(-5).join(' | ')}`)
    return lines
  }

  /** Extracts a tar stream at `path` in the workspace, through a container that is never started. */
  async put(path: string, tar: NodeJS.ReadableStream): Promise<void> {
    const id = await this.containers.create({
      name: this.spec.name,
      image: this.spec.image,
      cmd: ['true'],
      labels: this.spec.labels,
      mounts: this.spec.mounts,
      user: '0:0'
    })
    try {
      await this.containers.putArchive(id, path, tar)
    } finally {
      await this.containers.remove(id)
    }
  }
}
