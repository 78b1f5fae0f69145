// Cache benchmark: the fixture built for four platforms, three times in one run — cold (no cache,
// new volume), on a fresh workspace with the build cache restored, and incrementally after one Go
// file changed — with each stage's time and the ratios to the cold build.
// Usage: npm run bench:cache
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const PLATFORMS = 'linux/amd64,linux/arm64,darwin/arm64,windows/amd64'
// npm runs scripts from the repository root.
const repo = process.cwd()
const work = mkdtempSync(join(tmpdir(), 'kube-release-bench-cache-'))
const cacheDir = join(work, 'cache')

function tree(name: string): string {
  const dir = join(work, name, 'kubernetes')
  execFileSync('bash', [join(repo, 'scripts/fixture-tree.sh'), dir, 'v1.31.0'], { stdio: 'ignore' })
  return dir
}

/** Runs the CLI and returns its wall time and the stage table it prints. */
function build(label: string, source: string): { total: number; stages: Map<string, number> } {
  const started = performance.now()
  const output = execFileSync(
    join(repo, 'node_modules/.bin/node'),
    [
      join(repo, 'dist/cli.js'),
      ...['--source', source, '--mode', 'release', '--run-tests', 'false', '--server-images', 'false'],
      ...['--platforms', PLATFORMS, '--cache-dir', cacheDir]
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }
  )
  const total = (performance.now() - started) / 1000
  const stages = new Map<string, number>()
  for (const m of output.matchAll(/^ {2}(\w+)\s+([0-9.]+) s\s+ok$/gm)) stages.set(m[1], Number(m[2]))
  const stats = /build cache: .*/.exec(output)?.[0] ?? ''
  console.log(`${label}: ${total.toFixed(1)} s  (${[...stages].map(([s, t]) => `${s} ${t}`).join(', ')})`)
  if (stats) console.log(`  ${stats}`)
  return { total, stages }
}

const first = tree('first')
const second = tree('second')
try {
  const cold = build('cold build', first)
  // A fresh workspace (another checkout, so a new data volume) with the cache of the cold build.
  const restored = build('restored-cache build', second)
  appendFileSync(join(second, 'cmd/kubectl/kubectl.go'), '\n// touched by the benchmark\n')
  const incremental = build('incremental build (one Go file touched)', second)
  const ratio = (x: number): string => (x / cold.total).toFixed(2)
  const buildRatio = (x: Map<string, number>): string =>
    ((x.get('build') ?? 0) / (cold.stages.get('build') ?? 1)).toFixed(2)
  console.log(
    `ratios to cold: restored ${ratio(restored.total)} (target ≤ 0.40; build stage ${buildRatio(restored.stages)}), ` +
      `incremental ${ratio(incremental.total)} (target ≤ 0.25; build stage ${buildRatio(incremental.stages)})`
  )
} finally {
  for (const dir of [first, second]) {
    execFileSync(
      join(repo, 'node_modules/.bin/node'),
      [join(repo, 'dist/cli.js'), 'clean', '--source', dir],
      { stdio: 'ignore' }
    )
  }
  rmSync(work, { recursive: true, force: true })
}
