// Containers through the Engine API: create, run attached with live output, remove by label.
import type Dockerode from 'dockerode'
import { PassThrough } from 'node:stream'
import { createInterface } from 'node:readline'
import type { Logger } from '../logger.js'
import { CancelledError, operationFailed, statusCode, withTimeout } from './errors.js'

export interface ContainerSpec {
  readonly name: string
  readonly image: string
  readonly cmd: readonly string[]
  readonly labels: Record<string, string>
  readonly user?: string
  readonly env?: readonly string[]
  readonly workingDir?: string
  readonly hostname?: string
  readonly binds?: readonly string[]
  readonly mounts?: readonly Dockerode.MountSettings[]
  /** Container port (e.g. 8730/tcp) published on 127.0.0.1 at a port the engine picks. */
  readonly publishOnLoopback?: string
}

export type OutputLine = (line: string, stream: 'stdout' | 'stderr') => void

export interface ExitStatus {
  readonly exitCode: number
  /** The kernel's OOM killer ended it (exit code 137). */
  readonly oomKilled: boolean
}

const shortId = (id: string): string => id.slice(0, 12)

export class ContainerClient {
  /** @param signal once aborted (the run is cancelled), no container is created any more */
  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
    private readonly signal?: AbortSignal
  ) {}

  async create(spec: ContainerSpec): Promise<Dockerode.Container> {
    if (this.signal?.aborted) throw new CancelledError(`cancelled before creating container ${spec.name}`)
    const port = spec.publishOnLoopback
    this.log.debug(`creating container ${spec.name} from ${spec.image}: ${JSON.stringify(spec.cmd)}`)
    try {
      const create = this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Cmd: [...spec.cmd],
        Labels: spec.labels,
        User: spec.user,
        Env: spec.env ? [...spec.env] : undefined,
        WorkingDir: spec.workingDir,
        Hostname: spec.hostname,
        Tty: false,
        ExposedPorts: port ? { [port]: {} } : undefined,
        HostConfig: {
          Binds: spec.binds ? [...spec.binds] : undefined,
          Mounts: spec.mounts ? [...spec.mounts] : undefined,
          PortBindings: port ? { [port]: [{ HostIp: '127.0.0.1', HostPort: '' }] } : undefined
        }
      })
      const container = await withTimeout(`creating container ${spec.name}`, create)
      this.log.debug(`created container ${spec.name} (${shortId(container.id)})`)
      return container
    } catch (err) {
      throw operationFailed(`creating container ${spec.name} from ${spec.image}`, err)
    }
  }

  /**
   * Runs a container to completion with its output delivered line by line as it is written, then
   * removes it.
   */
  async run(spec: ContainerSpec, onLine: OutputLine): Promise<ExitStatus> {
    const container = await this.create(spec)
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true })
      const done = this.demuxLines(stream, onLine)
      await container.start()
      const { StatusCode } = (await container.wait()) as { StatusCode: number }
      await done
      const { State } = await this.inspect(container.id)
      this.log.debug(
        `container ${spec.name} exited with ${StatusCode}${State.OOMKilled ? ' (OOM killed)' : ''}`
      )
      return { exitCode: StatusCode, oomKilled: State.OOMKilled }
    } catch (err) {
      throw operationFailed(`running container ${spec.name}`, err)
    } finally {
      await this.remove(container.id)
    }
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
    this.docker.modem.demuxStream(stream, outputs[0].pass, outputs[1].pass)
    const end = (): void => outputs.forEach(o => o.pass.end())
    stream.on('end', end).on('close', end).on('error', end)
    return Promise.all(outputs.map(o => o.closed)).then(() => undefined)
  }

  async inspect(id: string): Promise<Dockerode.ContainerInspectInfo> {
    try {
      return await withTimeout(`inspecting container ${shortId(id)}`, this.docker.getContainer(id).inspect())
    } catch (err) {
      throw operationFailed(`inspecting container ${shortId(id)}`, err)
    }
  }

  /** Adds files to a container: a tar (buffer or stream) extracted at `path`, inside the container's view. */
  async putArchive(id: string, path: string, tar: Buffer | NodeJS.ReadableStream): Promise<void> {
    const operation = `copying files into container ${shortId(id)}`
    try {
      const put = this.docker.getContainer(id).putArchive(tar, { path })
      // A stream may be large: it takes as long as it takes.
      await (Buffer.isBuffer(tar) ? withTimeout(operation, put) : put)
    } catch (err) {
      throw operationFailed(operation, err)
    }
  }

  /** A tar stream of `path` in the container (`docker cp` out), the directory itself as its top entry. */
  async getArchive(id: string, path: string): Promise<NodeJS.ReadableStream> {
    try {
      return await this.docker.getContainer(id).getArchive({ path })
    } catch (err) {
      throw operationFailed(`reading ${path} from container ${shortId(id)}`, err)
    }
  }

  async start(id: string): Promise<void> {
    try {
      await withTimeout(`starting container ${shortId(id)}`, this.docker.getContainer(id).start())
    } catch (err) {
      throw operationFailed(`starting container ${shortId(id)}`, err)
    }
  }

  /** Force-removes a container; one that is already gone is not an error. */
  async remove(id: string): Promise<void> {
    try {
      await withTimeout(
        `removing container ${shortId(id)}`,
        this.docker.getContainer(id).remove({ force: true })
      )
      this.log.debug(`removed container ${shortId(id)}`)
    } catch (err) {
      if (statusCode(err) === 404 || statusCode(err) === 409) return
      throw operationFailed(`removing container ${shortId(id)}`, err)
    }
  }

  /** The gateway address of the default bridge network, where the host's connections come from. */
  async defaultBridgeGateway(): Promise<string | null> {
    try {
      const network = await withTimeout(
        'inspecting the bridge network',
        this.docker.getNetwork('bridge').inspect()
      )
      return (network as { IPAM?: { Config?: { Gateway?: string }[] } }).IPAM?.Config?.[0]?.Gateway ?? null
    } catch (err) {
      if (statusCode(err) === 404) return null
      throw operationFailed('inspecting the bridge network', err)
    }
  }

  /** Removes every container matching the label filter; returns how many there were. */
  async removeByLabel(filter: { label: string[] }): Promise<number> {
    const found = await withTimeout(
      'listing containers',
      this.docker.listContainers({ all: true, filters: filter })
    )
    await Promise.all(found.map(c => this.remove(c.Id)))
    return found.length
  }
}
