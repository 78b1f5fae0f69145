// clean's removal of a tree's build output, as kube::build::clean removes _output (kube-build-flow.md
// §3.6): the Go module cache in it is read-only, which a plain recursive removal fails on. And the
// exit of a run a signal cancelled: the signal's, once its cleanup is done.
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cancelOnSignal, exitAfterCleanup, removeOutputDir } from '../../src/cleanup.js'
import { recordingLog } from '../helpers/fake-engine.js'

describe('removeOutputDir', () => {
  let root: string | undefined
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true })
  })

  // As root the removal needs no chmod; as any other user it does.
  it('removes a tree with read-only directories, as Go leaves its module cache', async () => {
    root = await mkdtemp(join(tmpdir(), 'kube-clean-'))
    const mod = join(root, '_output/dockerized/go/cache/mod/example.com/m@v1')
    await mkdir(mod, { recursive: true })
    await writeFile(join(mod, 'go.mod'), 'module example.com/m\n')
    await chmod(mod, 0o555)
    await chmod(join(mod, '..'), 0o555)
    expect(await removeOutputDir(join(root, '_output'))).toBe(true)
    await expect(stat(join(root, '_output'))).rejects.toThrow(/ENOENT/)
  })

  it('says so when there is nothing to remove', async () => {
    root = await mkdtemp(join(tmpdir(), 'kube-clean-'))
    expect(await removeOutputDir(join(root, '_output'))).toBe(false)
  })
})

describe('exitAfterCleanup', () => {
  it('exits with the signal`s code after its cleanup, though the cancelled run ended first', async () => {
    const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') }
    const exits: unknown[] = []
    const exit = vi.spyOn(process, 'exit').mockImplementation(code => {
      exits.push(code)
      return undefined as never
    })
    // No engine answers there: the cleanup fails at once and says so.
    vi.stubEnv('DOCKER_HOST', 'unix:///nonexistent/docker.sock')
    const { log, at } = recordingLog()
    try {
      const signal = cancelOnSignal('run-1', log)
      process.emit('SIGINT', 'SIGINT')
      expect(signal.aborted).toBe(true)
      // The run saw the cancel and ended with 1 before the cleanup was done.
      await exitAfterCleanup(1)
      expect(exits[0]).toBe(130)
      expect(at('warning')).toEqual([
        'SIGINT: stopping the build and removing its containers',
        expect.stringMatching(/^cleanup after SIGINT failed: cannot reach the Docker engine/)
      ])
    } finally {
      exit.mockRestore()
      vi.unstubAllEnvs()
      for (const name of ['SIGINT', 'SIGTERM'] as const) {
        for (const listener of process.listeners(name)) {
          if (!before[name].includes(listener)) process.off(name, listener)
        }
      }
    }
  })
})
