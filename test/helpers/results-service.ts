// A test-owned fake of the GitHub Actions "results" service, so e2e tests can run the unmodified
// @actions/cache (cache service v2) and @actions/artifact code against something local.
// See /work/shared/docs/local-actions-runtime.md for the protocol this follows.
//
// One node:http server on 127.0.0.1 serves both halves, each request routed by what it asks for: a Twirp
// (service, method), or a blob operation (HTTP method and `comp`); anything else is a JSON 404.
// - Twirp JSON at /twirp/github.actions.results.api.v1.{CacheService,ArtifactService}/<Method>;
// - a minimal Azure blob endpoint that the signed URLs point at. The URLs expire and are signed with a
//   secret of this instance (over permission, expiry, blob and content disposition), as SAS URLs are. Its path is
//   /devstoreaccount1/<container>/<blob> because the Azure SDK needs /<account>/<container> on IP hosts.
//   With blobHost 'azure' the URLs use devstoreaccount1.blob.core.windows.net:<port>/<container>/<blob>
//   instead: the only hosts for which @actions/cache takes the SDK's HEAD + ranged-GET download path that
//   github.com uses. Something must resolve that name to 127.0.0.1 (see azure-dns.mjs).
// Blobs live in a temp dir, not in memory: release artifacts can be hundreds of MB.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { pipeline } from 'node:stream/promises'

export type BlobHost = 'ip' | 'azure'

export interface ResultsServiceOptions {
  /** Host of the signed blob URLs (default 'ip'); 'azure' needs the azure-dns.mjs preload in the client. */
  blobHost?: BlobHost
  /** How long a signed blob URL is valid (default one hour). */
  signedUrlLifetimeMs?: number
  /** The service's time in milliseconds since the epoch (default Date.now), for tests that expire URLs. */
  clock?: () => number
}

export interface CacheEntryView {
  readonly id: number
  readonly key: string
  readonly version: string
  readonly size: number
  readonly finalized: boolean
}

export interface ArtifactView {
  readonly id: number
  readonly name: string
  readonly size: number
  /** "sha256:<hex>" as sent at finalize (checked against the stored bytes). */
  readonly digest: string | undefined
  readonly finalized: boolean
}

const CACHE_RPCS = ['CreateCacheEntry', 'FinalizeCacheEntryUpload', 'GetCacheEntryDownloadURL'] as const
const ARTIFACT_RPCS = [
  'CreateArtifact',
  'FinalizeArtifact',
  'ListArtifacts',
  'GetSignedArtifactURL',
  'DeleteArtifact'
] as const
export type Rpc = (typeof CACHE_RPCS)[number] | (typeof ARTIFACT_RPCS)[number]
/** Each Twirp service and the methods it has. */
const SERVICES = new Map<string, readonly Rpc[]>([
  ['CacheService', CACHE_RPCS],
  ['ArtifactService', ARTIFACT_RPCS]
])

export interface ResultsService {
  /** The ACTIONS_RESULTS_URL value, with a trailing slash. */
  readonly url: string
  readonly caches: readonly CacheEntryView[]
  readonly artifacts: readonly ArtifactView[]
  /**
   * One line per request, in completion order: "POST CreateArtifact 200",
   * "PUT <container>/<blob>?comp=block 201", "GET <container>/<blob> 206", "… 206 aborted" when the
   * client hung up before the end, "… 200 truncated" when the service cut the body off (truncateBlobs).
   * A request with no route is "<method> <path> 404".
   */
  readonly requests: readonly string[]
  /** Every environment variable the libraries read, for process.env or a child process's env. */
  env(workspace: string, runnerTemp: string): Record<string, string>
  /** The next `count` (default 1) calls of `rpc` answer `status` with a Twirp JSON error. */
  failNext(rpc: Rpc, status: number, count?: number): void
  /**
   * While on, blob GETs send the headers of the whole answer (its full Content-Length) and the first half
   * of its body, then destroy the connection: a blob store failing mid-download.
   */
  truncateBlobs(on: boolean): void
  close(): Promise<void>
}

const ACCOUNT = 'devstoreaccount1'
const AZURE_HOST = `${ACCOUNT}.blob.core.windows.net`
const TWIRP_PATH = /^\/twirp\/github\.actions\.results\.api\.v1\.(\w+)\/(\w+)$/
const TWIRP_CODES: Record<number, string> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  409: 'already_exists',
  412: 'failed_precondition',
  429: 'resource_exhausted',
  500: 'internal',
  501: 'unimplemented',
  503: 'unavailable',
  504: 'deadline_exceeded'
}

class TwirpError extends Error {
  readonly status: number
  constructor(status: number, msg: string) {
    super(msg)
    this.status = status
  }
}

interface Blob {
  file: string
  size: number
  sha256: string
  contentType: string
  modified: string
}
interface CacheRow {
  id: number
  key: string
  version: string
  size: number
  finalized: boolean
  blob: string
}
interface ArtifactRow {
  id: number
  run: string
  job: string
  name: string
  size: number
  digest: string | undefined
  finalized: boolean
  blob: string
  created: string
}

type Body = Record<string, unknown>
const str = (value: unknown): string => (value === undefined || value === null ? '' : String(value))
const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const sha = (value: string): string => createHash('sha256').update(value).digest('hex')

/** A request's handling: its name in the request log, and what answers it. */
interface Route {
  readonly label: string
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>
}

/** A blob operation: the access its signed URL must grant, and what it does to the blob at `path`. */
interface BlobRoute {
  readonly access: 'r' | 'w'
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void>
}

export async function startResultsService(options: ResultsServiceOptions = {}): Promise<ResultsService> {
  const clock = options.clock ?? Date.now
  const urlLifetime = options.signedUrlLifetimeMs ?? 3600_000
  const dir = await mkdtemp(join(tmpdir(), 'results-service-'))
  await mkdir(join(dir, 'blocks'))
  const secret = randomBytes(32)
  const hmac = (data: string): string => createHmac('sha256', secret).update(data).digest('base64url')
  const runBackendId = randomUUID()
  const jobBackendId = randomUUID()
  const runId = String(1_000_000 + Math.floor(Math.random() * 1_000_000))

  // HS256 with a throw-away key; the libraries never check the signature, this service does.
  const now = Math.floor(clock() / 1000)
  const unsigned = `${b64url({ typ: 'JWT', alg: 'HS256' })}.${b64url({
    scp: `Actions.ExampleScope Actions.Results:${runBackendId}:${jobBackendId}`,
    ac: JSON.stringify([{ Scope: 'refs/heads/main', Permission: 3 }]),
    iat: now,
    nbf: now,
    exp: now + 6 * 3600
  })}`
  const token = `${unsigned}.${hmac(unsigned)}`

  const blobs = new Map<string, Blob>() // by "<container>/<blob>"
  const blocks = new Map<string, Map<string, string>>() // uncommitted blocks: blob → block id → file
  const caches: CacheRow[] = []
  const artifacts: ArtifactRow[] = []
  const requests: string[] = []
  const faults = new Map<Rpc, { status: number; count: number }>()
  const truncatedResponses = new WeakSet<ServerResponse>()
  let truncate = false
  let lastId = 0

  const server = createServer((req, res) => {
    const route = routeOf(req, new URL(req.url ?? '/', 'http://localhost'))
    // On close rather than finish, so that responses the client gave up on are listed too.
    res.on('close', () => {
      const cut = truncatedResponses.has(res) ? ' truncated' : res.writableFinished ? '' : ' aborted'
      requests.push(`${req.method} ${route.label} ${res.statusCode}${cut}`)
    })
    route.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { code: 'internal', msg: String(error) })
      else res.destroy()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const resultsUrl = `http://127.0.0.1:${port}/`
  const blobBase =
    options.blobHost === 'azure' ? `http://${AZURE_HOST}:${port}` : `http://127.0.0.1:${port}/${ACCOUNT}`

  // ---- Routing ----

  function routeOf(req: IncomingMessage, url: URL): Route {
    const call = TWIRP_PATH.exec(url.pathname)
    if (call) {
      const [, service, method] = call
      const rpc = SERVICES.get(service)?.find(name => name === method)
      // Twirp methods are POST only.
      if (rpc && req.method === 'POST') return { label: rpc, handle: (rq, rs) => twirp(rq, rs, rpc) }
    } else {
      const path = blobPathOf(req, url)
      const comp = url.searchParams.get('comp')
      const operation =
        path === undefined ? undefined : blobRoutes.get(comp ? `${req.method}?comp=${comp}` : str(req.method))
      if (path !== undefined && operation) {
        return {
          label: `${path}${comp ? `?comp=${comp}` : ''}`,
          handle: (rq, rs) => authorized(rq, rs, url.searchParams, path, operation)
        }
      }
    }
    return {
      label: url.pathname,
      handle: async (_, res) =>
        json(res, 404, { code: 'bad_route', msg: `no route for ${req.method} ${url.pathname}` })
    }
  }

  // ---- Twirp ----

  // Always JSON: the clients retry a body that does not parse for ~25 s, as if it were a 5xx.
  function json(res: ServerResponse, status: number, body: unknown): void {
    const data = JSON.stringify(body)
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) })
    res.end(data)
  }

  function verified(authorization: string | undefined): boolean {
    const [header, payload, signature] = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1].split('.') ?? []
    return signature !== undefined && hmac(`${header}.${payload}`) === signature
  }

  async function twirp(req: IncomingMessage, res: ServerResponse, method: Rpc): Promise<void> {
    if (!verified(req.headers.authorization)) {
      return json(res, 401, { code: 'unauthenticated', msg: 'missing or invalid bearer token' })
    }
    const fault = faults.get(method)
    if (fault && fault.count > 0) {
      fault.count--
      const code = TWIRP_CODES[fault.status] ?? 'unknown'
      return json(res, fault.status, { code, msg: `injected ${fault.status} for ${method}` })
    }
    let body: Body
    try {
      body = JSON.parse(await text(req)) as Body
    } catch {
      return json(res, 400, { code: 'malformed', msg: 'body is not JSON' })
    }
    try {
      json(res, 200, await rpcs[method](body))
    } catch (error) {
      if (!(error instanceof TwirpError)) throw error
      json(res, error.status, { code: TWIRP_CODES[error.status] ?? 'unknown', msg: error.message })
    }
  }

  /** A SAS signature: everything the URL grants, so that changing any of it invalidates the URL. */
  const sasSignature = (blobPath: string, sp: string, se: string, rscd: string): string =>
    hmac(`${sp}\n${se}\n${blobPath}\n${rscd}`)

  function signedUrl(blobPath: string, sp: 'r' | 'cw', rscd = ''): string {
    const se = new Date(clock() + urlLifetime).toISOString().replace(/\.\d+Z$/, 'Z')
    const query = new URLSearchParams({ sv: '2025-11-05', sr: 'b', sp, se })
    if (rscd) query.set('rscd', rscd)
    query.set('sig', sasSignature(blobPath, sp, se, rscd)) // "sig=" also makes the libraries mask it
    return `${blobBase}/${blobPath}?${query}`
  }

  async function dropBlob(path: string): Promise<void> {
    const stored = blobs.get(path)
    blobs.delete(path)
    if (stored) await rm(stored.file, { force: true })
  }

  const finalizedCache = (key: string, version: string): CacheRow | undefined =>
    caches.find(row => row.finalized && row.key === key && row.version === version)
  const artifactIn = (body: Body, finalized: boolean): ArtifactRow | undefined =>
    artifacts.find(
      row => row.run === body.workflow_run_backend_id && row.name === body.name && row.finalized === finalized
    )

  const rpcs: Record<Rpc, (body: Body) => Body | Promise<Body>> = {
    async CreateCacheEntry(body) {
      const key = str(body.key)
      const version = str(body.version)
      if (!key || !version) throw new TwirpError(400, 'key and version are required')
      if (finalizedCache(key, version)) throw new TwirpError(409, `cache entry ${key} already exists`)
      // A pending reservation of the same key is replaced: its job may have died mid-upload.
      const pending = caches.find(row => !row.finalized && row.key === key && row.version === version)
      if (pending) caches.splice(caches.indexOf(pending), 1)
      const id = ++lastId
      caches.push({ id, key, version, size: 0, finalized: false, blob: `actions-cache/${id}` })
      if (pending) await dropBlob(pending.blob) // after the bookkeeping, which must not interleave
      return { ok: true, signed_upload_url: signedUrl(`actions-cache/${id}`, 'cw') }
    },
    FinalizeCacheEntryUpload(body) {
      const row = caches.find(r => !r.finalized && r.key === body.key && r.version === body.version)
      if (!row) throw new TwirpError(404, `no pending cache entry ${str(body.key)}`)
      const stored = blobs.get(row.blob)
      if (!stored) return { ok: false, message: 'cache archive was not uploaded' }
      if (stored.size !== Number(body.size_bytes)) {
        return { ok: false, message: `uploaded ${stored.size} bytes, finalized ${str(body.size_bytes)}` }
      }
      Object.assign(row, { size: stored.size, finalized: true })
      return { ok: true, entry_id: String(row.id) }
    },
    GetCacheEntryDownloadURL(body) {
      // The exact key, then each restore key as a prefix; the newest entry wins; always the same version.
      const candidates = caches.filter(row => row.finalized && row.version === body.version).reverse()
      const restoreKeys = Array.isArray(body.restore_keys) ? body.restore_keys.map(str) : []
      const hit =
        candidates.find(row => row.key === body.key) ??
        restoreKeys.map(prefix => candidates.find(row => row.key.startsWith(prefix))).find(Boolean)
      if (!hit) return { ok: false }
      return { ok: true, signed_download_url: signedUrl(hit.blob, 'r'), matched_key: hit.key }
    },
    async CreateArtifact(body) {
      const name = str(body.name)
      if (!name || !body.workflow_run_backend_id) throw new TwirpError(400, 'name and run are required')
      if (artifactIn(body, true)) {
        throw new TwirpError(409, `an artifact named ${name} already exists in this run`)
      }
      const pending = artifactIn(body, false)
      if (pending) artifacts.splice(artifacts.indexOf(pending), 1)
      const id = ++lastId
      const run = str(body.workflow_run_backend_id)
      const job = str(body.workflow_job_run_backend_id)
      // The blob name tells zips from raw files later (download unzips .zip URLs).
      const zip = (body.mime_type ?? 'application/zip') === 'application/zip'
      const blob = `actions-results/${run}/artifacts/${id}${zip ? '.zip' : ''}`
      const created = new Date(clock()).toISOString()
      artifacts.push({ id, run, job, name, size: 0, digest: undefined, finalized: false, blob, created })
      if (pending) await dropBlob(pending.blob)
      return { ok: true, signed_upload_url: signedUrl(blob, 'cw') }
    },
    FinalizeArtifact(body) {
      const row = artifactIn(body, false)
      if (!row) throw new TwirpError(404, `no pending artifact ${str(body.name)}`)
      const stored = blobs.get(row.blob)
      if (!stored) throw new TwirpError(412, 'artifact was not uploaded')
      if (stored.size !== Number(body.size)) {
        throw new TwirpError(412, `uploaded ${stored.size} bytes, finalized ${str(body.size)}`)
      }
      // Catches blocks committed out of order or lost, in the client or in this fake.
      if (body.hash !== undefined && body.hash !== `sha256:${stored.sha256}`) {
        throw new TwirpError(412, `hash ${str(body.hash)} does not match the upload`)
      }
      Object.assign(row, { size: stored.size, digest: body.hash, finalized: true })
      return { ok: true, artifact_id: String(row.id) }
    },
    ListArtifacts(body) {
      const rows = artifacts.filter(
        row =>
          row.finalized &&
          row.run === body.workflow_run_backend_id &&
          (body.name_filter === undefined || row.name === body.name_filter) &&
          (body.id_filter === undefined || String(row.id) === str(body.id_filter))
      )
      const list = rows.map(row => ({
        workflow_run_backend_id: row.run,
        workflow_job_run_backend_id: row.job,
        database_id: String(row.id),
        name: row.name,
        size: String(row.size),
        created_at: row.created,
        ...(row.digest ? { digest: row.digest } : {})
      }))
      return { artifacts: list }
    },
    GetSignedArtifactURL(body) {
      const row = artifactIn(body, true)
      if (!row) throw new TwirpError(404, `no artifact ${str(body.name)}`)
      // Raw (skipArchive) files are saved under the Content-Disposition name, else as "artifact".
      const raw = !row.blob.endsWith('.zip')
      return {
        signed_url: signedUrl(
          row.blob,
          'r',
          raw ? `attachment; filename*=UTF-8''${encodeURIComponent(row.name)}` : ''
        )
      }
    },
    async DeleteArtifact(body) {
      const row = artifactIn(body, true)
      if (!row) throw new TwirpError(404, `no artifact ${str(body.name)}`)
      artifacts.splice(artifacts.indexOf(row), 1)
      await dropBlob(row.blob)
      return { ok: true, artifact_id: String(row.id) }
    }
  }

  // ---- Blob endpoint ----

  // "<container>/<blob>", from /devstoreaccount1/<container>/<blob>; /<container>/<blob> on the azure host.
  function blobPathOf(req: IncomingMessage, url: URL): string | undefined {
    let path: string
    try {
      path = decodeURIComponent(url.pathname)
    } catch {
      return undefined
    }
    if (req.headers.host?.startsWith(`${AZURE_HOST}:`)) path = path.slice(1)
    else if (path.startsWith(`/${ACCOUNT}/`)) path = path.slice(ACCOUNT.length + 2)
    else return undefined
    return /^[^/]+\/./.test(path) ? path : undefined
  }

  function blobError(res: ServerResponse, status: number, code: string, message: string): void {
    const body = `<Error><Code>${code}</Code><Message>${message}</Message></Error>`
    res.writeHead(status, { 'Content-Type': 'application/xml', 'x-ms-error-code': code })
    res.end(`<?xml version="1.0" encoding="utf-8"?>\n${body}`)
  }

  /** Runs `operation` when the URL's signature holds, its expiry is ahead and it grants the access. */
  async function authorized(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
    path: string,
    operation: BlobRoute
  ): Promise<void> {
    const [sp, se, rscd] = ['sp', 'se', 'rscd'].map(name => query.get(name) ?? '')
    if (query.get('sig') !== sasSignature(path, sp, se, rscd)) {
      return blobError(res, 403, 'AuthenticationFailed', 'the signature does not match')
    }
    if (!(Date.parse(se) > clock())) {
      return blobError(res, 403, 'AuthenticationFailed', `the signed URL expired at ${se}`)
    }
    if (!sp.includes(operation.access)) {
      return blobError(res, 403, 'AuthorizationPermissionMismatch', `the signed URL does not grant ${sp}`)
    }
    return operation.handle(req, res, path, query)
  }

  /** Streams `source` into a blob file, hashing on the way; the file is renamed into place when complete. */
  async function store(
    source: AsyncIterable<Buffer>,
    file: string
  ): Promise<{ size: number; sha256: string }> {
    const hash = createHash('sha256')
    let size = 0
    const tmp = `${file}.${randomUUID()}.tmp`
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk)
          size += chunk.length
          yield chunk
        }
      },
      createWriteStream(tmp)
    )
    await rename(tmp, file)
    return { size, sha256: hash.digest('hex') }
  }

  /** Makes `path` the blob stored in `file`, and answers the PUT that wrote it. */
  function committed(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    file: string,
    stored: { size: number; sha256: string }
  ): void {
    const modified = new Date(clock()).toUTCString()
    const contentType =
      str(req.headers['x-ms-blob-content-type']) ||
      (path.endsWith('.zip') ? 'application/zip' : 'application/octet-stream')
    blobs.set(path, { file, ...stored, contentType, modified })
    res.writeHead(201, { ETag: `"${randomUUID()}"`, 'Last-Modified': modified }).end()
  }

  const blobFile = (path: string): string => join(dir, sha(path))

  const serve: BlobRoute = { access: 'r', handle: serveBlob }
  // A blob operation is its HTTP method and its comp query parameter.
  const blobRoutes = new Map<string, BlobRoute>([
    ['GET', serve],
    ['HEAD', serve],
    [
      'PUT',
      {
        access: 'w',
        async handle(req, res, path) {
          const file = blobFile(path)
          committed(req, res, path, file, await store(req, file))
        }
      }
    ],
    [
      'PUT?comp=block',
      {
        access: 'w',
        // Blocks arrive concurrently and out of order; the block list decides the order.
        async handle(req, res, path, query) {
          const id = query.get('blockid') ?? ''
          const blockFile = join(dir, 'blocks', `${sha(path)}.${sha(id)}`)
          await store(req, blockFile)
          if (!blocks.has(path)) blocks.set(path, new Map())
          blocks.get(path)?.set(id, blockFile)
          res.writeHead(201, { ETag: `"${randomUUID()}"` }).end()
        }
      }
    ],
    [
      'PUT?comp=blocklist',
      {
        access: 'w',
        async handle(req, res, path) {
          const ids = [...(await text(req)).matchAll(/<(Latest|Uncommitted|Committed)>([^<]*)<\/\1>/g)].map(
            m => m[2]
          )
          const pending = blocks.get(path) ?? new Map<string, string>()
          const missing = ids.find(id => !pending.has(id))
          if (missing !== undefined) {
            return blobError(res, 400, 'InvalidBlockList', `block ${missing} was not uploaded`)
          }
          const file = blobFile(path)
          const stored = await store(
            (async function* () {
              for (const id of ids) yield* createReadStream(pending.get(id) as string)
            })(),
            file
          )
          blocks.delete(path)
          await Promise.all([...pending.values()].map(block => rm(block, { force: true })))
          committed(req, res, path, file, stored)
        }
      }
    ]
  ])

  async function serveBlob(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams
  ): Promise<void> {
    const stored = blobs.get(path)
    if (!stored) return blobError(res, 404, 'BlobNotFound', `no blob ${path}`)
    const headers: Record<string, string | number> = {
      'Content-Type': stored.contentType,
      ETag: `"${stored.sha256.slice(0, 16)}"`,
      'Last-Modified': stored.modified,
      'Accept-Ranges': 'bytes',
      'x-ms-blob-type': 'BlockBlob',
      'x-ms-request-id': randomUUID()
    }
    const rscd = query.get('rscd')
    if (rscd) headers['Content-Disposition'] = rscd
    // The Azure SDK asks for 4 MiB slices with x-ms-range; plain HTTP clients would use Range.
    const range = str(req.headers['x-ms-range'] ?? req.headers.range)
    const match = /^bytes=(\d+)-(\d*)$/.exec(range)
    let [start, end, status] = [0, stored.size - 1, 200]
    if (match) {
      start = Number(match[1])
      end = Math.min(match[2] ? Number(match[2]) : end, stored.size - 1)
      if (start >= stored.size) return blobError(res, 416, 'InvalidRange', `${range} is past ${stored.size}`)
      headers['Content-Range'] = `bytes ${start}-${end}/${stored.size}`
      status = 206
    }
    headers['Content-Length'] = end - start + 1
    res.writeHead(status, headers)
    if (req.method === 'HEAD' || end < start) return void res.end()
    if (!truncate) return pipeline(createReadStream(stored.file, { start, end }), res)
    // Half the body, then the connection goes away with the rest still owed.
    truncatedResponses.add(res)
    const halfEnd = start + Math.floor((end - start + 1) / 2) - 1
    if (halfEnd >= start) {
      await pipeline(createReadStream(stored.file, { start, end: halfEnd }), res, { end: false })
      await new Promise(resolve => res.write('', resolve)) // the half has reached the socket
    }
    res.destroy()
  }

  return {
    url: resultsUrl,
    get caches() {
      return caches.map(({ id, key, version, size, finalized }) => ({ id, key, version, size, finalized }))
    },
    get artifacts() {
      return artifacts.map(({ id, name, size, digest, finalized }) => ({ id, name, size, digest, finalized }))
    },
    get requests() {
      return [...requests]
    },
    env: (workspace, runnerTemp) => ({
      ACTIONS_RUNTIME_TOKEN: token,
      ACTIONS_RESULTS_URL: resultsUrl,
      ACTIONS_CACHE_SERVICE_V2: 'true', // any non-empty value selects v2
      ACTIONS_CACHE_MODE: '', // a runner's read-only/none mode must not leak into tests
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: runnerTemp,
      // Must look like github.com: a localhost URL makes both libraries behave as on GHES.
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: 'https://api.github.com',
      GITHUB_REPOSITORY: 'owner/repo',
      GITHUB_REPOSITORY_OWNER: 'owner',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_RUN_ID: runId,
      GITHUB_RUN_ATTEMPT: '1',
      // The Azure SDK honours proxies; the blob URLs must not go through one.
      NO_PROXY: [
        process.env.NO_PROXY ?? process.env.no_proxy,
        '127.0.0.1',
        'localhost',
        `.blob.core.windows.net`
      ]
        .filter(Boolean)
        .join(',')
    }),
    failNext(rpc, status, count = 1) {
      if (![...SERVICES.values()].some(rpcs => rpcs.includes(rpc))) throw new Error(`unknown RPC ${rpc}`)
      faults.set(rpc, { status, count })
    },
    truncateBlobs(on) {
      truncate = on
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    }
  }
}
