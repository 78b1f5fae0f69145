// Base images from a registry (src/docker/image-archive/registry-source.ts): where a reference
// points, the anonymous bearer token a registry asks for, digests checked.
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tarBuffer } from '../../../../src/archive/tar.js'
import { fetchFromRegistry, registryLocation } from '../../../../src/docker/image-archive/registry-source.js'
import { silent } from './stand-in-engine.js'

const digest = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`

describe('registryLocation', () => {
  it.each([
    ['mcr.microsoft.com/oss/kubernetes/hpc:v1.0.0', 'mcr.microsoft.com', 'oss/kubernetes/hpc', 'v1.0.0'],
    ['127.0.0.1:5000/hpc', '127.0.0.1:5000', 'hpc', 'latest'],
    ['busybox:1', 'registry-1.docker.io', 'library/busybox', '1'],
    ['me/tool@sha256:' + 'a'.repeat(64), 'registry-1.docker.io', 'me/tool', 'sha256:' + 'a'.repeat(64)],
    ['localhost/x/y:2', 'localhost', 'x/y', '2']
  ])('%s', (ref, host, repository, reference) => {
    expect(registryLocation(ref)).toEqual({ host, repository, reference })
  })
})

describe('fetchFromRegistry behind a token service', () => {
  let server: Server
  let host: string
  let dir: string
  const requests: string[] = []
  let challenge = ''

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-registry-source-'))
    const raw = await tarBuffer([{ kind: 'data', path: 'Files/a.txt', data: 'a', mode: 0o644 }], {
      mtime: new Date(0)
    })
    const layer = gzipSync(raw)
    const config = Buffer.from(
      JSON.stringify({
        os: 'windows',
        architecture: 'amd64',
        'os.version': '10.0.1',
        rootfs: { type: 'layers', diff_ids: [digest(raw)] }
      })
    )
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { digest: digest(config), size: config.length },
        layers: [{ digest: digest(layer), size: layer.length }]
      })
    )
    const blobs = new Map([
      [digest(config), config],
      [digest(layer), layer]
    ])
    server = createServer((req, res) => {
      requests.push(`${req.url} ${req.headers.authorization ?? '-'}`)
      const url = new URL(req.url!, 'http://x')
      if (url.pathname === '/token') {
        res.end(
          JSON.stringify({ token: `t-${url.searchParams.get('scope')}-${url.searchParams.get('service')}` })
        )
        return
      }
      if (req.headers.authorization !== 'Bearer t-repository:hpc:pull-reg') {
        res.writeHead(401, { 'WWW-Authenticate': challenge })
        res.end()
        return
      }
      const blob = blobs.get(url.pathname.split('/').pop()!)
      if (url.pathname === '/v2/hpc/manifests/v1') res.end(manifest)
      else if (blob) res.end(blob)
      else res.writeHead(404).end()
    })
    await new Promise<void>(ok => server.listen(0, '127.0.0.1', ok))
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`
    challenge = `Bearer realm="http://${host}/token",service="reg"`
  })
  afterEach(async () => {
    requests.length = 0
    server.closeAllConnections()
    await new Promise(ok => server.close(ok))
    await rm(dir, { recursive: true, force: true })
  })

  it('asks for a token once, then fetches the manifest, config and layer with it', async () => {
    const image = await fetchFromRegistry(`${host}/hpc:v1`, 'windows/amd64', dir, silent)
    expect(image.config).toMatchObject({ os: 'windows', 'os.version': '10.0.1' })
    expect(image.osVersion).toBe('10.0.1')
    expect(requests.filter(r => r.startsWith('/token'))).toHaveLength(1)
    expect(requests.filter(r => r.startsWith('/v2/') && r.endsWith(' -'))).toEqual([`/v2/hpc/manifests/v1 -`])
  })

  it('a registry that wants credentials: an error saying so', async () => {
    challenge = 'Basic realm="private"'
    await expect(fetchFromRegistry(`${host}/hpc:v1`, 'windows/amd64', dir, silent)).rejects.toThrow(
      /asks for 'Basic', which needs credentials/
    )
  })

  it('an image for another platform than asked for is refused', async () => {
    await expect(fetchFromRegistry(`${host}/hpc:v1`, 'windows/arm64', dir, silent)).rejects.toThrow(
      'the image for windows/arm64 is for windows/amd64'
    )
  })
})
