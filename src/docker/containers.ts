// Containers through the Engine API: create, run attached with live output, copy files in and out,
// remove by label.
import { createInterface } from 'node:readline'
import { PassThrough } from 'node:stream'
import { writeOnlyFile } from '../archive/tar-read.js'
import { errorMessage } from '../errors.js'
import type { Logger } from '../logger.js'
import { statusCode, unlessMissing, type EngineCalls } from './calls.js'
import { firstCut, hasEveryLabel } from './labels.js'
import { pipeExec, retriedExec, type PipedStreams } from './piped-exec.js'

/** What a container mounts; the engine's own mount settings stay inside src/docker. */
export type Mount =
  | { readonly kind: 'volume'; readonly volume: string; readonly target: string }
  | { readonly kind: 'bind'; readonly source: string; readonly target: string; readonly readOnly?: boolean }

export interface ContainerSpec {
  readonly name: string
  readonly image: string
  readonly cmd: readonly string[]
  readonly labels: Record<string, string>
  readonly user?: string
  readonly env?: readonly string[]
  readonly workingDir?: string
  readonly hostname?: string
  readonly mounts?: readonly Mount[]
}

export type OutputLine = (line: string, stream: 'stdout' | 'stderr') => void

export interface ExitStatus {
  readonly exitCode: number
  /** The kernel's OOM killer ended it (exit code 137). */
  readonly oomKilled: boolean
}

export interface ContainerState {
  readonly running: boolean
  readonly exitCode: number
  readonly oomKilled: boolean
}

/** A container as the engine runs it, with its mounts: host path `source` at `destination` inside. */
export interface OwnContainer {
  readonly id: string
  readonly name: string
  readonly mounts: readonly { readonly source: string; readonly destination: string }[]
}

const shortId = (id: string): string => id.slice(0, 12)

/** What a container runs while exec sessions do its work. */
const IDLE_COMMAND = ['sleep', 'infinity']
function engineMounts(
  mounts: readonly Mount[]
): { Type: 'volume' | 'bind'; Source: string; Target: string; ReadOnly?: boolean }[] {
  return mounts.map(m =>
    m.kind === 'volume'
      ? { Type: 'volume', Source: m.volume, Target: m.target }
      : { Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly }
  )
}

export class ContainerClient {
  constructor(
    private readonly calls: EngineCalls,
    private readonly log: Logger
  ) {}

  private container(id: string) {
    return this.calls.docker.getContainer(id)
  }

  /** Creates a container; returns its id. Refused once the run is cancelled. */
  async create(spec: ContainerSpec, options: { readonly stdin?: boolean } = {}): Promise<string> {
    const stdin = options.stdin ?? false
    this.log.debug(`creating container ${spec.name} from ${spec.image}: ${JSON.stringify(spec.cmd)}`)
    const container = await this.calls.call(
      `creating container ${spec.name} from ${spec.image}`,
      abortSignal =>
        this.calls.docker.createContainer({
          name: spec.name,
          Image: spec.image,
          Cmd: [...spec.cmd],
          Labels: spec.labels,
          User: spec.user,
          Env: spec.env ? [...spec.env] : undefined,
          WorkingDir: spec.workingDir,
          Hostname: spec.hostname,
          Tty: false,
          ...(stdin ? { OpenStdin: true, StdinOnce: true, AttachStdin: true } : {}),
          HostConfig: { Mounts: spec.mounts ? engineMounts(spec.mounts) : undefined },
          abortSignal
        })
    )
    this.log.debug(`created container ${spec.name} (${shortId(container.id)})`)
    return container.id
  }

  /**
   * Runs a container to completion with its output delivered line by line as it is written, then
   * removes it; `afterExit` reads what it left (e.g. files, through the API) before it goes.
   */
  async run(
    spec: ContainerSpec,
    onLine: OutputLine,
    afterExit?: (id: string, status: ExitStatus) => Promise<void>
  ): Promise<ExitStatus> {
    const id = await this.create(spec)
    try {
      const container = this.container(id)
      // Attached for as long as it runs: no timeout, but the run's cancel ends it.
      const exitCode = await this.calls.call(
        `running container ${spec.name}`,
        async abortSignal => {
          const stream = await container.attach({ stream: true, stdout: true, stderr: true, abortSignal })
          const done = this.demuxLines(stream, onLine)
          await container.start({ abortSignal })
          const { StatusCode } = (await container.wait({ abortSignal })) as { StatusCode: number }
          await done
          return StatusCode
        },
        { timeoutMs: null }
      )
      const { oomKilled } = await this.state(id)
      this.log.debug(`container ${spec.name} exited with ${exitCode}${oomKilled ? ' (OOM killed)' : ''}`)
      const status = { exitCode, oomKilled }
      await afterExit?.(id, status)
      return status
    } finally {
      await this.remove(id)
    }
  }

  /**
   * Runs `spec.cmd` with its stdin and stdout piped through the API connection, as an exec session
   * of an idle container of its own that is removed after. Ending `stdin` closes the command's stdin.
   * Returns the exit code.
   */
  async runPiped(spec: ContainerSpec, streams: PipedStreams): Promise<number> {
    const id = await this.startIdle(spec)
    try {
      return await this.exec(id, spec, streams)
    } finally {
      await this.remove(id)
    }
  }

  /**
   * Creates and starts a container of `spec`'s image and mounts that idles while exec sessions do its
   * work; returns its id. It runs as the image's user: each exec's user is the exec's own, so a user
   * that cannot run is the exec's failure, tried again, not the container's.
   */
  async startIdle(spec: Omit<ContainerSpec, 'cmd'>): Promise<string> {
    const id = await this.create({ ...spec, cmd: IDLE_COMMAND, user: undefined })
    try {
      await this.start(id)
    } catch (err) {
      await this.remove(id)
      throw err
    }
    return id
  }

  /**
   * Runs `run.cmd` as `run.user` in the idle container `id`, its streams piped. An exec the engine
   * could not start is tried again (it has read no stdin). Returns the exit code.
   */
  async exec(
    id: string,
    run: Pick<ContainerSpec, 'name' | 'cmd' | 'user'>,
    streams: PipedStreams
  ): Promise<number> {
    const what = `${run.cmd[0]} in container ${run.name}`
    const exitCode = await retriedExec(
      () =>
        this.calls.call(
          `running ${what}`,
          abortSignal => pipeExec(this.container(id), run.cmd, run.user, streams, abortSignal),
          { timeoutMs: null }
        ),
      what,
      this.log
    )
    this.log.debug(`${what} exited with ${exitCode}`)
    return exitCode
  }

  private demuxLines(stream: NodeJS.ReadableStream, onLine: OutputLine): Promise<void> {
    const outputs = (['stdout', 'stderr'] as const).map(name => {
      const pass = new PassThrough()
      const closed = new Promise<void>(resolve => {
        createInterface({ input: pass, crlfDelay: Infinity })
          .on('line', line => onLine(line, name))
          .on('close', resolve)
      })
      return { pass, closed }
    })
    this.calls.docker.modem.demuxStream(stream, outputs[0].pass, outputs[1].pass)
    const end = (): void => outputs.forEach(o => o.pass.end())
    stream.on('end', end).on('close', end).on('error', end)
    return Promise.all(outputs.map(o => o.closed)).then(() => undefined)
  }

  async state(id: string): Promise<ContainerState> {
    const info = await this.calls.call(`inspecting container ${shortId(id)}`, abortSignal =>
      this.container(id).inspect({ abortSignal })
    )
    return { running: info.State.Running, exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled }
  }

  /** A container's name and mounts; null when the engine has no such container. */
  async mounts(id: string): Promise<OwnContainer | null> {
    const info = await this.calls.call(`inspecting container ${shortId(id)}`, abortSignal =>
      unlessMissing(this.container(id).inspect({ abortSignal }))
    )
    if (!info) return null
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      mounts: (info.Mounts ?? []).map(m => ({ source: m.Source, destination: m.Destination }))
    }
  }

  /** Adds files to a container: a tar (buffer or stream) extracted at `path`, inside the container's view. */
  async putArchive(id: string, path: string, tar: Buffer | NodeJS.ReadableStream): Promise<void> {
    // A stream may be large: it takes as long as it takes.
    await this.calls.call(
      `copying files into container ${shortId(id)}`,
      abortSignal => this.container(id).putArchive(tar, { path, abortSignal }),
      Buffer.isBuffer(tar) ? {} : { timeoutMs: null }
    )
  }

  /**
   * Copies one file out of a container (`docker cp` over the API) to `destination` on this host,
   * streamed: it works wherever the API answers, whatever the engine shares with this host. With
   * `what`, a long copy reports its progress in the log under that name.
   */
  async copyFileOut(id: string, path: string, destination: string, what?: string): Promise<void> {
    const operation = `copying ${path} out of container ${shortId(id)}`
    await this.calls.call(
      operation,
      async abortSignal => {
        const archive = await this.container(id).getArchive({ path, abortSignal })
        await writeOnlyFile(archive, destination, operation, what ? { what, log: this.log } : undefined)
      },
      { timeoutMs: null }
    )
  }

  async start(id: string): Promise<void> {
    await this.calls.call(`starting container ${shortId(id)}`, abortSignal =>
      this.container(id).start({ abortSignal })
    )
  }

  /**
   * Kills and removes a container; one that is already gone is not an error. Runs after a cancel too.
   * Docker's forced removal kills a running container; Podman's stops it with its stop timeout (10 s,
   * which make and a shell as PID 1 sit out): a stop with no grace time first kills it on both.
   */
  async remove(id: string): Promise<void> {
    await this.calls.call(
      `removing container ${shortId(id)}`,
      async abortSignal => {
        try {
          await this.container(id).stop({ t: 0, abortSignal })
        } catch (err) {
          // 304: not running; 404: gone. Anything else is left to the removal, which stops it too.
          if (statusCode(err) !== 304 && statusCode(err) !== 404) {
            this.log.debug(`stopping container ${shortId(id)} before removing it: ${errorMessage(err)}`)
          }
        }
        try {
          await this.container(id).remove({ force: true, abortSignal })
          this.log.debug(`removed container ${shortId(id)}`)
        } catch (err) {
          if (statusCode(err) !== 404 && statusCode(err) !== 409) throw err
        }
      },
      { cancellable: false }
    )
  }

  /** Removes every container carrying all of `labels`; returns how many there were. Runs after a cancel too. */
  async removeLabelled(labels: readonly string[]): Promise<number> {
    const listed = await this.calls.call(
      'listing containers',
      abortSignal => this.calls.docker.listContainers({ all: true, filters: firstCut(labels), abortSignal }),
      { cancellable: false }
    )
    const labelled = listed.filter(c => hasEveryLabel(c.Labels, labels))
    await Promise.all(labelled.map(c => this.remove(c.Id)))
    return labelled.length
  }
}
