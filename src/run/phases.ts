// The stages of each phase, in order. `all` is the one-machine release; plan, build and package are
// the three jobs of a release across a matrix. Each list is typed as it grows: a stage can only follow
// the stages that add what it reads.
import { isImagesMode, type Config, type Phase } from '../config.js'
import { build } from '../stages/build.js'
import { saveCaches } from '../stages/cache-save.js'
import { collectBinaries } from '../stages/collect-binaries.js'
import { image } from '../stages/image.js'
import { output } from '../stages/output.js'
import { packageRelease } from '../stages/package.js'
import { planLegs } from '../stages/plan.js'
import { prereqs } from '../stages/prereqs.js'
import { publish } from '../stages/publish.js'
import { publishImages } from '../stages/publish-images.js'
import { serverImages } from '../stages/server-images.js'
import { uploadBinaries } from '../stages/upload-binaries.js'
import { workspace } from '../stages/workspace.js'
import { StageList, type PhaseStages } from './stage.js'

const compiled = StageList.start().then(prereqs).then(image).then(workspace).then(build).then(output)

export const PHASE_STAGES: Readonly<Record<Phase, PhaseStages>> = {
  all: {
    stages: compiled.then(serverImages).then(packageRelease).then(publish).stages,
    closing: [saveCaches]
  },
  plan: { stages: StageList.start().then(planLegs).stages, closing: [] },
  build: { stages: compiled.then(uploadBinaries).stages, closing: [saveCaches] },
  package: {
    stages: StageList.start()
      .then(prereqs)
      .then(collectBinaries)
      .then(serverImages)
      .then(packageRelease)
      .then(publish).stages,
    closing: []
  }
}

/** make release-images and make quick-release-images: the compiled image binaries, the archives, no tarballs. */
const IMAGES_ONLY: PhaseStages = {
  stages: compiled.then(serverImages).then(publishImages).stages,
  closing: [saveCaches]
}

/** The stages of a run: its phase's, or the images-only modes' (which run as phase all). */
export function runStages(config: Pick<Config, 'mode' | 'phase'>): PhaseStages {
  return isImagesMode(config.mode) ? IMAGES_ONLY : PHASE_STAGES[config.phase]
}
