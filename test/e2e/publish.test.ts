// Publishing: the bundled action uploads through the real @actions/artifact to the local results
// service (both layouts), writes its summary, and turns compile errors into annotations; the CLI
// copies the same layouts to a directory.
import { DefaultArtifactClient } from '@actions/artifact'
import { createHash } from 'node:crypto'
import { appendFile, mkdtemp, readFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { inActionsEnv } from '../helpers/actions-env.js'
import { runAction } from './action-runner.js'
import { cleanedFixtureTrees, resultsServiceOfFile, runCli } from './helpers.js'

const service = resultsServiceOfFile()
const tree = cleanedFixtureTrees()

const sha256 = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex')

/** The main step on a quick-release of `tree` with the results service and no server images. */
const runPublishing = (tree: string, inputs: Record<string, string>) =>
  runAction(tree, {
    service: service(),
    inputs: { mode: 'quick-release', workspace: 'bind', 'server-images': 'false', ...inputs }
  })

describe('artifacts', () => {
  it('uploads one bundle the real client downloads byte for byte; a second run does not collide', async () => {
    const dir = await tree()
    const first = await runPublishing(dir, { targets: 'client', 'retention-days': '3' })
    expect(first.code, first.stdout.slice(-3000)).toBe(0)
    const second = await runPublishing(dir, { targets: 'client' })
    expect(second.code, second.stdout.slice(-3000)).toBe(0)
    expect(second.outputs['artifact-name']).not.toBe(first.outputs['artifact-name'])
    expect(first.outputs['artifact-name']).toMatch(/^kubernetes-release-v1\.31\.0-linux-\w+-[0-9a-f]{8}$/)
    expect(first.outputs['artifact-url']).toMatch(
      new RegExp(`/actions/runs/\\d+/artifacts/${first.outputs['artifact-id']}$`)
    )

    const releaseDir = first.outputs['release-dir']
    const local = (await readdir(releaseDir)).sort()
    const download = await mkdtemp(join(tmpdir(), 'kube-release-download-'))
    const { value } = await inActionsEnv(service(), first.workspace, async () => {
      const client = new DefaultArtifactClient()
      const { artifact } = await client.getArtifact(first.outputs['artifact-name'])
      expect(artifact.id).toBe(Number(first.outputs['artifact-id']))
      return client.downloadArtifact(artifact.id, { path: download, expectedHash: artifact.digest })
    })
    expect(value.digestMismatch).toBe(false)
    expect((await readdir(download)).sort()).toEqual(local)
    for (const name of local)
      expect(await sha256(join(download, name)), name).toBe(await sha256(join(releaseDir, name)))

    // The summary lists each tarball with the sha256 of the file on disk, and links the artifact.
    const tarballs = JSON.parse(first.outputs.tarballs) as { name: string; path: string }[]
    for (const t of tarballs) expect(first.summary).toContain(`| ${t.name} |`)
    for (const t of tarballs) expect(first.summary).toContain(await sha256(t.path))
    expect(first.summary).toContain(`[${first.outputs['artifact-name']}](${first.outputs['artifact-url']})`)
  })

  it('uploads each file as its own unzipped artifact with per-file', async () => {
    const dir = await tree()
    const result = await runPublishing(dir, { targets: 'client', 'artifact-layout': 'per-file' })
    expect(result.code, result.stdout.slice(-3000)).toBe(0)
    const ids = JSON.parse(result.outputs['artifact-ids']) as Record<string, number>
    const releaseDir = result.outputs['release-dir']
    expect(Object.keys(ids).sort()).toEqual((await readdir(releaseDir)).sort())
    const download = await mkdtemp(join(tmpdir(), 'kube-release-download-'))
    await inActionsEnv(service(), result.workspace, async () => {
      const client = new DefaultArtifactClient()
      for (const id of Object.values(ids)) await client.downloadArtifact(id, { path: download })
    })
    for (const name of Object.keys(ids)) {
      expect(await sha256(join(download, name)), name).toBe(await sha256(join(releaseDir, name)))
    }
  })

  it('fails the run with a clear message when the upload fails, keeping the build', async () => {
    const dir = await tree()
    service().failNext('CreateArtifact', 400)
    const result = await runPublishing(dir, { targets: 'kubectl' })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(
      /::error::uploading the release to GitHub Actions artifacts failed: .*The tarballs are still in /
    )
    expect((await readdir(join(dir, '_output/release-tars'))).some(n => n.endsWith('.tar.gz'))).toBe(true)
  })
})

describe('annotations', () => {
  it('points a compile error at its file and line in the workspace', async () => {
    const dir = await tree()
    const file = join(dir, 'cmd/kubectl/kubectl.go')
    const lines = (await readFile(file, 'utf8')).split('\n').length
    await appendFile(file, '\nvar broken = undefinedName\n')
    const result = await runPublishing(dir, { targets: 'kubectl' })
    expect(result.code).toBe(1)
    // appendFile added an empty line, then the broken one.
    const line = lines + 1
    expect(result.stdout).toMatch(
      new RegExp(
        `::error title=Go,file=${basename(dir)}/cmd/kubectl/kubectl\\.go,line=${line},col=\\d+::undefined: undefinedName`
      )
    )
  })
})

describe('CLI --artifacts-dir', () => {
  it.each(['bundle', 'per-file'])('copies the release in the %s layout', async layout => {
    const dir = await tree()
    const out = await mkdtemp(join(tmpdir(), 'kube-release-artifacts-'))
    const result = await runCli([
      '--source',
      dir,
      '--mode',
      'quick-release',
      '--targets',
      'client',
      '--artifacts-dir',
      out,
      '--artifact-layout',
      layout,
      '--artifact-name',
      'release'
    ])
    expect(result.code, result.stderr).toBe(0)
    const releaseDir = join(dir, '_output/release-tars')
    const names = (await readdir(releaseDir)).sort()
    const copied = layout === 'bundle' ? join(out, 'release') : out
    const expected = layout === 'bundle' ? names : names.map(n => `release-${n}`)
    expect((await readdir(copied)).sort()).toEqual(expected.sort())
    for (const name of names) {
      const copy = join(copied, layout === 'bundle' ? name : `release-${name}`)
      expect(await sha256(copy), name).toBe(await sha256(join(releaseDir, name)))
    }
    expect(result.stdout).toMatch(/artifacts:\n {2}release/)
  })
})
