// Stage 7 (none upstream): the outputs later steps read, and the release uploaded as artifacts
// (GitHub) or copied to a directory (CLI), in one of two layouts.
import type { ArtifactStore, UploadedArtifact } from '../artifacts/store.js'
import { Output, type Reporter } from '../report/report.js'
import type { RunContext } from './context.js'
import type { Packages } from './package.js'
import type { Prereqs } from './prereqs.js'

export class PublishError extends Error {}

/** Unique per run (the run id's random part) and telling what it holds. */
function defaultArtifactName(ctx: RunContext, prereqs: Prereqs): string {
  const platforms =
    prereqs.platforms.length <= 3
      ? prereqs.platforms.map(p => p.replace('/', '-')).join('_')
      : `${prereqs.platforms.length}-platforms`
  const unique = ctx.owner.runId.split('-').pop()
  return `kubernetes-release-${prereqs.version.version}-${platforms}-${unique}`
}

async function upload(
  ctx: RunContext,
  prereqs: Prereqs,
  packages: Packages,
  store: ArtifactStore
): Promise<UploadedArtifact[]> {
  const { layout, retentionDays } = ctx.config.artifacts
  if (layout === 'bundle') {
    const name = ctx.config.artifacts.name ?? defaultArtifactName(ctx, prereqs)
    return [await store.uploadBundle(name, packages.dir, packages.files, retentionDays)]
  }
  const uploaded: UploadedArtifact[] = []
  for (const file of packages.files) {
    const name = ctx.config.artifacts.name ? `${ctx.config.artifacts.name}-${file}` : file
    uploaded.push(await store.uploadFile(name, `${packages.dir}/${file}`, retentionDays))
  }
  return uploaded
}

export async function publish(
  ctx: RunContext,
  prereqs: Prereqs,
  packages: Packages,
  reporter: Reporter,
  store: ArtifactStore | null
): Promise<UploadedArtifact[]> {
  reporter.setOutput(Output.version, prereqs.version.version)
  reporter.setOutput(
    Output.tarballs,
    JSON.stringify(
      packages.tarballs.map(t => ({ name: t.name, path: t.path, bytes: t.bytes, sha256: t.sha256 }))
    )
  )
  reporter.setOutput(Output.releaseDir, packages.dir)
  ctx.log.info(`${packages.tarballs.length} tarballs in ${packages.dir}`)
  if (!store || !ctx.config.artifacts.upload) return []

  ctx.log.info(
    `uploading ${packages.files.length} files to ${store.description} (${ctx.config.artifacts.layout})`
  )
  let uploaded: UploadedArtifact[]
  try {
    uploaded = await upload(ctx, prereqs, packages, store)
  } catch (err) {
    throw new PublishError(
      `uploading the release to ${store.description} failed: ${(err as Error).message}. ` +
        `The tarballs are still in ${packages.dir}.`
    )
  }
  for (const artifact of uploaded) ctx.log.info(`${artifact.name}: ${artifact.location}`)
  if (ctx.config.artifacts.layout === 'bundle') {
    const [bundle] = uploaded
    reporter.setOutput(Output.artifactName, bundle.name)
    if (bundle.id !== undefined) reporter.setOutput(Output.artifactId, String(bundle.id))
    reporter.setOutput(Output.artifactUrl, bundle.location)
  } else {
    reporter.setOutput(
      Output.artifactIds,
      JSON.stringify(Object.fromEntries(uploaded.map(a => [a.name, a.id ?? a.location])))
    )
  }
  return uploaded
}
