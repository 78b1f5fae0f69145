// The publish stage: the outputs of action.yml, and the release uploaded to an artifact store in one of the
// two layouts (README: Inputs, Outputs; action.yml: artifact-name, artifact-layout, retention-days).
import { describe, expect, it } from 'vitest'
import type { ArtifactStore, UploadedArtifact } from '../../../src/artifacts/store.js'
import type { ArtifactConfig, Config } from '../../../src/config.js'
import type { Logger } from '../../../src/logger.js'
import type { OutputName, Reporter } from '../../../src/report/report.js'
import { ReleaseError } from '../../../src/errors.js'
import type { RunContext } from '../../../src/run/context.js'
import type { Prerequisites, Release } from '../../../src/run/state.js'
import { publish } from '../../../src/stages/publish.js'

const RELEASE_DIR = '/tree/_output/release-tars'
const TARBALLS = [
  { name: 'kubernetes-client-linux-amd64.tar.gz', bytes: 1000, sha256: 'a'.repeat(64) },
  { name: 'kubernetes-server-linux-amd64.tar.gz', bytes: 2000, sha256: 'b'.repeat(64) }
].map(t => ({ ...t, path: `${RELEASE_DIR}/${t.name}` }))
const FILES = [...TARBALLS.map(t => t.name), 'SHA256SUMS', 'SHA512SUMS']

type Packages = Release['release']

function packages(): Packages {
  return { dir: RELEASE_DIR, tarballs: TARBALLS, files: FILES }
}

function prereqs(platforms: string[] = ['linux/amd64'], version = 'v1.31.0'): Prerequisites {
  return { platforms, version: { version } } as unknown as Prerequisites
}

/** Runs the stage with the reporter and the store in its context; returns the artifacts it adds. */
async function publishWith(
  ctx: RunContext,
  state: Prerequisites,
  release: Packages,
  reporter: Reporter,
  artifacts: ArtifactStore | null
): Promise<readonly UploadedArtifact[]> {
  const added = await publish.run({ ...ctx, reporter, artifacts }, { ...state, release })
  return added.artifacts
}

const quietLog: Logger = {
  info: () => {},
  warning: () => {},
  debug: () => {},
  annotate: () => {},
  mask: () => {},
  group: (_title, fn) => fn()
}

function context(artifacts: Partial<ArtifactConfig> = {}, runId = '1234567-1-0badc0de'): RunContext {
  const config = {
    artifacts: { upload: true, name: null, layout: 'bundle', ...artifacts }
  } as unknown as Config
  return {
    config,
    owner: { runId, treeHash: 'treehash' },
    log: quietLog,
    env: {},
    signal: new AbortController().signal
  } as unknown as RunContext
}

/** Records every setOutput; a name set twice keeps every value. */
function recordingReporter() {
  const calls: [OutputName, string][] = []
  const reporter: Reporter = {
    setOutput: (name, value) => void calls.push([name, value]),
    summary: async () => {}
  }
  const outputs = (): Record<string, string> => Object.fromEntries(calls)
  return { reporter, calls, outputs }
}

interface BundleCall {
  name: string
  rootDir: string
  files: readonly string[]
  retentionDays?: number
}
interface FileCall {
  name: string
  path: string
  retentionDays?: number
}

/** Records the calls and answers with ids 101, 102, … and a URL per artifact. */
function recordingStore(description = 'the test store') {
  const bundles: BundleCall[] = []
  const files: FileCall[] = []
  let nextId = 101
  const answer = (name: string): UploadedArtifact => {
    const id = nextId++
    return { name, id, location: `https://example.test/artifacts/${id}` }
  }
  const store: ArtifactStore = {
    description,
    uploadBundle: async (name, rootDir, list, retentionDays) => {
      bundles.push({ name, rootDir, files: [...list], retentionDays })
      return answer(name)
    },
    uploadFile: async (name, path, retentionDays) => {
      files.push({ name, path, retentionDays })
      return answer(name)
    },
    list: async () => [],
    download: async () => undefined
  }
  return { store, bundles, files }
}

function failingStore(description: string, message: string): ArtifactStore {
  return {
    description,
    uploadBundle: async () => {
      throw new Error(message)
    },
    uploadFile: async () => {
      throw new Error(message)
    },
    list: async () => [],
    download: async () => undefined
  }
}

describe('publish: outputs every run sets', () => {
  it('version, tarballs (JSON of name, path, bytes, sha256) and release-dir', async () => {
    const { reporter, outputs } = recordingReporter()
    await publishWith(
      context({ upload: false }),
      prereqs(['linux/amd64'], 'v1.31.0-3+0123456789abcd'),
      packages(),
      reporter,
      null
    )
    const out = outputs()
    expect(out.version).toBe('v1.31.0-3+0123456789abcd')
    expect(out['release-dir']).toBe(RELEASE_DIR)
    expect(JSON.parse(out.tarballs)).toEqual(
      TARBALLS.map(t => ({ name: t.name, path: t.path, bytes: t.bytes, sha256: t.sha256 }))
    )
  })

  it('tarball entries hold exactly name, path, bytes and sha256', async () => {
    const { reporter, outputs } = recordingReporter()
    const withExtra = { ...packages(), tarballs: TARBALLS.map(t => ({ ...t, members: ['x'] })) }
    await publishWith(context(), prereqs(), withExtra, reporter, null)
    for (const entry of JSON.parse(outputs().tarballs)) {
      expect(Object.keys(entry).sort()).toEqual(['bytes', 'name', 'path', 'sha256'])
    }
  })

  it('without a store: nothing uploaded, no artifact outputs, no artifacts returned', async () => {
    const { reporter, outputs } = recordingReporter()
    const result = await publishWith(context(), prereqs(), packages(), reporter, null)
    expect(result).toEqual([])
    expect(Object.keys(outputs()).sort()).toEqual(['release-dir', 'tarballs', 'version'])
  })

  it('upload false: the store is not called, no artifact outputs', async () => {
    const { reporter, outputs } = recordingReporter()
    const { store, bundles, files } = recordingStore()
    const result = await publishWith(context({ upload: false }), prereqs(), packages(), reporter, store)
    expect(result).toEqual([])
    expect(bundles).toEqual([])
    expect(files).toEqual([])
    expect(Object.keys(outputs()).sort()).toEqual(['release-dir', 'tarballs', 'version'])
  })
})

describe('publish: bundle layout', () => {
  it('one uploadBundle of every file of the release dir; outputs artifact-name, -id and -url', async () => {
    const { reporter, outputs } = recordingReporter()
    const { store, bundles, files } = recordingStore()
    const result = await publishWith(context({ name: 'my-release' }), prereqs(), packages(), reporter, store)
    expect(files).toEqual([])
    expect(bundles).toHaveLength(1)
    expect(bundles[0].name).toBe('my-release')
    expect(bundles[0].rootDir).toBe(RELEASE_DIR)
    expect([...bundles[0].files].sort()).toEqual([...FILES].sort())
    const out = outputs()
    expect(out['artifact-name']).toBe('my-release')
    expect(out['artifact-id']).toBe('101')
    expect(out['artifact-url']).toBe('https://example.test/artifacts/101')
    expect(out['artifact-ids']).toBeUndefined()
    expect(result).toEqual([{ name: 'my-release', id: 101, location: 'https://example.test/artifacts/101' }])
  })

  it('passes retention-days on', async () => {
    const { reporter } = recordingReporter()
    const { store, bundles } = recordingStore()
    await publishWith(context({ retentionDays: 7 }), prereqs(), packages(), reporter, store)
    expect(bundles[0].retentionDays).toBe(7)
  })

  it.each([
    [['linux/amd64'], '1234567-1-0badc0de', 'kubernetes-release-v1.31.0-linux-amd64-0badc0de'],
    [
      ['linux/amd64', 'linux/arm64'],
      '1234567-1-0badc0de',
      'kubernetes-release-v1.31.0-linux-amd64_linux-arm64-0badc0de'
    ],
    [
      ['linux/amd64', 'darwin/arm64', 'windows/amd64'],
      '99-2-cafef00d',
      'kubernetes-release-v1.31.0-linux-amd64_darwin-arm64_windows-amd64-cafef00d'
    ],
    [
      ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64'],
      '99-2-cafef00d',
      'kubernetes-release-v1.31.0-4-platforms-cafef00d'
    ],
    // Outside GitHub the run id is the random part alone.
    [['linux/arm64'], 'deadbeef', 'kubernetes-release-v1.31.0-linux-arm64-deadbeef']
  ])('default name for %j, run %s: %s', async (platforms, runId, expected) => {
    const { reporter, outputs } = recordingReporter()
    const { store, bundles } = recordingStore()
    await publishWith(context({}, runId), prereqs(platforms), packages(), reporter, store)
    expect(bundles[0].name).toBe(expected)
    expect(outputs()['artifact-name']).toBe(expected)
  })

  it('the default name of a dirty version holds no character artifact names may not', async () => {
    const { reporter } = recordingReporter()
    const { store, bundles } = recordingStore()
    const version = 'v1.31.0-3+0123456789abcd-dirty'
    await publishWith(context(), prereqs(['linux/amd64'], version), packages(), reporter, store)
    expect(bundles[0].name).toContain(version)
    expect(bundles[0].name).not.toMatch(/[":<>|*?\\/\r\n]/)
  })

  it('two runs of the same build get different default names', async () => {
    const names: string[] = []
    for (const runId of ['1-1-aaaaaaaa', '1-1-bbbbbbbb']) {
      const { reporter } = recordingReporter()
      const { store, bundles } = recordingStore()
      await publishWith(context({}, runId), prereqs(), packages(), reporter, store)
      names.push(bundles[0].name)
    }
    expect(new Set(names).size).toBe(2)
  })
})

describe('publish: per-file layout', () => {
  it('one uploadFile per file, named by the file; artifact-ids maps names to ids', async () => {
    const { reporter, outputs } = recordingReporter()
    const { store, bundles, files } = recordingStore()
    const result = await publishWith(context({ layout: 'per-file' }), prereqs(), packages(), reporter, store)
    expect(bundles).toEqual([])
    expect(files.map(f => f.name).sort()).toEqual([...FILES].sort())
    for (const f of files) expect(f.path).toBe(`${RELEASE_DIR}/${f.name}`)
    const ids = JSON.parse(outputs()['artifact-ids'])
    expect(Object.keys(ids).sort()).toEqual([...FILES].sort())
    expect(Object.values(ids).sort()).toEqual([101, 102, 103, 104])
    for (const a of result) expect(ids[a.name]).toBe(a.id)
    expect(result).toHaveLength(FILES.length)
  })

  it('with artifact-name: each artifact is <name>-<file>', async () => {
    const { reporter, outputs } = recordingReporter()
    const { store, files } = recordingStore()
    await publishWith(context({ layout: 'per-file', name: 'pr-42' }), prereqs(), packages(), reporter, store)
    expect(files.map(f => f.name).sort()).toEqual(FILES.map(f => `pr-42-${f}`).sort())
    for (const f of files) expect(f.path).toBe(`${RELEASE_DIR}/${f.name.slice('pr-42-'.length)}`)
    expect(Object.keys(JSON.parse(outputs()['artifact-ids'])).sort()).toEqual(
      FILES.map(f => `pr-42-${f}`).sort()
    )
  })

  it('passes retention-days on to every file', async () => {
    const { reporter } = recordingReporter()
    const { store, files } = recordingStore()
    await publishWith(
      context({ layout: 'per-file', retentionDays: 90 }),
      prereqs(),
      packages(),
      reporter,
      store
    )
    expect(files.map(f => f.retentionDays)).toEqual(FILES.map(() => 90))
  })

  it('sets none of the bundle outputs', async () => {
    const { reporter, outputs } = recordingReporter()
    const { store } = recordingStore()
    await publishWith(context({ layout: 'per-file' }), prereqs(), packages(), reporter, store)
    const out = outputs()
    for (const name of ['artifact-name', 'artifact-id', 'artifact-url'])
      expect(out[name], name).toBeUndefined()
  })
})

describe('publish: a failing store', () => {
  it.each(['bundle', 'per-file'] as const)(
    '%s: a ReleaseError naming the store and saying the tarballs are still in the release dir',
    async layout => {
      const { reporter, outputs } = recordingReporter()
      const store = failingStore('GitHub Actions artifacts', 'HTTP 503 from the results service')
      const result = await publishWith(context({ layout }), prereqs(), packages(), reporter, store).then(
        () => new Error('publish resolved'),
        (err: unknown) => err
      )
      expect(result).toBeInstanceOf(ReleaseError)
      const message = (result as Error).message
      expect(message).toContain('GitHub Actions artifacts')
      expect(message).toContain('HTTP 503 from the results service')
      expect(message).toContain(`still in ${RELEASE_DIR}`)
      // The outputs that do not depend on the upload were set; the artifact ones were not.
      const out = outputs()
      expect(out['release-dir']).toBe(RELEASE_DIR)
      expect(out.version).toBe('v1.31.0')
      for (const name of ['artifact-name', 'artifact-id', 'artifact-url', 'artifact-ids'])
        expect(out[name], name).toBeUndefined()
    }
  )
})
