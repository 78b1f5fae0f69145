// One connection to the Docker engine per process: DOCKER_HOST or the local socket, with the API
// version negotiated down to what the engine speaks (20.10 engines answer 1.41 at most).
import Dockerode from 'dockerode'
import type { Logger } from '../logger.js'

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

export async function connectEngine(log: Logger): Promise<Engine> {
  const endpoint = describeEndpoint()
  let docker: Dockerode
  let version: Dockerode.DockerVersion
  try {
    docker = new Dockerode()
    // Unversioned requests are answered by any engine; the version is pinned right after.
    version = await docker.version()
  } catch (err) {
    throw new EngineError(
      `cannot reach the Docker engine at ${endpoint}: ${(err as Error).message}. ` +
        `Is dockerd running, and may this user use its socket? Set DOCKER_HOST to reach another engine.`
    )
  }
  const apiVersion =
    compareApiVersions(version.ApiVersion, CLIENT_API_VERSION) < 0 ? version.ApiVersion : CLIENT_API_VERSION
  if (version.MinAPIVersion && compareApiVersions(apiVersion, version.MinAPIVersion) < 0) {
    throw new EngineError(`the engine at ${endpoint} needs API ${version.MinAPIVersion} or newer`)
  }
  ;(docker.modem as { version?: string }).version = `v${apiVersion}`
  const info = await docker.info()
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
