// Makes (or reuses) the scale trees: a Kubernetes-shaped tree per scale, from the kube-tree fixture.
// Usage: npm run scale-tree -- [--scale N]… [--out DIR]   (default: scales 1 4 16 under /var/tmp/kre-scale)
// Each tree is DIR/<scale>/kubernetes, described by DIR/<scale>/scale-tree.json.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_SCALE_DIR, ensureScaleTree } from './scale-tree/generate.js'
import { formatBytes } from '../src/progress.js'

const { values } = parseArgs({
  options: {
    scale: { type: 'string', multiple: true, default: ['1', '4', '16'] },
    out: { type: 'string', default: DEFAULT_SCALE_DIR }
  }
})
// npm runs scripts from the repository root.
const fixture = join(process.cwd(), 'test/fixtures/kube-tree')
for (const scale of values.scale.map(Number)) {
  if (!(scale > 0)) throw new Error(`--scale wants a positive number, not ${scale}`)
  const { root, stats, reused } = await ensureScaleTree(fixture, join(values.out, String(scale)), scale)
  const embedded = Object.values(stats.embeddedBytes).reduce((a, b) => a + b, 0)
  console.log(
    `${scale}×: ${root} (${reused ? 'reused' : `made in ${stats.seconds.toFixed(1)} s`}): ` +
      `${stats.files} files, ${formatBytes(stats.bytes)}; vendor/ ${stats.vendorFiles} files; ` +
      `${stats.apiPackages} API packages; .git ${formatBytes(stats.gitBytes)} in ${stats.commits} commits; ` +
      `embedded data ${formatBytes(embedded)} over ${Object.keys(stats.embeddedBytes).length} commands`
  )
}
