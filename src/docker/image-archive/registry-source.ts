// A base image straight from its registry (Docker Registry HTTP API V2 / OCI distribution), for the
// platforms a Linux engine cannot hold: it refuses to pull or load a Windows image. The platform's
// manifest is chosen from the index, and the config and layers are downloaded into a directory with
// every digest checked, ready to be read like an export. Anonymous access only (public bases).
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { ReleaseError, errorMessage } from '../../errors.js'
import type { Logger } from '../../logger.js'
import type { ExportedLayer } from './export-reader.js'
import type { ImageConfig } from './image-config.js'

const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json'
}
const MANIFEST_ACCEPT = Object.values(MEDIA).join(', ')
/** Requests that should answer at once; blobs get no overall limit, only the run's cancel. */
const REQUEST_TIMEOUT_MS = 60_000

interface Descriptor {
  readonly mediaType?: string
  readonly digest: string
  readonly size?: number
  readonly urls?: string[]
  readonly platform?: { os?: string; architecture?: string; variant?: string; 'os.version'?: string }
}

interface Manifest {
  readonly mediaType?: string
  readonly manifests?: Descriptor[]
  readonly config?: Descriptor
  readonly layers?: Descriptor[]
}

/** Where an image lives: `docker.io` names go to Docker Hub's API host, single names under library/. */
export function registryLocation(ref: string): { host: string; repository: string; reference: string } {
  const [name, digest] = ref.split('@')
  const colon = name.lastIndexOf(':')
  const tagged = colon > name.lastIndexOf('/')
  const path = tagged ? name.slice(0, colon) : name
  const reference = digest ?? (tagged ? name.slice(colon + 1) : 'latest')
  const [first, ...rest] = path.split('/')
  const hasHost = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost')
  const host = hasHost ? first : 'docker.io'
  const repository = hasHost ? rest.join('/') : rest.length === 0 ? `library/${first}` : path
  return { host: host === 'docker.io' ? 'registry-1.docker.io' : host, repository, reference }
}

/** Docker talks plain HTTP to registries on the loopback interface only. */
const isLoopback = (host: string): boolean => /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host)

export interface RegistryImage {
  readonly id: string
  readonly config: ImageConfig
  readonly layers: ExportedLayer[]
  /** The os.version of the chosen manifest, for Windows images. */
  readonly osVersion: string | undefined
}

class RegistryClient {
  private token: string | undefined
  readonly base: string

  constructor(
    private readonly ref: string,
    private readonly host: string,
    private readonly repository: string,
    private readonly signal: AbortSignal | undefined
  ) {
    this.base = `${isLoopback(host) ? 'http' : 'https'}://${host}/v2/${repository}`
  }

  private fail(what: string, reason: string): ReleaseError {
    return new ReleaseError(`pulling ${this.ref} from ${this.host} failed: ${what}: ${reason}`)
  }

  /** GET with the bearer token the registry asks for, fetched anonymously on its first 401. */
  async get(url: string, accept: string, timeout: boolean): Promise<Response> {
    const attempt = (): Promise<Response> => {
      const signals = [this.signal, timeout ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined]
      return fetch(url, {
        headers: { Accept: accept, ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}) },
        signal: AbortSignal.any(signals.filter(s => s !== undefined))
      })
    }
    let response = await attempt().catch(err => {
      throw this.fail(url, errorMessage(err))
    })
    if (response.status === 401 && this.token === undefined) {
      await response.body?.cancel()
      this.token = await this.anonymousToken(response.headers.get('www-authenticate') ?? '')
      response = await attempt()
    }
    if (!response.ok) {
      await response.body?.cancel()
      throw this.fail(
        url,
        `HTTP ${response.status}${response.status === 401 ? ' (the image needs credentials)' : ''}`
      )
    }
    return response
  }

  private async anonymousToken(challenge: string): Promise<string> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1], m[2]]))
    if (!/^Bearer /i.test(challenge) || !params.realm) {
      throw this.fail(
        'authentication',
        `the registry asks for '${challenge.split(' ')[0]}', which needs credentials`
      )
    }
    const url = new URL(params.realm)
    if (params.service) url.searchParams.set('service', params.service)
    url.searchParams.set('scope', params.scope ?? `repository:${this.repository}:pull`)
    const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).catch(err => {
      throw this.fail('getting a token', errorMessage(err))
    })
    if (!response.ok) throw this.fail('getting a token', `HTTP ${response.status}`)
    const body = (await response.json()) as { token?: string; access_token?: string }
    const token = body.token ?? body.access_token
    if (!token) throw this.fail('getting a token', 'the answer holds none')
    return token
  }

  /** A manifest or blob read whole, checked against its digest when one is known. */
  async json<T>(url: string, accept: string, digest?: string): Promise<{ value: T; digest: string }> {
    const bytes = Buffer.from(await (await this.get(url, accept, true)).arrayBuffer())
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    if (digest && actual !== digest) throw this.fail(url, `its content has digest ${actual}, not ${digest}`)
    return { value: JSON.parse(bytes.toString('utf8')) as T, digest: actual }
  }

  /** A blob streamed into `path`, its digest checked on the way. */
  async download(descriptor: Descriptor, path: string): Promise<void> {
    const sources = [`${this.base}/blobs/${descriptor.digest}`, ...(descriptor.urls ?? [])]
    let response: Response | undefined
    for (const url of sources) {
      response = await this.get(url, '*/*', false).catch(err => {
        if (url === sources.at(-1)) throw err
        return undefined
      })
      if (response) break
    }
    const hash = createHash('sha256')
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk)
        done(null, chunk)
      }
    })
    await pipeline(Readable.fromWeb(response!.body! as WebReadableStream), hashing, createWriteStream(path))
    const actual = `sha256:${hash.digest('hex')}`
    if (actual !== descriptor.digest) {
      throw this.fail(`blob ${descriptor.digest}`, `its content has digest ${actual}`)
    }
  }
}

/** The manifest of the platform: the index entry for its os and architecture (the first, if several). */
function choose(index: Manifest, platform: string): Descriptor | undefined {
  const [os, arch, variant] = platform.split('/')
  return index.manifests?.find(
    m =>
      m.platform?.os === os &&
      m.platform.architecture === arch &&
      (variant === undefined || m.platform.variant === variant)
  )
}

/** Downloads the image of `ref` for `platform` into `dir`; the layers are read like an export's. */
export async function fetchFromRegistry(
  ref: string,
  platform: string,
  dir: string,
  log: Logger,
  signal?: AbortSignal
): Promise<RegistryImage> {
  const { host, repository, reference } = registryLocation(ref)
  const client = new RegistryClient(ref, host, repository, signal)
  log.info(`pulling ${ref} for ${platform} from ${host}`)
  const pinned = reference.startsWith('sha256:') ? reference : undefined
  let { value: manifest } = await client.json<Manifest>(
    `${client.base}/manifests/${reference}`,
    MANIFEST_ACCEPT,
    pinned
  )
  let osVersion: string | undefined
  if (manifest.manifests) {
    const entry = choose(manifest, platform)
    if (!entry) {
      const offered = manifest.manifests.map(m => `${m.platform?.os}/${m.platform?.architecture}`).join(', ')
      throw new ReleaseError(`base image ${ref} has no image for ${platform} (it has ${offered})`)
    }
    osVersion = entry.platform?.['os.version']
    manifest = (
      await client.json<Manifest>(`${client.base}/manifests/${entry.digest}`, MANIFEST_ACCEPT, entry.digest)
    ).value
  }
  if (!manifest.config || !manifest.layers)
    throw new ReleaseError(`base image ${ref}: its manifest names no config or layers`)
  const { value: config } = await client.json<ImageConfig>(
    `${client.base}/blobs/${manifest.config.digest}`,
    '*/*',
    manifest.config.digest
  )
  const [os, arch] = platform.split('/')
  if (config.os !== os || config.architecture !== arch) {
    throw new ReleaseError(
      `base image ${ref}: the image for ${platform} is for ${config.os}/${config.architecture}`
    )
  }
  const diffIds = config.rootfs?.diff_ids ?? []
  if (diffIds.length !== manifest.layers.length) {
    throw new ReleaseError(
      `base image ${ref}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids`
    )
  }
  const layers = await Promise.all(
    manifest.layers.map(async (layer, i): Promise<ExportedLayer> => {
      const path = join(dir, layer.digest.replace(/^sha256:/, ''))
      await client.download(layer, path)
      return { name: layer.digest, path, diffId: diffIds[i] }
    })
  )
  return {
    id: manifest.config.digest,
    config,
    layers,
    osVersion: osVersion ?? (config['os.version'] as string | undefined)
  }
}
