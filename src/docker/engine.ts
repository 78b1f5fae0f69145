// The run's one connection to the Docker engine, and the clients built on it: DOCKER_HOST or the
// local socket, with the API version negotiated down to what the engine speaks (20.10 engines
// answer 1.41 at most). Every client shares the same calls: one timeout, one cancel, one error style.
import Dockerode from 'dockerode'
import { setInterval } from 'node:timers/promises'
import { ReleaseError, errorMessage } from '../errors.js'
import type { Logger } from '../logger.js'
import { EngineCalls, withAbortSignal } from './calls.js'
import { ContainerClient } from './containers.js'
import { ImageClient } from './images.js'
import { runLabels } from './labels.js'
import { VolumeClient } from './volumes.js'

/** An engine that does not answer a version request this soon is not going to. */
const CONNECT_TIMEOUT_MS = 20_000
/** How often a failed build asks whether the engine is still there. */
const PING_INTERVAL_MS = 250

/** The newest Engine API version this code is written against. */
const CLIENT_API_VERSION = '1.47'

export interface EngineInfo {
  /** Where the engine was reached, for messages. */
  readonly endpoint: string
  readonly apiVersion: string
  readonly serverVersion: string
  readonly os: string
  /** Go architecture name (amd64, arm64, …). */
  readonly arch: string
  /** Rootless engines map container root to the caller, so builds must not pass --user. */
  readonly rootless: boolean
}

export interface EngineOptions {
  /** The run's cancel: aborting it ends every request under way and refuses new ones (cleanup excepted). */
  readonly cancel: AbortSignal
  /** A pull, load or image build silent for this long fails. */
  readonly stallTimeoutMs: number
}

export interface Engine {
  readonly info: EngineInfo
  readonly containers: ContainerClient
  readonly images: ImageClient
  readonly volumes: VolumeClient
  /**
   * Whether the engine stops answering within `ms`: a build container killed by a stopping dockerd
   * looks like any killed container until the engine is asked.
   */
  goneWithin(ms: number): Promise<boolean>
}

function compareApiVersions(a: string, b: string): number {
  const [aMajor, aMinor] = a.split('.').map(Number)
  const [bMajor, bMinor] = b.split('.').map(Number)
  return aMajor - bMajor || aMinor - bMinor
}

/** The likely causes of a failed connection, by the system error it failed with. */
function connectionHint(err: unknown): string {
  const dockerHost = process.env.DOCKER_HOST
    ? ` DOCKER_HOST is '${process.env.DOCKER_HOST}': is that right?`
    : ''
  switch ((err as { code?: string }).code) {
    case 'ENOENT':
      return `There is no socket there: is dockerd installed and running?${dockerHost}`
    case 'EACCES':
    case 'EPERM':
      return 'Permission denied on the socket: run as a member of the docker group (or as root), or use rootless Docker.'
    case 'ECONNREFUSED':
      return `Nothing accepts connections there: is dockerd running and listening?${dockerHost}`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `The host name does not resolve.${dockerHost}`
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return `The host does not answer: check the network path to it.${dockerHost}`
    default:
      return `Is dockerd running, and may this user use its socket?${dockerHost || ' Set DOCKER_HOST to reach another engine.'}`
  }
}

async function negotiate(
  docker: Dockerode,
  endpoint: string
): Promise<{ apiVersion: string; version: Dockerode.DockerVersion }> {
  let version: Dockerode.DockerVersion
  try {
    // Unversioned requests are answered by any engine; the version is pinned right after.
    version = await withAbortSignal<Dockerode.DockerVersion>(
      docker.version,
      docker
    )({
      abortSignal: AbortSignal.timeout(CONNECT_TIMEOUT_MS)
    })
  } catch (err) {
    const reason =
      (err as Error).name === 'AbortError'
        ? `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`
        : errorMessage(err)
    throw new ReleaseError(`cannot reach the Docker engine at ${endpoint}: ${reason}`, {
      fix: connectionHint(err)
    })
  }
  const apiVersion =
    compareApiVersions(version.ApiVersion, CLIENT_API_VERSION) < 0 ? version.ApiVersion : CLIENT_API_VERSION
  if (version.MinAPIVersion && compareApiVersions(apiVersion, version.MinAPIVersion) < 0) {
    throw new ReleaseError(`the engine at ${endpoint} needs API ${version.MinAPIVersion} or newer`, {
      fix: 'Update this action, or use an older engine'
    })
  }
  return { apiVersion, version }
}

/** Connects to the engine and builds the run's clients: the one place they are made. */
export async function connectEngine(log: Logger, options: EngineOptions): Promise<Engine> {
  const endpoint = process.env.DOCKER_HOST || 'the local socket (/var/run/docker.sock)'
  const docker = new Dockerode()
  const { apiVersion, version } = await negotiate(docker, endpoint)
  ;(docker.modem as { version?: string }).version = `v${apiVersion}`
  const calls = new EngineCalls(docker, options.cancel)
  const { SecurityOptions } = await calls.call('an info request', abortSignal =>
    withAbortSignal<{ SecurityOptions?: string[] }>(docker.info, docker)({ abortSignal })
  )
  const info: EngineInfo = {
    endpoint,
    apiVersion,
    serverVersion: version.Version,
    os: version.Os,
    arch: version.Arch,
    rootless: (SecurityOptions ?? []).some(o => o.includes('name=rootless'))
  }
  log.debug(
    `engine ${info.serverVersion} at ${endpoint}: API ${apiVersion} (engine max ${version.ApiVersion})`
  )
  return {
    info,
    containers: new ContainerClient(calls, log),
    images: new ImageClient(calls, log, options.stallTimeoutMs),
    volumes: new VolumeClient(calls, log),
    async goneWithin(ms) {
      try {
        for await (const _ of setInterval(PING_INTERVAL_MS, null, { signal: AbortSignal.timeout(ms) })) {
          const answered = await withAbortSignal(
            docker.ping,
            docker
          )({ abortSignal: AbortSignal.timeout(1000) }).then(
            () => true,
            () => false
          )
          if (!answered) return true
        }
      } catch {
        // The time is up and the engine answered every ping.
      }
      return false
    }
  }
}

/** Removes the containers of one run and says so. Runs after a cancel: that is what cancelling starts. */
export async function removeRunContainers(engine: Engine, runId: string, log: Logger): Promise<number> {
  const removed = await engine.containers.removeLabelled(runLabels(runId))
  if (removed > 0) log.info(`removed ${removed} container${removed > 1 ? 's' : ''} of run ${runId}`)
  return removed
}

/** How many objects a clean removed. */
export interface RemovedObjects {
  readonly containers: number
  readonly volumes: number
  readonly images: number
}

/**
 * The containers and volumes carrying every one of `labels` (containers running or not), and the
 * images too when `images` is set.
 */
export async function removeLabelledObjects(
  engine: Engine,
  labels: readonly string[],
  { images }: { readonly images: boolean }
): Promise<RemovedObjects> {
  const containers = await engine.containers.removeLabelled(labels)
  const volumes = await engine.volumes.listLabelled(labels)
  for (const name of volumes) await engine.volumes.remove(name)
  return {
    containers,
    volumes: volumes.length,
    images: images ? await engine.images.removeLabelled(labels) : 0
  }
}
