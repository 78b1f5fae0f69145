// clean as make clean does it for a tree, on the machine's engine with objects made here under the
// action's labels (nothing else is touched); clean --images and --all, which reach every tree, on an
// engine of the test's own.
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixtureTree, managedObjects, runCli, runLabelFlags, standInKubeCross } from './helpers.js'
import { startPrivateEngine, type PrivateEngine } from './private-engine.js'

const docker = (args: string[], host?: string): string =>
  execFileSync('docker', [...(host ? ['-H', host] : []), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe']
  }).trim()

const made: { kind: 'container' | 'volume' | 'image'; id: string; host?: string }[] = []
afterAll(() => {
  for (const { kind, id, host } of made.reverse()) {
    const args =
      kind === 'container'
        ? ['rm', '-f', id]
        : kind === 'volume'
          ? ['volume', 'rm', '-f', id]
          : ['rmi', '-f', id]
    try {
      docker(args, host)
    } catch {
      // Already removed by the clean under test.
    }
  }
})

/** A container and a data volume labelled as the action labels a tree's, on `host` or the machine's. */
function treeObjects(tree: string, image: string, host?: string): void {
  const id = docker(
    ['create', ...runLabelFlags({ tree, run: 'e2e-clean', role: 'build' }), image, 'true'],
    host
  )
  made.push({ kind: 'container', id, host })
  const volume = docker(
    ['volume', 'create', ...runLabelFlags({ tree, run: 'e2e-clean', role: 'data' })],
    host
  )
  made.push({ kind: 'volume', id: volume, host })
}

describe('clean of a tree', () => {
  it('removes its containers, data volumes and _output, and nothing of another tree', async () => {
    const tree = await fixtureTree()
    const other = join(await mkdtemp(join(tmpdir(), 'kube-clean-other-')), 'kubernetes')
    treeObjects(tree, standInKubeCross())
    treeObjects(other, standInKubeCross())
    await mkdir(join(tree, '_output/dockerized/bin'), { recursive: true })
    await writeFile(join(tree, '_output/dockerized/bin/kubectl'), 'x')

    const result = await runCli(['clean', '--source', tree])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(`removed 1 container and 1 data volume of ${tree}`)
    expect(result.stdout).toContain('kept the kube-build images')
    expect(existsSync(join(tree, '_output'))).toBe(false)
    expect(managedObjects('containers', { tree })).toEqual([])
    expect(managedObjects('volumes', { tree })).toEqual([])
    expect(managedObjects('containers', { tree: other })).toHaveLength(1)
    expect(managedObjects('volumes', { tree: other })).toHaveLength(1)
  })

  it('cleans a tree whose directory is gone, by the path it had', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'kube-clean-gone-'))
    const tree = join(parent, 'kubernetes')
    await mkdir(tree)
    treeObjects(tree, standInKubeCross())
    await rm(tree, { recursive: true })

    const result = await runCli(['clean', '--source', tree])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(`${tree} is gone`)
    expect(managedObjects('containers', { tree })).toEqual([])
    expect(managedObjects('volumes', { tree })).toEqual([])
  })
})

describe('clean --images and --all, on an engine of the test’s own', () => {
  let engine: PrivateEngine | undefined
  afterAll(async () => {
    await engine?.remove()
  })

  it('--images removes the kube-build images too; --all everything labelled, and only that', async () => {
    engine = await startPrivateEngine()
    const host = engine.host
    const empty = join(await mkdtemp(join(tmpdir(), 'kube-clean-img-')), 'empty.tar')
    execFileSync('tar', ['-cf', empty, '--files-from', '/dev/null'])
    const image = (ref: string, labels: string[]): void => {
      docker(['import', ...labels.flatMap(l => ['--change', `LABEL ${l}`]), empty, ref], host)
    }
    const tree = await fixtureTree()
    const labels = (role: string): string[] =>
      runLabelFlags({ tree, run: 'e2e-clean', role }).filter(f => f !== '--label')
    image('kube-build:build-e2e-5', labels('build-image'))
    image('unrelated:1', ['other.label=1'])
    treeObjects(tree, 'unrelated:1', host)
    const unrelated = docker(['create', '--label', 'other.label=1', 'unrelated:1', 'true'], host)

    const images = await runCli(['clean', '--source', tree, '--images'], { DOCKER_HOST: host })
    expect(images.code, images.stderr).toBe(0)
    expect(images.stdout).toContain('and 1 kube-build image')
    expect(managedObjects('images', { tree }, host)).toEqual([])

    treeObjects(tree, 'unrelated:1', host)
    image('kube-build:build-e2e-5', labels('build-image'))
    const all = await runCli(['clean', '--all'], { DOCKER_HOST: host })
    expect(all.code, all.stderr).toBe(0)
    expect(all.stdout).toContain('removed 1 container, 1 volume and 1 image of this action from the engine')
    for (const kind of ['containers', 'volumes', 'images'] as const) {
      expect(managedObjects(kind, { tree }, host)).toEqual([])
    }
    expect(docker(['ps', '-aq', '--no-trunc'], host)).toBe(unrelated)
    expect(docker(['images', '--format', '{{.Repository}}:{{.Tag}}'], host)).toBe('unrelated:1')
  })
})
