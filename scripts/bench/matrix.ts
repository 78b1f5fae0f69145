// Matrix benchmark: the fixture's full platform set built on one machine, then split into legs
// (phase plan), each leg built on a workspace of its own (phase build), and packaged (phase
// package), with the CLI and a shared directory. Prints the one-machine wall time against the
// slowest leg plus the package job, and checks that both give the same tarballs.
// Usage: npm run bench:matrix [-- --legs N]
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { legs: { type: 'string', default: '3' } } })
// npm runs scripts from the repository root.
const repo = process.cwd()
const work = mkdtempSync(join(tmpdir(), 'kube-release-bench-matrix-'))
const common = ['--mode', 'release', '--run-tests', 'false', '--server-images', 'false', '--cache', 'false']
const trees: string[] = []

function tree(name: string): string {
  const dir = join(work, name, 'kubernetes')
  execFileSync('bash', [join(repo, 'scripts/fixture-tree.sh'), dir, 'v1.31.0'], { stdio: 'ignore' })
  trees.push(dir)
  return dir
}

function cli(args: string[]): { seconds: number; output: string } {
  const started = performance.now()
  const output = execFileSync(join(repo, 'node_modules/.bin/node'), [join(repo, 'dist/cli.js'), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024
  })
  return { seconds: (performance.now() - started) / 1000, output }
}

function digests(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map(n => [
        n,
        createHash('sha256')
          .update(readFileSync(join(dir, n)))
          .digest('hex')
      ])
  )
}

try {
  const single = tree('single')
  const one = cli(['--source', single, ...common])
  console.log(`one machine, every platform: ${one.seconds.toFixed(1)} s`)

  const plan = cli(['--source', tree('plan'), '--phase', 'plan', '--legs', values.legs, ...common])
  const legs = [...plan.output.matchAll(/^leg \d+: (.+)$/gm)].map(m => m[1].split(', '))
  const shared = join(work, 'legs')
  const legTimes = legs.map((leg, i) => {
    const { seconds } = cli([
      '--source',
      tree(`leg${i}`),
      '--phase',
      'build',
      '--platforms',
      leg.join(','),
      '--artifacts-dir',
      shared,
      ...common
    ])
    console.log(`leg ${i + 1} (${leg.join(', ')}): ${seconds.toFixed(1)} s`)
    return seconds
  })
  const packaged = tree('package')
  const pkg = cli(['--source', packaged, '--phase', 'package', '--artifacts-dir', shared, ...common])
  console.log(`package job: ${pkg.seconds.toFixed(1)} s`)
  const matrix = Math.max(...legTimes) + pkg.seconds
  console.log(
    `slowest leg + package: ${matrix.toFixed(1)} s = ${(matrix / one.seconds).toFixed(2)}× the one-machine run ` +
      `(${legs.length} legs run one after another here; in a matrix they run at once)`
  )
  const same =
    JSON.stringify(digests(join(single, '_output/release-tars'))) ===
    JSON.stringify(digests(join(packaged, '_output/release-tars')))
  console.log(`tarballs byte-identical to the one-machine run: ${same}`)
} finally {
  for (const dir of trees)
    execFileSync(
      join(repo, 'node_modules/.bin/node'),
      [join(repo, 'dist/cli.js'), 'clean', '--source', dir],
      { stdio: 'ignore' }
    )
  rmSync(work, { recursive: true, force: true })
}
