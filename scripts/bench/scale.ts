// Scale benchmark: quick-release of the scale trees (npm run scale-tree) at each scale, cold, warm
// (nothing changed) and with one Go file changed, in the volume and the bind workspace; per run the
// time of each stage, the bytes rsync moved into and out of the data volume, the cache bytes saved
// and restored, the action's peak RSS and what the engine keeps afterwards; then each stage's growth
// between consecutive scales next to the work's. Writes scale.json and scale.svg into --out.
// Usage: npm run bench:scale [-- --scales 1,4,16] [--workspaces volume,bind] [--out bench-results/scale]
//        [--trees /var/tmp/kre-scale]
//        npm run bench:scale -- --merge A/scale.json --merge B/scale.json [--out DIR]: no runs, the
//        table, growth and chart of scales measured separately
import { spawn } from 'node:child_process'
import { appendFileSync, existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import Docker from 'dockerode'
import { Label } from '../../src/docker/labels.js'
import { localBinDir, treeHash } from '../../src/kube/layout.js'
import { DEFAULT_SCALE_DIR, ensureScaleTree } from '../scale-tree/generate.js'
import { formatBytes } from '../../src/progress.js'
import type { RunReport } from '../../src/report/report.js'
import {
  chartSvg,
  growthLines,
  growthRatios,
  resultTable,
  type RunKind,
  type RunResult,
  type ScaleWork
} from './scale-report.js'

const { values } = parseArgs({
  options: {
    scales: { type: 'string', default: '1,4,16' },
    workspaces: { type: 'string', default: 'volume,bind' },
    out: { type: 'string', default: 'bench-results/scale' },
    trees: { type: 'string', default: DEFAULT_SCALE_DIR },
    merge: { type: 'string', multiple: true }
  }
})
const scales = values.scales.split(',').map(Number)
const workspaces = values.workspaces.split(',')
// npm runs scripts from the repository root.
const repo = process.cwd()
const out = resolve(values.out)
const CHANGED_FILE = 'cmd/kubectl/kubectl.go'
const docker = new Docker()

/** Imported by the CLI's process: writes its peak RSS (resourceUsage's maxRSS is in KiB) at exit. */
const PEAK_RSS_PRELOAD = `data:text/javascript,${encodeURIComponent(
  `import { writeFileSync } from 'node:fs'
const file = process.env.KRE_BENCH_RSS_FILE
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)))`
)}`

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit']
    })
    child.on('error', fail)
    child.on('close', code => done(code ?? -1))
  })
}

const cli = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> =>
  run(
    join(repo, 'node_modules/.bin/node'),
    ['--import', PEAK_RSS_PRELOAD, join(repo, 'dist/cli.js'), ...args],
    env
  )

/** Every entry of the local cache: its bytes and when it was last used (a restore touches it). */
async function cacheEntries(dir: string): Promise<Map<string, { bytes: number; used: number }>> {
  const entries = new Map<string, { bytes: number; used: number }>()
  const names = await readdir(join(dir, 'entries')).catch(() => [] as string[])
  for (const name of names.filter(n => n.endsWith('.json'))) {
    const path = join(dir, 'entries', name)
    const meta = JSON.parse(await readFile(path, 'utf8')) as { bytes: number }
    entries.set(name, { bytes: meta.bytes, used: (await stat(path)).mtimeMs })
  }
  return entries
}

/** Bytes of the engine's volumes of this tree and of the images this action made. */
async function engineDisk(root: string): Promise<number> {
  const df = (await docker.df()) as {
    Volumes?: { Labels?: Record<string, string> | null; UsageData?: { Size: number } }[]
    Images?: { Labels?: Record<string, string> | null; Size: number }[]
  }
  const hash = treeHash(root)
  const volumes = (df.Volumes ?? [])
    .filter(v => v.Labels?.[Label.tree] === hash)
    .reduce((sum, v) => sum + Math.max(0, v.UsageData?.Size ?? 0), 0)
  const images = (df.Images ?? [])
    .filter(i => i.Labels?.[Label.managed] === 'true')
    .reduce((sum, i) => sum + i.Size, 0)
  return volumes + images
}

/** Bytes of the regular files under dir (symlinks, such as _output's bin link, not followed). */
async function filesBytes(dir: string): Promise<number> {
  let bytes = 0
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name))).size
  }
  return bytes
}

async function quickRelease(
  root: string,
  scale: number,
  workspace: string,
  kind: RunKind,
  cacheDir: string,
  diskBefore: number
): Promise<RunResult> {
  const reportFile = join(out, `report-${scale}-${workspace}-${kind}.json`)
  const rssFile = join(out, 'peak-rss')
  const cacheBefore = await cacheEntries(cacheDir)
  const started = performance.now()
  const code = await cli(
    [
      ...['--source', root, '--mode', 'quick-release', '--server-images', 'false', '--workspace', workspace],
      ...['--cache-dir', cacheDir, '--report-file', reportFile]
    ],
    { KRE_BENCH_RSS_FILE: rssFile }
  )
  const seconds = (performance.now() - started) / 1000
  const report = JSON.parse(await readFile(reportFile, 'utf8')) as RunReport
  const cacheAfter = await cacheEntries(cacheDir)
  let [cacheSaved, cacheRestored] = [0, 0]
  for (const [name, entry] of cacheAfter) {
    const before = cacheBefore.get(name)
    if (!before) cacheSaved += entry.bytes
    else if (entry.used > before.used) cacheRestored += entry.bytes
  }
  return {
    scale,
    workspace,
    kind,
    ok: code === 0,
    seconds,
    stages: Object.fromEntries(report.stages.map(s => [s.name, s.seconds])),
    rsyncIn: report.traffic.intoContainers,
    rsyncOut: report.traffic.outOfContainers,
    cacheSaved,
    cacheRestored,
    peakRss: Number(await readFile(rssFile, 'utf8')),
    engineDiskGrowth: (await engineDisk(root)) - diskBefore
  }
}

/** Runs the three runs of each workspace at each scale. */
async function measure(): Promise<{ results: RunResult[]; work: ScaleWork[] }> {
  if (!existsSync(join(repo, 'dist/cli.js')))
    throw new Error('dist/cli.js is missing: run npm run build first')
  await mkdir(values.trees, { recursive: true })
  const results: RunResult[] = []
  const work: ScaleWork[] = []
  const cacheRoot = await mkdtemp(join(values.trees, 'bench-cache-'))
  try {
    for (const scale of scales) {
      const fixture = join(repo, 'test/fixtures/kube-tree')
      const { root, stats } = await ensureScaleTree(fixture, join(values.trees, String(scale)), scale)
      console.log(
        `${scale}×: ${root}: ${stats.files} files, ${formatBytes(stats.bytes)}, .git ${formatBytes(stats.gitBytes)}`
      )
      let binaryBytes = 0
      for (const workspace of workspaces) {
        const cacheDir = join(cacheRoot, `${scale}-${workspace}`)
        await cli(['clean', '--source', root])
        const diskBefore = await engineDisk(root)
        try {
          for (const kind of ['cold', 'warm', 'changed'] as const) {
            if (kind === 'changed') appendFileSync(join(root, CHANGED_FILE), '\n// changed by bench:scale\n')
            const result = await quickRelease(root, scale, workspace, kind, cacheDir, diskBefore)
            results.push(result)
            console.log(
              `  ${workspace} ${kind}: ${result.ok ? '' : 'FAILED, '}${result.seconds.toFixed(1)} s ` +
                `(${Object.entries(result.stages)
                  .map(([name, s]) => `${name} ${s.toFixed(1)}`)
                  .join(', ')})`
            )
            if (kind === 'cold') binaryBytes = await filesBytes(localBinDir(root))
          }
        } finally {
          await run('git', ['-C', root, 'checkout', '--', CHANGED_FILE])
          await cli(['clean', '--source', root])
        }
      }
      work.push({ scale, treeBytes: stats.bytes + stats.gitBytes, binaryBytes })
    }
  } finally {
    await rm(cacheRoot, { recursive: true, force: true })
    await rm(join(out, 'peak-rss'), { force: true })
  }
  return { results, work }
}

/** The runs and work of earlier scale.json files, as one set (a scale run separately joins the rest). */
async function merged(files: readonly string[]): Promise<{ results: RunResult[]; work: ScaleWork[] }> {
  const parts = await Promise.all(
    files.map(async f => JSON.parse(await readFile(f, 'utf8')) as { results: RunResult[]; work: ScaleWork[] })
  )
  return { results: parts.flatMap(p => p.results), work: parts.flatMap(p => p.work) }
}

await mkdir(out, { recursive: true })
const { results, work } = values.merge ? await merged(values.merge) : await measure()
const growth = growthRatios(results, work)
console.log(`\n${resultTable(results)}\n`)
for (const w of work) {
  console.log(
    `${w.scale}×: tree ${formatBytes(w.treeBytes)} (.git included), binaries ${formatBytes(w.binaryBytes)}`
  )
}
for (const line of growthLines(growth)) console.log(line)
await writeFile(join(out, 'scale.json'), `${JSON.stringify({ work, results, growth }, null, 2)}\n`)
await writeFile(join(out, 'scale.svg'), chartSvg(results))
console.log(`\nwrote ${join(out, 'scale.json')} and ${join(out, 'scale.svg')}`)
