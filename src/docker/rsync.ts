// Moves files between the host and a data volume the way upstream's legacy build does: an rsync
// daemon container on the volume, published on 127.0.0.1 only, behind a password made fresh for
// each daemon and handed to it through the API (never in an image, an env var or a log).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import pRetry, { AbortError } from 'p-retry'
import { tarBuffer } from '../archive/tar.js'
import { CancelledError, ReleaseError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { ContainerClient } from './containers.js'

const DAEMON_PORT = '8730/tcp'
const CONFIG_DIR = 'kube-release-rsyncd'
const MODULE = 'k8s'
const RSYNC_IO_TIMEOUT_SECONDS = 300
const USER = 'k8s'
/** A new daemon answers within a second or two; this many tries, 100 ms apart, per address. */
const CONNECT_ATTEMPTS = 50

export interface RsyncDaemonOptions {
  readonly name: string
  readonly image: string
  readonly volume: string
  /** Where the volume is mounted, and what the module serves. */
  readonly path: string
  /** uid:gid the daemon runs as; null on rootless engines (container root is the caller). */
  readonly user: { uid: number; gid: number } | null
  readonly labels: Record<string, string>
  /** rsync filter rules of the module itself: what neither direction ever transfers. */
  readonly moduleFilter: string
  /** KUBE_VERBOSE: 6 and up itemises every transferred file. */
  readonly verbosity: number
  /** Aborting it kills a transfer under way. */
  readonly signal?: AbortSignal
}

function daemonConfig(options: RsyncDaemonOptions, asRoot: boolean, allowed: string | null): string {
  return [
    `pid file = /tmp/${CONFIG_DIR}/rsyncd.pid`,
    'use chroot = no',
    'reverse lookup = no',
    'munge symlinks = no',
    'port = 8730',
    `[${MODULE}]`,
    `  path = ${options.path}`,
    '  read only = false',
    '  numeric ids = true',
    // A root daemon would otherwise write as nobody.
    ...(asRoot ? ['  uid = 0', '  gid = 0'] : []),
    // Published on 127.0.0.1 only, so the host's connections arrive from the bridge gateway.
    ...(allowed ? [`  hosts allow = ${allowed} 127.0.0.1`, '  hosts deny = *'] : []),
    `  auth users = ${USER}`,
    `  secrets file = /tmp/${CONFIG_DIR}/rsyncd.secrets`,
    `  filter = ${options.moduleFilter}`,
    ''
  ].join('\n')
}

export class RsyncDaemon {
  private constructor(
    private readonly containers: ContainerClient,
    private readonly containerId: string,
    private readonly address: string,
    private readonly password: string,
    private readonly options: RsyncDaemonOptions,
    private readonly log: Logger
  ) {}

  static async start(
    containers: ContainerClient,
    options: RsyncDaemonOptions,
    log: Logger
  ): Promise<RsyncDaemon> {
    const password = randomBytes(24).toString('base64url')
    log.mask(password)
    const asRoot = options.user === null || options.user.uid === 0
    const containerId = await containers.create({
      name: options.name,
      image: options.image,
      cmd: ['rsync', '--daemon', '--no-detach', `--config=/tmp/${CONFIG_DIR}/rsyncd.conf`],
      labels: options.labels,
      user: options.user ? `${options.user.uid}:${options.user.gid}` : undefined,
      mounts: [{ kind: 'volume', volume: options.volume, target: options.path }],
      publishOnLoopback: DAEMON_PORT
    })
    try {
      const owner = options.user ?? { uid: 0, gid: 0 }
      const files = await tarBuffer(
        [
          { kind: 'dir', path: `${CONFIG_DIR}/` },
          {
            kind: 'data',
            path: `${CONFIG_DIR}/rsyncd.conf`,
            data: daemonConfig(options, asRoot, await containers.defaultBridgeGateway()),
            mode: 0o644
          },
          { kind: 'data', path: `${CONFIG_DIR}/rsyncd.secrets`, data: `${USER}:${password}\n`, mode: 0o600 }
        ],
        { owner }
      )
      await containers.putArchive(containerId, '/tmp', files)
      await containers.start(containerId)
      const address = await RsyncDaemon.reachableAddress(containers, containerId, options.signal)
      log.debug(`rsync daemon ${options.name} listening at ${address}`)
      return new RsyncDaemon(containers, containerId, address, password, options, log)
    } catch (err) {
      await containers.remove(containerId)
      throw err
    }
  }

  /** The published loopback port first; the container's own address for runs inside a container. */
  private static async reachableAddress(
    containers: ContainerClient,
    id: string,
    signal: AbortSignal | undefined
  ): Promise<string> {
    const state = await containers.state(id)
    const candidates = [
      ...(state.published[DAEMON_PORT] ? [state.published[DAEMON_PORT]] : []),
      ...state.addresses.map(ip => `${ip}:8730`)
    ]
    for (const address of candidates) {
      const answered = await pRetry(
        async () => {
          if (await listModules(address)) return true
          const now = await containers.state(id)
          if (!now.running) {
            throw new AbortError(
              new ReleaseError(
                `the rsync daemon container exited with code ${now.exitCode} before it answered`
              )
            )
          }
          throw new Error(`no answer at ${address}`)
        },
        { retries: CONNECT_ATTEMPTS - 1, minTimeout: 100, factor: 1, signal }
      ).catch(err => {
        if (err instanceof ReleaseError) throw err
        // p-retry ends with the signal's reason: a cancel, not an address that did not answer.
        if (signal?.aborted) throw new CancelledError('cancelled while waiting for the rsync daemon')
        return false
      })
      if (answered) return address
    }
    throw new ReleaseError(
      `could not connect to the rsync daemon container (tried ${candidates.join(', ') || 'no address'})`
    )
  }

  private url(): string {
    return `rsync://${USER}@${this.address}/${MODULE}/`
  }

  /** Host directory → volume. `source` must end with / to copy its contents. */
  push(source: string, args: readonly string[]): Promise<void> {
    return this.rsync([...args, source, this.url()])
  }

  /** Volume → host directory. */
  pull(destination: string, args: readonly string[]): Promise<void> {
    return this.rsync([...args, this.url(), destination])
  }

  async stop(): Promise<void> {
    await this.containers.remove(this.containerId)
  }

  private rsync(args: readonly string[]): Promise<void> {
    // An I/O timeout: a transfer that stalls fails instead of hanging the run.
    const all = [
      '--archive',
      `--timeout=${RSYNC_IO_TIMEOUT_SECONDS}`,
      ...(this.options.verbosity >= 6 ? ['-iv'] : []),
      ...args
    ]
    this.log.debug(`rsync ${all.join(' ')}`)
    return new Promise((resolve, reject) => {
      const child = spawn('rsync', all, {
        env: { ...process.env, RSYNC_PASSWORD: this.password },
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: this.options.signal
      })
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => this.log.debug(chunk.toString().trimEnd()))
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
      child.on('close', code =>
        code === 0
          ? resolve()
          : reject(
              new ReleaseError(`rsync exited with ${code}: ${stderr.trim().split('\n').slice(-5).join('\n')}`)
            )
      )
    })
  }
}

/** Whether a daemon answers a module listing (no password needed for that). */
function listModules(address: string): Promise<boolean> {
  return new Promise(resolve => {
    const child = spawn('rsync', ['--contimeout=2', `rsync://${address}/`], { stdio: 'ignore' })
    child.on('error', () => resolve(false))
    child.on('close', code => resolve(code === 0))
  })
}
