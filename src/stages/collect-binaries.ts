// A release split across a matrix: build legs hand their binaries (_output/dockerized/bin/<os>/<arch>)
// to the package job as artifacts named after their platforms; the package job collects them all and
// checks that every platform of the release is there before packaging.
import { chmod, readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { ArtifactStore, UploadedArtifact } from '../artifacts/store.js'
import { localBinDir } from '../kube/layout.js'
import { BINARIES_ARTIFACT_PREFIX, binariesArtifactName } from '../kube/matrix.js'
import type { RunContext } from './context.js'
import { missingBinaries, type BuildOutput } from './output.js'
import type { Prereqs } from './prereqs.js'

export class BinariesError extends Error {}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter(e => e.isFile()).map(e => join(e.parentPath, e.name))
}

function requireStore(store: ArtifactStore | null, phase: string): ArtifactStore {
  if (!store) {
    throw new BinariesError(
      `phase '${phase}' passes binaries between jobs as artifacts, but this run has no artifact store ` +
        `(not in GitHub Actions with upload on; on the CLI, give --artifacts-dir)`
    )
  }
  return store
}

/** Build leg: this run's platforms' binaries, one artifact. */
export async function uploadBinaries(
  ctx: RunContext,
  prereqs: Prereqs,
  out: BuildOutput,
  store: ArtifactStore | null
): Promise<UploadedArtifact> {
  const artifacts = requireStore(store, 'build')
  const files: string[] = []
  for (const platform of prereqs.plan.built.keys())
    files.push(...(await filesUnder(join(out.binDir, platform))))
  const name = binariesArtifactName([...prereqs.plan.built.keys()])
  const uploaded = await artifacts.uploadBundle(
    name,
    out.binDir,
    files.map(f => relative(out.binDir, f)),
    ctx.config.artifacts.retentionDays
  )
  ctx.log.info(`uploaded ${files.length} binaries as ${uploaded.name}: ${uploaded.location}`)
  return uploaded
}

/** Package job: every leg's binaries into _output/dockerized/bin; a missing platform is an error. */
export async function downloadBinaries(
  ctx: RunContext,
  prereqs: Prereqs,
  store: ArtifactStore | null
): Promise<BuildOutput> {
  const artifacts = requireStore(store, 'package')
  const binDir = localBinDir(ctx.config.tree.root)
  const names = await artifacts.list(BINARIES_ARTIFACT_PREFIX)
  for (const name of names) {
    await artifacts.download(name, binDir)
    ctx.log.info(`collected ${name}`)
  }
  // Artifacts do not keep file modes; every file here is an executable.
  for (const file of await filesUnder(binDir).catch(() => [] as string[])) await chmod(file, 0o755)
  const missing = await missingBinaries(prereqs.plan, binDir)
  if (missing.length > 0) {
    const platforms = [...new Set(missing.map(m => m.split('/').slice(0, 2).join('/')))].sort()
    throw new BinariesError(
      `the build legs did not deliver ${platforms.length} platform${platforms.length > 1 ? 's' : ''} of the release: ` +
        `${platforms.join(', ')} (found artifacts: ${names.join(', ') || 'none'}). Every platform needs a leg ` +
        `with phase: build.`
    )
  }
  return { binDir }
}
