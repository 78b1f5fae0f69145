// The in-memory registry (test/helpers/registry.ts) against the real engine's pull path.
import { execFile } from 'node:child_process'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import tar from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRegistry, type PlatformImage, type Registry } from '../helpers/registry.js'

// Never execFileSync here: the registry answers from this process's event loop, which a synchronous
// child would block until the engine's request times out.
const run = promisify(execFile)
const docker = async (...args: string[]): Promise<string> => (await run('docker', args)).stdout.trim()

/** Runs docker, expecting it to fail; returns its stderr. */
async function dockerFails(...args: string[]): Promise<string> {
  const error = await run('docker', args).then(
    () => undefined,
    (err: { stderr?: string }) => err
  )
  if (!error) throw new Error(`docker ${args.join(' ')} succeeded`)
  return String(error.stderr)
}

/** Members of an uncompressed tar, by name. */
async function untar(data: Buffer): Promise<Map<string, { uid: number; gid: number; data: Buffer }>> {
  const members = new Map<string, { uid: number; gid: number; data: Buffer }>()
  const extract = tar.extract()
  Readable.from([data]).pipe(extract)
  for await (const entry of extract) {
    const chunks: Buffer[] = []
    for await (const chunk of entry) chunks.push(chunk as Buffer)
    members.set(entry.header.name, {
      uid: entry.header.uid,
      gid: entry.header.gid,
      data: Buffer.concat(chunks)
    })
  }
  return members
}

interface RegistryErrors {
  errors: { code: string }[]
}
interface Manifest {
  layers: { digest: string }[]
}

const archImage = (arch: string): PlatformImage => ({
  os: 'linux',
  arch,
  files: [{ path: '/etc/arch', content: `${arch}\n` }],
  config: { Cmd: ['/bin/true'], Env: ['PATH=/bin'] }
})

describe('test registry', () => {
  let registry: Registry
  let multi: string
  const pulledIds = new Set<string>()
  const pulledRefs = new Set<string>()

  /** docker pull, remembering what to remove afterwards; returns the pulled image's ID. */
  async function pull(ref: string, platform?: string): Promise<string> {
    pulledRefs.add(ref)
    await docker('pull', '-q', ...(platform ? ['--platform', platform] : []), ref)
    const id = await docker('image', 'inspect', '--format', '{{.Id}}', ref)
    pulledIds.add(id)
    return id
  }

  beforeAll(async () => {
    registry = await startRegistry()
    multi = `${registry.host}/test/multi:v1`
    await registry.push('test/multi', 'v1', [archImage('amd64'), archImage('arm64')])
    await registry.push('build-image/go-runner', 'v2', [
      { os: 'linux', arch: 'amd64', files: [{ path: 'usr/bin/hello', content: '#!/bin/sh\n', mode: 0o755 }] }
    ])
  })

  afterAll(async () => {
    // Both tags and IDs: pulling another platform under the same tag leaves the first one untagged.
    for (const ref of [...pulledRefs, ...pulledIds]) {
      try {
        await docker('rmi', '-f', ref)
      } catch {
        // already gone with an earlier ID or tag
      }
    }
    await registry?.close()
  })

  const get = (path: string, init?: RequestInit) => fetch(`http://${registry.host}${path}`, init)
  const errorCode = async (res: Response) => ((await res.json()) as RegistryErrors).errors[0].code
  const inspect = (ref: string) => docker('image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', ref)

  it('answers the V2 ping and 404s unknown manifests and blobs', async () => {
    const ping = await get('/v2/')
    expect(ping.status).toBe(200)
    expect(ping.headers.get('docker-distribution-api-version')).toBe('registry/2.0')
    const missing = await get('/v2/test/multi/manifests/nope')
    expect(missing.status).toBe(404)
    expect(await errorCode(missing)).toBe('MANIFEST_UNKNOWN')
    const blob = await get(`/v2/test/multi/blobs/sha256:${'0'.repeat(64)}`)
    expect(blob.status).toBe(404)
    expect(await errorCode(blob)).toBe('BLOB_UNKNOWN')
  })

  it('serves a manifest list for several platforms and a plain manifest for one', async () => {
    const list = await get('/v2/test/multi/manifests/v1', { method: 'HEAD' })
    expect(list.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.list.v2+json')
    expect(list.headers.get('docker-content-digest')).toMatch(/^sha256:[0-9a-f]{64}$/)
    const single = await get('/v2/build-image/go-runner/manifests/v2')
    expect(single.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.v2+json')
    expect(((await single.json()) as Manifest).layers).toHaveLength(1)
  })

  it('is pulled over plain HTTP: 127.0.0.0/8 is an insecure registry by default', async () => {
    const insecure = await docker('info', '--format', '{{json .RegistryConfig.InsecureRegistryCIDRs}}')
    expect(insecure).toContain('127.0.0.0/8')
    await pull(`${registry.host}/build-image/go-runner:v2`)
    expect(await inspect(`${registry.host}/build-image/go-runner:v2`)).toBe('linux/amd64')
  })

  it('pulls the requested platform of a multi-arch image', async () => {
    const arm = await pull(multi, 'linux/arm64')
    expect(await inspect(multi)).toBe('linux/arm64')
    const amd = await pull(multi, 'linux/amd64')
    expect(await inspect(multi)).toBe('linux/amd64')
    expect(amd).not.toBe(arm)
  })

  it('gives the engine the layer it was pushed', async () => {
    await pull(multi, 'linux/amd64')
    const { stdout } = await run('docker', ['save', multi], { encoding: 'buffer', maxBuffer: 64 << 20 })
    const saved = await untar(stdout)
    const [{ Layers }] = JSON.parse(saved.get('manifest.json')!.data.toString()) as { Layers: string[] }[]
    expect(Layers).toHaveLength(1)
    const layer = await untar(saved.get(Layers[0])!.data)
    expect(layer.get('etc/arch')).toMatchObject({ uid: 0, gid: 0, data: Buffer.from('amd64\n') })
  })

  it('fails the pull of a missing tag', async () => {
    const stderr = await dockerFails('pull', `${registry.host}/test/multi:nope`)
    expect(stderr).toMatch(/not found|manifest unknown/)
  })

  it('stalls blob downloads on request', async () => {
    const { layers } = (await (await get('/v2/build-image/go-runner/manifests/v2')).json()) as Manifest
    registry.stallBlobs(true)
    try {
      const res = await get(`/v2/build-image/go-runner/blobs/${layers[0].digest}`)
      expect(res.status).toBe(200)
      // The body never completes; it fails only when close() cuts the connection.
      const body = res.arrayBuffer().then(
        () => 'finished',
        () => 'cut'
      )
      const timeout = new Promise(resolve => setTimeout(resolve, 500, 'stalled'))
      expect(await Promise.race([body, timeout])).toBe('stalled')
    } finally {
      registry.stallBlobs(false)
    }
  })
})
