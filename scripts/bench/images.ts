// Images-only benchmark: the fixture built cold with `quick-release` and with `quick-release-images`
// (what `kind build node-image` runs), server images on stand-in bases from the local registry, with
// each stage's time and the ratio of the two. Usage: npm run bench:images
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startBaseImages } from '../../test/e2e/base-images.js'

// npm runs scripts from the repository root.
const repo = process.cwd()
const work = mkdtempSync(join(tmpdir(), 'kube-release-bench-images-'))
const node = join(repo, 'node_modules/.bin/node')

function tree(name: string): string {
  const dir = join(work, name, 'kubernetes')
  execFileSync('bash', [join(repo, 'scripts/fixture-tree.sh'), dir, 'v1.31.0'], { stdio: 'ignore' })
  return dir
}

// Never execFileSync while the registry serves: it answers from this process's event loop.
const run = promisify(execFile)

/** Runs the CLI cold (no cache) and returns its wall time; prints its stage table. */
async function build(mode: string, source: string, baseArgs: string[]): Promise<number> {
  const started = performance.now()
  const { stdout: output } = await run(
    node,
    [join(repo, 'dist/cli.js'), '--source', source, '--mode', mode, '--cache', 'false', ...baseArgs],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }
  )
  const total = (performance.now() - started) / 1000
  const stages = [...output.matchAll(/^ {2}([\w-]+)\s+([0-9.]+) s\s+ok$/gm)].map(m => `${m[1]} ${m[2]}`)
  console.log(`${mode}: ${total.toFixed(1)} s  (${stages.join(', ')})`)
  return total
}

const bases = await startBaseImages()
const trees = [tree('release'), tree('images')]
try {
  const release = await build('quick-release', trees[0], bases.args)
  const images = await build('quick-release-images', trees[1], bases.args)
  console.log(`quick-release-images / quick-release: ${(images / release).toFixed(2)}`)
} finally {
  for (const dir of trees)
    execFileSync(node, [join(repo, 'dist/cli.js'), 'clean', '--source', dir], { stdio: 'ignore' })
  await bases.close()
  rmSync(work, { recursive: true, force: true })
}
