// Selection by label is checked on the client: an engine that ORs label filters (Podman 4 on volumes)
// or ignores them must never make cleanup remove another tree's or another run's objects.
import { describe, expect, it, vi } from 'vitest'
import { ImageClient } from '../../../src/docker/images.js'
import { Label, hasEveryLabel, treeLabels } from '../../../src/docker/labels.js'
import { VolumeClient } from '../../../src/docker/volumes.js'
import { fakeCalls, recordingLog } from '../../helpers/fake-engine.js'

const TREE = 'aaaaaaaaaa'
const OTHER_TREE = 'bbbbbbbbbb'
const ours = (tree: string, role: string) => ({
  [Label.managed]: 'true',
  [Label.tree]: tree,
  [Label.role]: role
})

describe('hasEveryLabel', () => {
  it.each([
    [{ a: '1', b: '2' }, ['a=1', 'b=2'], true],
    [{ a: '1', b: '2', c: '3' }, ['a=1'], true],
    [{ a: '1' }, ['a=1', 'b=2'], false],
    [{ a: '1', b: '3' }, ['a=1', 'b=2'], false],
    [{ a: '10' }, ['a=1'], false],
    [{ a: 'x=y' }, ['a=x=y'], true],
    [null, ['a=1'], false],
    [undefined, [], true]
  ])('%j with %j: %s', (labels, selectors, expected) => {
    expect(hasEveryLabel(labels, selectors)).toBe(expected)
  })
})

describe('VolumeClient.listLabelled on an engine that ORs label filters', () => {
  it("lists only this tree's data volumes", async () => {
    const volumes = [
      { Name: 'ours-data', Labels: ours(TREE, 'data') },
      { Name: 'other-tree-data', Labels: ours(OTHER_TREE, 'data') },
      { Name: 'ours-other-role', Labels: ours(TREE, 'cache') },
      { Name: 'unlabelled', Labels: null }
    ]
    const docker = { listVolumes: vi.fn(async () => ({ Volumes: volumes })) }
    const client = new VolumeClient(fakeCalls(docker), recordingLog().log)
    expect(await client.listLabelled(treeLabels(TREE, 'data'))).toEqual(['ours-data'])
    expect(docker.listVolumes).toHaveBeenCalledTimes(1)
  })
})

describe('ImageClient.removeLabelled on an engine that ignores label filters', () => {
  it("removes only this tree's images", async () => {
    const images = [
      { Id: 'sha256:ours', Labels: ours(TREE, 'build-image') },
      { Id: 'sha256:theirs', Labels: ours(OTHER_TREE, 'build-image') },
      { Id: 'sha256:base', Labels: {} }
    ]
    const removed: string[] = []
    const docker = {
      listImages: vi.fn(async () => images),
      getImage: (id: string) => ({ remove: async () => void removed.push(id) })
    }
    const client = new ImageClient(fakeCalls(docker), recordingLog().log, 1000)
    expect(await client.removeLabelled(treeLabels(TREE))).toBe(1)
    expect(removed).toEqual(['sha256:ours'])
  })
})
