// The last stage of the images-only modes (none upstream): the version output, and the image archives
// uploaded as workflow artifacts (GitHub) or copied to a directory (CLI), as the release would be.
import { join, relative } from 'node:path'
import type { UploadedArtifact } from '../artifacts/store.js'
import { ReleaseError, errorMessage } from '../errors.js'
import { Output } from '../report/report.js'
import type { Stage } from '../run/stage.js'
import { defaultArtifactName } from '../run/stage-helpers.js'
import type { Prerequisites, Published, ServerImages } from '../run/state.js'

export const publishImages: Stage<Prerequisites & ServerImages, Published> = {
  name: 'publish',
  async run(ctx, state) {
    const { config, reporter } = ctx
    reporter.setOutput(Output.version, state.version.version)
    const dir = join(config.outputDir, 'release-images')
    ctx.log.info(`${state.imageArchives.length} image archives in ${dir}`)
    const store = ctx.artifacts
    if (!store || !config.artifacts.upload) return { artifacts: [] }
    const files = state.imageArchives.map(archive => relative(dir, archive.path))
    const { name, layout, retentionDays } = config.artifacts
    ctx.log.info(`uploading ${files.length} image archives to ${store.description} (${layout})`)
    let uploaded: UploadedArtifact[]
    try {
      uploaded =
        layout === 'bundle'
          ? [
              await store.uploadBundle(
                name ?? defaultArtifactName(ctx, 'kubernetes-images', state.version.version, state.platforms),
                dir,
                files,
                retentionDays
              )
            ]
          : await Promise.all(
              files.map(file =>
                store.uploadFile(
                  `${name ? `${name}-` : ''}${file.replace('/', '-')}`,
                  join(dir, file),
                  retentionDays
                )
              )
            )
    } catch (err) {
      throw new ReleaseError(
        `uploading the image archives to ${store.description} failed: ${errorMessage(err)}`,
        {
          fix: `The archives are still in ${dir}`,
          cause: err
        }
      )
    }
    for (const artifact of uploaded) ctx.log.info(`${artifact.name}: ${artifact.location}`)
    if (layout === 'bundle') {
      reporter.setOutput(Output.artifactName, uploaded[0].name)
      if (uploaded[0].id !== undefined) reporter.setOutput(Output.artifactId, String(uploaded[0].id))
      reporter.setOutput(Output.artifactUrl, uploaded[0].location)
    }
    return { artifacts: uploaded }
  }
}
