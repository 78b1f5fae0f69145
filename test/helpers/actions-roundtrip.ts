// One round trip through the real @actions/cache and @actions/artifact, recording what they return and
// the sha256 of the files they bring back; the test asserts on the report. The caller sets the
// environment from ResultsService.env() and makes GITHUB_WORKSPACE the cwd (cache globs resolve against
// it). Used in-process by the e2e test, and as a script in a child process for the azure blob host:
//
//   cd $GITHUB_WORKSPACE &&
//     node --import <repo>/test/helpers/azure-dns.mjs <repo>/test/helpers/actions-roundtrip.ts report.json
//
// Node runs this file by stripping its types, so it keeps to erasable syntax and imports only packages.
import { DefaultArtifactClient } from '@actions/artifact'
import * as cache from '@actions/cache'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'

const MiB = 1024 * 1024
/** Relative path → sha256 hex of every file under a directory; {} when it does not exist. */
export type Hashes = Record<string, string>

export interface Restored {
  key: string | null
  files: Hashes
}
export interface ArtifactInfo {
  id: number
  name: string
  size: number
  digest: string | null
}

export interface RoundTripReport {
  cache: {
    expected: { a: Hashes; b: Hashes }
    saved: number
    duplicate: number
    second: number
    miss: string | null
    otherPaths: string | null
    exact: Restored
    prefix: Restored
    lookupOnly: Restored
  }
  artifact: {
    expected: Hashes
    uploaded: { id: number; size: number | null; digest: string | null }
    listed: ArtifactInfo[]
    got: ArtifactInfo
    downloaded: { digestMismatch: boolean; files: Hashes }
    raw: {
      expected: string
      uploaded: { id: number; size: number | null; digest: string | null }
      downloaded: { digestMismatch: boolean; files: Hashes }
    }
    duplicateError: string | null
    deletedId: number
    listedAfterDelete: string[]
    getAfterDelete: string | null
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk)
  return hash.digest('hex')
}

export async function hashTree(dir: string): Promise<Hashes> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  const hashes: Hashes = {}
  for (const entry of entries.filter(e => e.isFile()).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = join(entry.parentPath, entry.name)
    hashes[relative(dir, file)] = await sha256File(file)
  }
  return hashes
}

const errorText = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error)
const info = (a: { id: number; name: string; size: number; digest?: string }): ArtifactInfo => ({
  id: a.id,
  name: a.name,
  size: a.size,
  digest: a.digest ?? null
})

export async function roundTrip(workspace: string): Promise<RoundTripReport> {
  // Incompressible payloads: the cache archive is > 4 MiB (several ranged GETs on the azure host) and
  // the release zip is > 8 MiB (several Put Blocks).
  const payload = join(workspace, 'payload')
  const release = join(workspace, 'release')
  await mkdir(payload, { recursive: true })
  await mkdir(release, { recursive: true })
  await writeFile(join(payload, 'big.bin'), randomBytes(6 * MiB))
  await writeFile(join(payload, 'notes.txt'), 'first\n')
  await writeFile(join(release, 'kubernetes.tar.gz'), randomBytes(9 * MiB))
  await writeFile(join(release, 'SHA256SUMS'), 'sums\n')

  // ---- cache ----
  const paths = ['payload']
  const a = await hashTree(payload)
  const saved = await cache.saveCache(paths, 'deps-a')
  const duplicate = await cache.saveCache(paths, 'deps-a') // 409 from the service: -1 and an info line
  await writeFile(join(payload, 'notes.txt'), 'second\n')
  const b = await hashTree(payload)
  const second = await cache.saveCache(paths, 'deps-b')

  const miss = (await cache.restoreCache(paths, 'nothing', ['other-'])) ?? null
  // Other paths give another version, which never matches.
  const otherPaths = (await cache.restoreCache(['payload/notes.txt'], 'deps-a')) ?? null
  const restore = async (key: string, restoreKeys: string[], lookupOnly = false): Promise<Restored> => {
    await rm(payload, { recursive: true, force: true })
    const hit = await cache.restoreCache(paths, key, restoreKeys, { lookupOnly })
    return { key: hit ?? null, files: await hashTree(payload) }
  }
  const exact = await restore('deps-a', ['deps-'])
  const prefix = await restore('deps-x', ['nope-', 'deps-']) // both entries match: the newest wins
  const lookupOnly = await restore('deps-x', ['deps-'], true)

  // ---- artifacts ----
  const client = new DefaultArtifactClient()
  const files = [join(release, 'kubernetes.tar.gz'), join(release, 'SHA256SUMS')]
  const expected = await hashTree(release)
  const uploaded = await client.uploadArtifact('release', files, release)
  const listed = (await client.listArtifacts()).artifacts.map(info)
  const got = info((await client.getArtifact('release')).artifact)
  const zipDir = join(workspace, 'downloads', 'zip')
  const zip = await client.downloadArtifact(uploaded.id ?? -1, {
    path: zipDir,
    expectedHash: got.digest ?? ''
  })

  // skipArchive: the raw file, named after its basename.
  const rawUploaded = await client.uploadArtifact('ignored', [files[0]], release, { skipArchive: true })
  const rawDir = join(workspace, 'downloads', 'raw')
  const rawExpected = expected['kubernetes.tar.gz']
  const raw = await client.downloadArtifact(rawUploaded.id ?? -1, {
    path: rawDir,
    expectedHash: `sha256:${rawExpected}`
  })

  const duplicateError = await client.uploadArtifact('release', files, release).then(
    () => null,
    (error: unknown) => errorText(error)
  )
  const { id: deletedId } = await client.deleteArtifact('release')
  const listedAfterDelete = (await client.listArtifacts()).artifacts.map(x => x.name)
  const getAfterDelete = await client.getArtifact('release').then(
    () => null,
    (error: unknown) => errorText(error)
  )

  const summary = (u: { id?: number; size?: number; digest?: string }) => ({
    id: u.id ?? -1,
    size: u.size ?? null,
    digest: u.digest ?? null
  })
  return {
    cache: { expected: { a, b }, saved, duplicate, second, miss, otherPaths, exact, prefix, lookupOnly },
    artifact: {
      expected,
      uploaded: summary(uploaded),
      listed,
      got,
      downloaded: { digestMismatch: zip.digestMismatch ?? false, files: await hashTree(zipDir) },
      raw: {
        expected: rawExpected,
        uploaded: summary(rawUploaded),
        downloaded: { digestMismatch: raw.digestMismatch ?? false, files: await hashTree(rawDir) }
      },
      duplicateError,
      deletedId,
      listedAfterDelete,
      getAfterDelete
    }
  }
}

// As a script: run in the cwd (the workspace) and write the report to the file named by argv[2].
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await roundTrip(process.cwd())
  await writeFile(process.argv[2] ?? 'report.json', JSON.stringify(report, null, 2))
}
