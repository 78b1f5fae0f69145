// What the action removes of its own on the real engine — `clean` of a tree and the stale data
// volumes of a tree — and that it is never another tree's. Engines differ on label filters (Podman 4
// ORs several on volumes), so this runs on every engine of the matrix with real builds. kube-build
// images are shared by trees and kept by clean: they are not a tree's own.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cleanedFixtureTrees, managedObjects, runCli } from './helpers.js'

const tree = cleanedFixtureTrees()

async function buildKubectl(tree: string): Promise<string> {
  const result = await runCli([
    '--source',
    tree,
    '--mode',
    'quick-release',
    '--targets',
    'kubectl',
    '--server-images',
    'false'
  ])
  expect(result.code, result.stderr + result.stdout.slice(-2000)).toBe(0)
  return result.stdout
}

/** Makes the tree ask for another kube-build image version (build/build-image/VERSION). */
const imageVersion = (tree: string, version: number): Promise<void> =>
  writeFile(join(tree, 'build/build-image/VERSION'), `${version}\n`)

/** The containers and data volumes the engine holds labelled as a tree's. */
const kept = (tree: string) => ({
  containers: managedObjects('containers', { tree }),
  volumes: managedObjects('volumes', { tree })
})

describe('clean and stale volumes, two trees', () => {
  it('the stale-volume cleanup and clean remove their own tree`s objects, never another`s', async () => {
    const [a, b] = [await tree(), await tree()]
    await buildKubectl(a)
    await buildKubectl(b)
    const keptForB = kept(b)
    expect(keptForB).toEqual({ containers: [], volumes: [expect.any(String)] })
    const keptForA = kept(a)
    expect(keptForA).toEqual({ containers: [], volumes: [expect.any(String)] })

    // A new kube-build image version makes a new data volume: the old one of A is stale, B's is not.
    await imageVersion(a, 6)
    const rebuilt = await buildKubectl(a)
    expect(rebuilt).toContain(`removed data volume ${keptForA.volumes[0]} of an older image version`)
    expect(rebuilt.match(/removed data volume /g)).toHaveLength(1)
    const rebuiltA = kept(a)
    expect(rebuiltA.volumes).toHaveLength(1)
    expect(rebuiltA.volumes).not.toEqual(keptForA.volumes)
    expect(kept(b)).toEqual(keptForB)

    const cleaned = await runCli(['clean', '--source', a])
    expect(cleaned.code, cleaned.stderr).toBe(0)
    expect(cleaned.stdout).toContain(`removed 0 containers and 1 data volume of ${a}`)
    expect(kept(a)).toEqual({ containers: [], volumes: [] })
    expect(kept(b)).toEqual(keptForB)
  })
})
