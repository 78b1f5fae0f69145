// Moves files between this host and a data volume with rsync's own protocol (only what changed is
// sent), carried by the Engine API connection itself. The local rsync's remote shell is a small relay
// back to this process, which runs `rsync --server` in a container on the volume and pipes the bytes
// through a hijacked attach, as `docker run -i` does. No shared path, published port, network route
// or password is needed: it works wherever the API answers (a remote DOCKER_HOST, a sidecar engine,
// a container job).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CancelledError, ReleaseError } from '../errors.js'
import type { Logger } from '../logger.js'
import { startProgress } from '../progress.js'
import type { ContainerClient } from './containers.js'

const RSYNC_IO_TIMEOUT_SECONDS = 300
/** Names the volume in rsync's `host:path` syntax; the relay ignores it. */
const REMOTE_HOST = 'volume'
const RELAY_SOCKET_ENV = 'KUBE_RELEASE_RSYNC_RELAY'

/**
 * The remote shell rsync starts as `relay <host> rsync --server …`: it sends that command line, then
 * rsync's stream both ways, over a unix socket to the process that started rsync.
 */
const RELAY_SCRIPT = `'use strict'
const socket = require('node:net').connect(process.env.${RELAY_SOCKET_ENV})
socket.write(JSON.stringify(process.argv.slice(3)) + '\\n')
process.stdin.pipe(socket)
socket.pipe(process.stdout)
// Writes to a pipe are synchronous on Linux: everything received is out once the socket ends.
socket.on('end', () => process.exit(0))
socket.on('error', err => {
  process.stderr.write('rsync relay: ' + err.message + '\\n')
  process.exit(1)
})
`

export interface VolumeRsyncOptions {
  /** Name of each transfer's container. */
  readonly name: string
  /** An image with rsync (the build image). */
  readonly image: string
  readonly volume: string
  /** Where the volume is mounted: the remote side of every transfer. */
  readonly path: string
  /** uid:gid the remote rsync runs as; null on rootless engines (container root is the caller). */
  readonly user: { uid: number; gid: number } | null
  readonly labels: Record<string, string>
  /** KUBE_VERBOSE: 6 and up itemises every transferred file. */
  readonly verbosity: number
  /** Aborting it kills a transfer under way. */
  readonly signal?: AbortSignal
}

/** How one side of a transfer ended. */
interface Outcome {
  readonly exitCode: number
  readonly stderr: string
}

/** The bytes of rsync's stream a transfer sent into the container and received from it. */
export interface RsyncBytes {
  readonly sent: number
  readonly received: number
}

/** A path as one argument of rsync's --rsh, which splits on spaces and honours quotes. */
function rshWord(path: string): string {
  if (path.includes("'")) throw new ReleaseError(`cannot pass the path ${path} to rsync's --rsh`)
  return `'${path}'`
}

/** rsync's --info=progress2 line: `  50,000,000 100%  266.21MB/s  0:00:00 (xfr#1, to-chk=0/2)`. */
const PROGRESS_LINE = /^\s*([\d,]+)\s+\d+%\s/

/** The last lines of some output, for a message. */
const tail = (text: string): string => text.trim().split('\n').slice(-5).join('\n')

/** Reads the relay's first line: the command rsync wants run remotely. */
async function remoteCommand(connection: Socket): Promise<string[]> {
  let head = Buffer.alloc(0)
  for (;;) {
    const chunk = connection.read() as Buffer | null
    if (chunk === null) {
      if (connection.readableEnded) throw new ReleaseError('the rsync relay closed before sending a command')
      await once(connection, 'readable')
      continue
    }
    head = Buffer.concat([head, chunk])
    const newline = head.indexOf(10)
    if (newline < 0) continue
    connection.unshift(head.subarray(newline + 1))
    const argv = JSON.parse(head.subarray(0, newline).toString()) as string[]
    if (argv[0] !== 'rsync' || argv[1] !== '--server') {
      throw new ReleaseError(`the rsync relay asked for an unexpected command: ${argv.join(' ')}`)
    }
    return argv
  }
}

export class VolumeRsync {
  constructor(
    private readonly containers: ContainerClient,
    private readonly options: VolumeRsyncOptions,
    private readonly log: Logger
  ) {}

  /** Host directory → volume. `source` must end with / to copy its contents. */
  push(source: string, args: readonly string[]): Promise<RsyncBytes> {
    return this.transfer([...args, source, `${REMOTE_HOST}:${this.options.path}/`], `syncing ${source}`)
  }

  /** Volume → host directory. */
  pull(destination: string, args: readonly string[]): Promise<RsyncBytes> {
    return this.transfer(
      [...args, `${REMOTE_HOST}:${this.options.path}/`, destination],
      `copying into ${destination}`
    )
  }

  /** `what` names the transfer in progress reports. */
  private async transfer(args: readonly string[], what: string): Promise<RsyncBytes> {
    const dir = await mkdtemp(join(tmpdir(), 'kube-release-rsync-'))
    const relay = join(dir, 'relay.cjs')
    const socketPath = join(dir, 'relay.sock')
    await writeFile(relay, RELAY_SCRIPT)
    const served: Promise<Outcome>[] = []
    let relayed: Socket | undefined
    const server = createServer({ allowHalfOpen: true }, connection => {
      if (served.length > 0) {
        connection.destroy()
        return
      }
      relayed = connection
      const remote = this.serve(connection)
      // Awaited below, once the local rsync is done; it reports a broken stream too.
      remote.catch(() => connection.destroy())
      served.push(remote)
    })
    server.listen(socketPath)
    try {
      await once(server, 'listening')
      const local = await this.runLocal(
        [
          '--archive',
          '--numeric-ids',
          // An I/O timeout: a transfer that stalls fails instead of hanging the run.
          `--timeout=${RSYNC_IO_TIMEOUT_SECONDS}`,
          `--rsh=${rshWord(process.execPath)} ${rshWord(relay)}`,
          // Totals as it goes, for the progress reports.
          '--info=progress2',
          ...(this.options.verbosity >= 6 ? ['-iv'] : []),
          ...args
        ],
        socketPath,
        what
      )
      const remote = served.length > 0 ? await served[0] : null
      if (local.exitCode !== 0 || (remote && remote.exitCode !== 0)) {
        const remoteSide = remote?.stderr.trim() ? `\nin the container: ${tail(remote.stderr)}` : ''
        throw new ReleaseError(`rsync exited with ${local.exitCode}: ${tail(local.stderr)}${remoteSide}`)
      }
      // What the relay carried (its first line, the remote command, is a few hundred bytes of it).
      return { sent: relayed?.bytesRead ?? 0, received: relayed?.bytesWritten ?? 0 }
    } finally {
      server.close()
      await rm(dir, { recursive: true, force: true })
    }
  }

  /** Runs the command the relay sends in a container on the volume, piped to the relay. */
  private async serve(connection: Socket): Promise<Outcome> {
    const command = await remoteCommand(connection)
    const { user } = this.options
    let stderr = ''
    const exitCode = await this.containers.runPiped(
      {
        name: this.options.name,
        image: this.options.image,
        cmd: command,
        labels: this.options.labels,
        user: user ? `${user.uid}:${user.gid}` : undefined,
        mounts: [{ kind: 'volume', volume: this.options.volume, target: this.options.path }]
      },
      { stdin: connection, stdout: connection, onStderr: chunk => (stderr += chunk.toString()) }
    )
    return { exitCode, stderr }
  }

  private runLocal(args: readonly string[], socketPath: string, what: string): Promise<Outcome> {
    this.log.debug(`rsync ${args.join(' ')}`)
    const progress = startProgress(what, this.log)
    /** The bytes of the files rsync has transferred, from its progress lines; the rest is debug output. */
    let partial = ''
    const read = (chunk: Buffer): void => {
      const lines = (partial + chunk.toString()).split(/[\r\n]+/)
      partial = lines.pop() ?? ''
      for (const line of lines) {
        const bytes = PROGRESS_LINE.exec(line)?.[1]
        if (bytes) progress.set(Number(bytes.replaceAll(',', '')))
        else if (line.trim()) this.log.debug(line.trimEnd())
      }
    }
    return new Promise<Outcome>((resolve, reject) => {
      const child = spawn('rsync', args, {
        env: { ...process.env, [RELAY_SOCKET_ENV]: socketPath },
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: this.options.signal
      })
      let stderr = ''
      child.stdout.on('data', read)
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.on('error', err =>
        reject(
          // The signal kills the child with an AbortError: a cancel, not a host without rsync.
          this.options.signal?.aborted
            ? new CancelledError('cancelled while rsync was transferring files')
            : new ReleaseError(
                `cannot run rsync on this host (${err.message}); the volume workspace needs it`
              )
        )
      )
      child.on('close', code => resolve({ exitCode: code ?? -1, stderr }))
    }).finally(() => progress.stop())
  }
}
