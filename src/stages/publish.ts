// Stage 7: the outputs later steps read.
import { Output, type Reporter } from '../report/report.js'
import type { RunContext } from './context.js'
import type { Packages } from './package.js'
import type { Prereqs } from './prereqs.js'

export function publish(ctx: RunContext, prereqs: Prereqs, packages: Packages, reporter: Reporter): void {
  reporter.setOutput(Output.version, prereqs.version.version)
  reporter.setOutput(
    Output.tarballs,
    JSON.stringify(
      packages.tarballs.map(t => ({ name: t.name, path: t.path, bytes: t.bytes, sha256: t.sha256 }))
    )
  )
  reporter.setOutput(Output.releaseDir, packages.dir)
  ctx.log.info(`${packages.tarballs.length} tarballs in ${packages.dir}`)
}
