// The import directions of src/ are held by eslint.config.js: a wrong-way import must fail `npm run lint`.
// Each case lints a file placed in a folder of src/ (it is never written) with the project's config.
import { ESLint } from 'eslint'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const eslint = new ESLint({ cwd: ROOT })

/** The messages of no-restricted-imports for `source` as if it were the file `path` of the repository. */
async function restrictions(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: resolve(ROOT, path) })
  return result.messages.filter(m => m.ruleId === 'no-restricted-imports').map(m => m.message)
}

describe('lint: import directions in src/', () => {
  it.each([
    [
      'src/kube/x.ts',
      "import { ContainerClient } from '../docker/containers.js'",
      /src\/kube must not import docker/
    ],
    ['src/kube/x.ts', "import { prereqs } from '../stages/prereqs.js'", /must not import stages/],
    [
      'src/docker/x.ts',
      "import { REMOTE_ROOT } from '../kube/layout.js'",
      /src\/docker must not import kube/
    ],
    [
      'src/docker/image-archive/x.ts',
      "import { REMOTE_ROOT } from '../../kube/layout.js'",
      /must not import kube/
    ],
    ['src/docker/x.ts', "import { loadConfig } from '../config.js'", /must not import config/],
    ['src/archive/x.ts', "import { planBuild } from '../kube/build-plan.js'", /must not import kube/],
    ['src/report/x.ts', "import { build } from '../stages/build.js'", /must not import stages/],
    ['src/cache/x.ts', "import { runPipeline } from '../run/pipeline.js'", /must not import run/],
    ['src/config.ts', "import { ImageClient } from './docker/images.js'", /below every folder/],
    ['src/inputs.ts', "import { ImageClient } from './docker/images.js'", /below every folder/],
    ['src/kube/x.ts', "import { parseSize } from '../inputs.js'", /must not import inputs/],
    ['src/stages/x.ts', "import { build } from './build.js'", /A stage must not import another/],
    ['src/stages/x.ts', "import { PHASE_STAGES } from '../run/phases.js'", /do not know the runner/],
    ['src/stages/x.ts', "import Dockerode from 'dockerode'", /belong in src\/docker/],
    ['src/cli.ts', "import Dockerode from 'dockerode'", /belong in src\/docker/]
  ])('%s: %s is refused', async (path, source, message) => {
    const messages = await restrictions(
      path,
      `${source}\nexport const used = [${/\{ (\w+) \}|import (\w+)/.exec(source)!.slice(1).find(Boolean)}]\n`
    )
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatch(message)
  })

  it.each([
    ['src/stages/x.ts', "import { startVolumeDaemon } from '../run/stage-helpers.js'"],
    ['src/stages/x.ts', "import { ContainerClient } from '../docker/containers.js'"],
    ['src/docker/x.ts', "import { tarBuffer } from '../archive/tar.js'"],
    ['src/docker/x.ts', "import Dockerode from 'dockerode'"],
    ['src/kube/x.ts', "import { tarBuffer } from '../archive/tar.js'"],
    ['src/cache/x.ts', "import { ImageClient } from '../docker/images.js'"],
    ['src/report/x.ts', "import { REMOTE_ROOT } from '../kube/layout.js'"]
  ])('%s: %s is allowed', async (path, source) => {
    const messages = await restrictions(
      path,
      `${source}\nexport const used = [${/\{ (\w+) \}|import (\w+)/.exec(source)!.slice(1).find(Boolean)}]\n`
    )
    expect(messages).toEqual([])
  })
})
