// One connection to the Docker engine per process: DOCKER_HOST or the local socket, with the API
// version negotiated down to what the engine speaks (20.10 engines answer 1.41 at most).
import Dockerode from 'dockerode'
import type { Logger } from '../logger.js'
import { withTimeout } from './errors.js'

/** An engine that does not answer a version request this soon is not going to. */
const CONNECT_TIMEOUT_MS = 20_000

/** The newest Engine API version this code is written against. */
const CLIENT_API_VERSION = '1.47'

export interface Engine {
  readonly docker: Dockerode
  /** Where the engine was reached, for messages. */
  readonly endpoint: string
  readonly apiVersion: string
  readonly serverVersion: string
  readonly os: string
  /** Go architecture name (amd64, arm64, …). */
  readonly arch: string
  /** Rootless engines map container root to the caller, so builds must not pass --user. */
  readonly rootless: boolean
  /** Reached through a unix socket on this machine: published ports are on this host's loopback. */
  readonly local: boolean
}

export class EngineError extends Error {}

function compareApiVersions(a: string, b: string): number {
  const [aMajor, aMinor] = a.split('.').map(Number)
  const [bMajor, bMinor] = b.split('.').map(Number)
  return aMajor - bMajor || aMinor - bMinor
}

function describeEndpoint(): string {
  return process.env.DOCKER_HOST || 'the local socket (/var/run/docker.sock)'
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

/**
 * Whether the engine stops answering within `ms`: a build container killed by a stopping dockerd
 * looks like any killed container until the engine is asked.
 */
export async function engineGoneWithin(docker: Dockerode, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    try {
      await withTimeout('a ping', docker.ping(), 1000)
    } catch {
      return true
    }
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  return false
}

export async function connectEngine(log: Logger): Promise<Engine> {
  const endpoint = describeEndpoint()
  let docker: Dockerode
  let version: Dockerode.DockerVersion
  try {
    docker = new Dockerode()
    // Unversioned requests are answered by any engine; the version is pinned right after.
    version = await withTimeout(`a version request at ${endpoint}`, docker.version(), CONNECT_TIMEOUT_MS)
  } catch (err) {
    throw new EngineError(
      `cannot reach the Docker engine at ${endpoint}: ${(err as Error).message}. ${connectionHint(err)}`
    )
  }
  const apiVersion =
    compareApiVersions(version.ApiVersion, CLIENT_API_VERSION) < 0 ? version.ApiVersion : CLIENT_API_VERSION
  if (version.MinAPIVersion && compareApiVersions(apiVersion, version.MinAPIVersion) < 0) {
    throw new EngineError(`the engine at ${endpoint} needs API ${version.MinAPIVersion} or newer`)
  }
  ;(docker.modem as { version?: string }).version = `v${apiVersion}`
  const info = await withTimeout('an info request', docker.info())
  const securityOptions: string[] = info.SecurityOptions ?? []
  const engine: Engine = {
    docker,
    endpoint,
    apiVersion,
    serverVersion: version.Version,
    os: version.Os,
    arch: version.Arch,
    rootless: securityOptions.some(o => o.includes('name=rootless')),
    local: !process.env.DOCKER_HOST || process.env.DOCKER_HOST.startsWith('unix://')
  }
  log.debug(
    `engine ${engine.serverVersion} at ${endpoint}: API ${apiVersion} (engine max ${version.ApiVersion})`
  )
  return engine
}
