// Commands and files in a build workspace (the data volume or the bind-mounted tree), through
// containers of the build image that mount it as the build does: scripts run as exec sessions of one
// idle container kept for the shell's life (an exec starts in a fraction of a container's time), which
// the run's cleanup removes with its other containers.
import { Readable, Writable } from 'node:stream'
import { ReleaseError } from '../errors.js'
import type { ContainerClient, Mount } from './containers.js'

export interface WorkspaceShellSpec {
  /** Name of the idle container; files are put in through another named after it. */
  readonly name: string
  /** An image with sh and the tools the scripts use (the build image). */
  readonly image: string
  readonly labels: Record<string, string>
  readonly mounts: readonly Mount[]
}

export class WorkspaceShell {
  /** The idle container the scripts run in, started by the first. */
  private idle: Promise<string> | null = null

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
    const id = await this.session()
    const output: Buffer[] = []
    const collect = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output.push(chunk)
        done()
      }
    })
    const exitCode = await this.containers.exec(
      id,
      { name: this.spec.name, cmd: ['sh', '-c', script, 'sh', ...args], user: options.user },
      { stdin: Readable.from([]), stdout: collect, onStderr: chunk => output.push(chunk) }
    )
    const lines = Buffer.concat(output)
      .toString()
      .split('\n')
      .filter(line => line !== '')
    if (exitCode !== 0) throw new ReleaseError(`exit code ${exitCode}: ${lines.slice(-5).join(' | ')}`)
    const { copyOut } = options
    if (copyOut) await this.containers.copyFileOut(id, copyOut.path, copyOut.destination, copyOut.what)
    return lines
  }

  private session(): Promise<string> {
    this.idle ??= this.containers
      .startIdle({
        name: this.spec.name,
        image: this.spec.image,
        labels: this.spec.labels,
        mounts: this.spec.mounts
      })
      .catch((err: unknown) => {
        this.idle = null
        throw err
      })
    return this.idle
  }

  /**
   * Extracts a tar stream at `path` in the workspace, through a container that is never started: the
   * engines' archive endpoint writes into a stopped container's mounts alike.
   */
  async put(path: string, tar: NodeJS.ReadableStream): Promise<void> {
    const id = await this.containers.create({
      name: `${this.spec.name}-put`,
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
