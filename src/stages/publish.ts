// Stage 7 (none upstream): the outputs later steps read, and the release uploaded as artifacts
// (GitHub) or copied to a directory (CLI), in one of two layouts.
import type { ArtifactStore, UploadedArtifact } from '../artifacts/store.js'
import { ReleaseError, errorMessage } from '../errors.js'
import { Output } from '../report/report.js'
import type { RunContext } from '../run/context.js'
import type { Stage } from '../run/stage.js'
import { defaultArtifactName } from '../run/stage-helpers.js'
import type { Prerequisites, Published, Release } from '../run/state.js'

type Needs = Prerequisites & Release

async function upload(ctx: RunContext, state: Needs, store: ArtifactStore): Promise<UploadedArtifact[]> {
  const { layout, retentionDays, name } = ctx.config.artifacts
  const { release } = state
  if (layout === 'bundle') {
    return [
      await store.uploadBundle(
        name ?? defaultArtifactName(ctx, 'kubernetes-release', state.version.version, state.platforms),
        release.dir,
        release.files,
        retentionDays
      )
    ]
  }
  const uploaded: UploadedArtifact[] = []
  for (const file of release.files) {
    uploaded.push(
      await store.uploadFile(name ? `${name}-${file}` : file, `${release.dir}/${file}`, retentionDays)
    )
  }
  return uploaded
}

export const publish: Stage<Needs, Published> = {
  name: 'publish',
  async run(ctx, state) {
    const { reporter, config } = ctx
    const { release } = state
    reporter.setOutput(Output.version, state.version.version)
    reporter.setOutput(
      Output.tarballs,
      JSON.stringify(
        release.tarballs.map(t => ({ name: t.name, path: t.path, bytes: t.bytes, sha256: t.sha256 }))
      )
    )
    reporter.setOutput(Output.releaseDir, release.dir)
    ctx.log.info(`${release.tarballs.length} tarballs in ${release.dir}`)
    const store = ctx.artifacts
    if (!store || !config.artifacts.upload) return { artifacts: [] }

    ctx.log.info(
      `uploading ${release.files.length} files to ${store.description} (${config.artifacts.layout})`
    )
    let uploaded: UploadedArtifact[]
    try {
      uploaded = await upload(ctx, state, store)
    } catch (err) {
      throw new ReleaseError(`uploading the release to ${store.description} failed: ${errorMessage(err)}`, {
        fix: `The tarballs are still in ${release.dir}`,
        cause: err
      })
    }
    for (const artifact of uploaded) ctx.log.info(`${artifact.name}: ${artifact.location}`)
    if (config.artifacts.layout === 'bundle') {
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
    return { artifacts: uploaded }
  }
}
