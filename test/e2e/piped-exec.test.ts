// The exec session that carries rsync's stream (src/docker/piped-exec.ts) on a real engine: what the
// command writes arrives byte for byte, and an exec the engine does not start never feeds the reader.
import { randomBytes } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectEngine, type Engine } from '../../src/docker/engine.js'
import { createLabels } from '../../src/docker/labels.js'
import type { Logger } from '../../src/logger.js'
import { managedObjects, standInKubeCross } from './helpers.js'

const RUN = `piped-exec-${process.pid}`

function recorded() {
  const warnings: string[] = []
  const log: Logger = {
    info: () => {},
    debug: () => {},
    warning: message => void warnings.push(message),
    annotate: () => {},
    mask: () => {},
    group: (_title, fn) => fn()
  }
  return { log, warnings }
}

function collected() {
  const chunks: Buffer[] = []
  let stderr = ''
  return {
    streams: {
      stdout: new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk)
          done()
        }
      }),
      onStderr: (chunk: Buffer) => void (stderr += chunk.toString())
    },
    stdout: () => Buffer.concat(chunks),
    stderr: () => stderr
  }
}

describe('exec sessions with piped streams', () => {
  let engine: Engine
  const { log, warnings } = recorded()
  const spec = (cmd: string[], user?: string) => ({
    name: `kube-release-${RUN}-${Math.random().toString(16).slice(2, 8)}`,
    image: standInKubeCross(),
    cmd,
    user,
    labels: createLabels({ runId: RUN, treeHash: 'piped-exec' }, 'rsync')
  })

  beforeAll(async () => {
    engine = await connectEngine(log, { cancel: new AbortController().signal, stallTimeoutMs: 60_000 })
  })

  afterAll(() => {
    expect(managedObjects('containers', { run: RUN })).toEqual([])
  })

  it("carries stdin through the command to stdout byte for byte, stderr apart, and the command's exit code", async () => {
    const input = randomBytes(4 * 1024 * 1024)
    const out = collected()
    const exitCode = await engine.containers.runPiped(
      spec(['sh', '-c', 'echo to-stderr >&2; cat; exit 5'], '1000:1000'),
      { stdin: Readable.from([input.subarray(0, 1000), input.subarray(1000)]), ...out.streams }
    )
    expect(exitCode).toBe(5)
    expect(out.stdout().equals(input)).toBe(true)
    expect(out.stderr()).toBe('to-stderr\n')
  })

  it("fails an exec the engine cannot start with the engine's message, and nothing reaches the reader", async () => {
    const out = collected()
    warnings.length = 0
    const piped = engine.containers.runPiped(spec(['cat'], 'no-such-user'), {
      stdin: Readable.from([Buffer.from('never read')]),
      ...out.streams
    })
    // Docker reports it in the exec's stream, where it is taken for a passing fault and tried twice
    // more, and words it after its image store ("unable to find user no-such-user: …" classic, "no
    // users found" containerd); Podman refuses the exec's start request.
    const podman = process.env.KRA_ENGINE?.startsWith('podman') ?? false
    await expect(piped).rejects.toThrow(
      podman
        ? /unable to find user no-such-user/
        : /^the engine could not start cat in container \S+: .*\busers?\b/
    )
    expect(out.stdout().length).toBe(0)
    expect(warnings).toHaveLength(podman ? 0 : 2)
    expect(
      warnings.every(w => w.startsWith('the engine could not start cat') && w.endsWith('; trying again'))
    ).toBe(true)
    expect(managedObjects('containers', { run: RUN })).toEqual([])
  })
})
