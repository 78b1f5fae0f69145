// Containers through the Engine API: create, run attached with live output, copy files in and out,
// remove by label.
import { writeFile } from 'node:fs/promises'
import { PassThrough } from 'node:stream'
import { createInterface } from 'node:readline'
import { readTar } from '../archive/tar-read.js'
import { ReleaseError } from '../errors.js'
import type { Logger } from '../logger.js'
import { get, statusCode, unlessMissing, type EngineCalls } from './calls.js'
import { firstCut, hasEveryLabel } from './labels.js'

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
  /** Container port (e.g. 8730/tcp) published on 127.0.0.1 at a port the engine picks. */
  readonly publishOnLoopback?: string
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
  /** Container port → the host address it is published at (`127.0.0.1:<port>`). */
  readonly published: Readonly<Record<string, string>>
  /** The container's address on each network it is attached to. */
  readonly addresses: readonly string[]
}

const shortId = (id: string): string => id.slice(0, 12)

/** Writes the content of the one file member of a tar stream to `destination`. */
async function writeOnlyFile(
  archive: NodeJS.ReadableStream,
  destination: string,
  operation: string
): Promise<void> {
  let written = false
  // readTar lets go of the engine's response even when writing fails (a full disk): the engine
  // keeps a copy that is still open, and will not remove the container.
  await readTar(archive, async entry => {
    if (entry.header.type !== 'file' || written) return
    await writeFile(destination, entry as AsyncIterable<Buffer>)
    written = true
  })
  if (!written) throw new ReleaseError(`${operation}: the engine's archive held no file`)
}

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
  async create(spec: ContainerSpec): Promise<string> {
    const port = spec.publishOnLoopback
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
          ExposedPorts: port ? { [port]: {} } : undefined,
          HostConfig: {
            Mounts: spec.mounts ? engineMounts(spec.mounts) : undefined,
            PortBindings: port ? { [port]: [{ HostIp: '127.0.0.1', HostPort: '' }] } : undefined
          },
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
    const published: Record<string, string> = {}
    for (const [port, bindings] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      const hostPort = bindings?.[0]?.HostPort
      if (hostPort) published[port] = `${bindings[0].HostIp || '127.0.0.1'}:${hostPort}`
    }
    return {
      running: info.State.Running,
      exitCode: info.State.ExitCode,
      oomKilled: info.State.OOMKilled,
      published,
      addresses: Object.values(info.NetworkSettings.Networks ?? {})
        .map(network => network.IPAddress)
        .filter(ip => ip)
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
   * streamed: it works wherever the API answers, whatever the engine shares with this host.
   */
  async copyFileOut(id: string, path: string, destination: string): Promise<void> {
    const operation = `copying ${path} out of container ${shortId(id)}`
    await this.calls.call(
      operation,
      async abortSignal => {
        const archive = await this.container(id).getArchive({ path, abortSignal })
        await writeOnlyFile(archive, destination, operation)
      },
      { timeoutMs: null }
    )
  }

  async start(id: string): Promise<void> {
    await this.calls.call(`starting container ${shortId(id)}`, abortSignal =>
      this.container(id).start({ abortSignal })
    )
  }

  /** Force-removes a container; one that is already gone is not an error. Runs after a cancel too. */
  async remove(id: string): Promise<void> {
    await this.calls.call(
      `removing container ${shortId(id)}`,
      async abortSignal => {
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

  /** The gateway address of the default bridge network, where the host's connections come from. */
  async defaultBridgeGateway(): Promise<string | null> {
    const network = await this.calls.call('inspecting the bridge network', abortSignal =>
      unlessMissing(
        get<{ IPAM?: { Config?: { Gateway?: string }[] } }>(
          this.calls.docker,
          '/networks/bridge',
          abortSignal
        )
      )
    )
    return network?.IPAM?.Config?.[0]?.Gateway ?? null
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
