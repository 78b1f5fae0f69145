// A release split across a matrix: the plan job's legs, build legs uploading their binaries through
// the real @actions/artifact, and a package job that writes exactly what one machine writes.
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ganttTasks, mermaidBlocks } from '../helpers/mermaid.js'
import { startResultsService, type ResultsService } from '../helpers/results-service.js'
import {
  CLIENT_BINARIES,
  NODE_BINARIES,
  SERVER_BINARIES,
  TEST_BINARIES,
  TEST_SERVER_BINARIES
} from './expected.js'
import { runAction } from './action-runner.js'
import { cleanTree, fixtureTree, runCli } from './helpers.js'

const trees: string[] = []
const services: ResultsService[] = []
afterAll(async () => {
  for (const service of services) await service.close()
  for (const tree of trees) await cleanTree(tree)
})
async function tree(): Promise<string> {
  const dir = await fixtureTree('v1.31.0')
  trees.push(dir)
  return dir
}
async function service(): Promise<ResultsService> {
  const started = await startResultsService()
  services.push(started)
  return started
}

/** A release (no tests, no server images) by the bundled action, passing artifacts through `on`. */
const action = (on: ResultsService, dir: string, inputs: Record<string, string>) =>
  runAction(dir, {
    service: on,
    inputs: { mode: 'release', 'run-tests': 'false', 'server-images': 'false', ...inputs }
  })

async function digests(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir)).sort()
  return Object.fromEntries(
    await Promise.all(
      names.map(async n => [
        n,
        createHash('sha256')
          .update(await readFile(join(dir, n)))
          .digest('hex')
      ])
    )
  )
}

/** Binaries built on a platform, from the spec's lists (§4), as the plan's cost. */
function cost(platform: string): number {
  const [os] = platform.split('/')
  const server = os === 'linux' && !['linux/386', 'linux/arm'].includes(platform)
  const node = server || platform === 'windows/amd64'
  const test = server || ['darwin/amd64', 'darwin/arm64', 'windows/amd64', 'windows/arm64'].includes(platform)
  return new Set([
    ...CLIENT_BINARIES,
    ...(server ? [...SERVER_BINARIES, ...TEST_SERVER_BINARIES] : []),
    ...(node ? NODE_BINARIES : []),
    ...(test ? TEST_BINARIES : [])
  ]).size
}

const FOUR = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64']

describe('plan', () => {
  it('splits every release platform into balanced, disjoint legs', async () => {
    const result = await action(await service(), await tree(), { phase: 'plan', legs: '3' })
    expect(result.code, result.stdout).toBe(0)
    const legs = (JSON.parse(result.outputs.matrix) as { include: { platforms: string }[] }).include.map(l =>
      l.platforms.split(',')
    )
    expect(legs).toHaveLength(3)
    const all = legs.flat()
    expect(new Set(all).size).toBe(all.length)
    expect(all.sort()).toEqual(
      [
        ...['linux/amd64', 'linux/386', 'linux/arm', 'linux/arm64', 'linux/s390x', 'linux/ppc64le'],
        ...['darwin/amd64', 'darwin/arm64', 'windows/amd64', 'windows/386', 'windows/arm64']
      ].sort()
    )
    const loads = legs.map(leg => leg.reduce((sum, p) => sum + cost(p), 0))
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(Math.max(...all.map(cost)))
  })
})

describe('build legs and a package job', () => {
  it('write exactly the tarballs one machine writes', async () => {
    const results = await service()
    const legs = [['linux/amd64'], ['linux/arm64'], ['darwin/arm64', 'windows/amd64']]
    for (const leg of legs) {
      const built = await action(results, await tree(), { phase: 'build', platforms: leg.join(',') })
      expect(built.code, built.stdout.slice(-3000)).toBe(0)
    }
    expect(results.artifacts.map(a => a.name).sort()).toEqual(
      [
        'kube-release-bin-darwin-arm64_windows-amd64',
        'kube-release-bin-linux-amd64',
        'kube-release-bin-linux-arm64'
      ].sort()
    )
    const packaged = await action(results, await tree(), {
      phase: 'package',
      platforms: FOUR.join(','),
      upload: 'false'
    })
    expect(packaged.code, packaged.stdout.slice(-3000)).toBe(0)
    // The summary shows the legs side by side: one column each, and a timeline section each.
    expect(packaged.summary).toMatch(/^\| stage \| leg 1 \| leg 2 \| leg 3 \|$/m)
    expect(packaged.summary).toMatch(/^\| build \| [\d.]+ s \| [\d.]+ s \| [\d.]+ s \|$/m)
    const charts = mermaidBlocks(packaged.summary)
    expect(charts).toHaveLength(1)
    const sections = new Set((await ganttTasks(charts[0])).map(t => t.section))
    expect(sections).toEqual(
      new Set([
        'leg 1 (darwin/arm64, windows/amd64)',
        'leg 2 (linux/amd64)',
        'leg 3 (linux/arm64)',
        'this job'
      ])
    )

    const single = await tree()
    const one = await runCli([
      '--source',
      single,
      '--mode',
      'release',
      '--run-tests',
      'false',
      '--server-images',
      'false',
      '--platforms',
      FOUR.join(',')
    ])
    expect(one.code, one.stderr).toBe(0)
    const fromMatrix = await digests(packaged.outputs['release-dir'])
    expect(Object.keys(fromMatrix)).toContain('kubernetes-server-linux-arm64.tar.gz')
    expect(fromMatrix).toEqual(await digests(join(single, '_output/release-tars')))
  })

  it('a package job missing a leg names the missing platforms', async () => {
    const results = await service()
    expect((await action(results, await tree(), { phase: 'build', platforms: 'linux/amd64' })).code).toBe(0)
    const packaged = await action(results, await tree(), {
      phase: 'package',
      platforms: FOUR.join(','),
      upload: 'false'
    })
    expect(packaged.code).toBe(1)
    expect(packaged.stdout).toMatch(
      /::error::the build legs did not deliver 3 platforms of the release: darwin\/arm64, linux\/arm64, windows\/amd64 \(found artifacts: kube-release-bin-linux-amd64\)/
    )
  })
})

describe('the CLI across a matrix', () => {
  // Small: two legs of one platform each, and the same two platforms on one machine.
  const PLATFORMS = ['linux/amd64', 'linux/arm']
  const common = ['--mode', 'release', '--run-tests', 'false', '--server-images', 'false']
  // A phase without tarballs must not print a line about them naming null; soft, so that one such
  // line does not hide what the rest of the path does.
  const linesWithNull = (output: string) => output.split('\n').filter(line => line.includes('null'))

  it('plan, build legs into a directory and package write exactly the tarballs one machine writes', async () => {
    const shared = join(await mkdtemp(join(tmpdir(), 'kube-release-legs-')), 'legs')
    try {
      const plan = await runCli([
        '--source',
        await tree(),
        '--phase',
        'plan',
        '--legs',
        '2',
        '--platforms',
        PLATFORMS.join(','),
        ...common
      ])
      expect(plan.code, plan.stderr).toBe(0)
      expect.soft(linesWithNull(plan.stdout)).toEqual([])
      const legs = [...plan.stdout.matchAll(/^leg \d+: (.+)$/gm)].map(m => m[1].split(', '))
      expect(legs.map(leg => leg.join()).sort()).toEqual([...PLATFORMS].sort())

      for (const leg of legs) {
        const built = await runCli([
          '--source',
          await tree(),
          '--phase',
          'build',
          '--platforms',
          leg.join(','),
          '--artifacts-dir',
          shared,
          ...common
        ])
        expect(built.code, built.stderr).toBe(0)
        expect.soft(linesWithNull(built.stdout)).toEqual([])
      }
      const packagedTree = await tree()
      const packaged = await runCli([
        '--source',
        packagedTree,
        '--phase',
        'package',
        '--platforms',
        PLATFORMS.join(','),
        '--artifacts-dir',
        shared,
        ...common
      ])
      expect(packaged.code, packaged.stderr).toBe(0)
      const releaseDir = join(packagedTree, '_output/release-tars')
      expect(packaged.stdout).toContain(`tarballs are in ${releaseDir}`)

      const single = await tree()
      const one = await runCli(['--source', single, '--platforms', PLATFORMS.join(','), ...common])
      expect(one.code, one.stderr).toBe(0)
      const fromMatrix = await digests(releaseDir)
      expect(Object.keys(fromMatrix)).toEqual(
        expect.arrayContaining(['kubernetes-client-linux-arm.tar.gz', 'kubernetes-server-linux-amd64.tar.gz'])
      )
      expect(fromMatrix).toEqual(await digests(join(single, '_output/release-tars')))
    } finally {
      await rm(dirname(shared), { recursive: true, force: true })
    }
  })
})
