// Containers through the Engine API, against a fake dockerode: the spec as the engine's create body, a
// run with its multiplexed output split into lines, removal whatever happens, and inspect mapped to
// what the stages read.
import { Duplex, Readable, Writable } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'
import type { ContainerSpec } from '../../../src/docker/containers.js'
import { markedCommand } from '../../../src/docker/piped-exec.js'
import { CancelledError, ReleaseError } from '../../../src/errors.js'
import {
  engineError,
  execFrame,
  fakeContainerClient,
  leftContainers,
  neverAnswers,
  realModem,
  recordingLog
} from '../../helpers/fake-engine.js'

const ID = '0123456789abcdef0123456789abcdef'

const SPEC: ContainerSpec = {
  name: 'kube-build-tree-run',
  image: 'kube-cross:v1.31.0-go1.22.5-bullseye.0',
  cmd: ['make', 'cross'],
  labels: { 'io.kube-release-action.managed': 'true', 'io.kube-release-action.run': 'run-1' },
  user: '1001:121',
  env: ['KUBE_VERBOSE=1', 'GOFLAGS=-mod=vendor'],
  workingDir: '/go/src/k8s.io/kubernetes',
  mounts: [
    { kind: 'volume', volume: 'kube-build-data-tree', target: '/go/src/k8s.io/kubernetes' },
    { kind: 'bind', source: '/home/runner/work/kubernetes', target: '/tree', readOnly: true }
  ]
}

/** The frames as the socket may deliver them: cut at arbitrary places, across headers and payloads. */
function attachStream(frames: Buffer[], cuts: number[]): Readable {
  const all = Buffer.concat(frames)
  const edges = [0, ...cuts, all.length]
  return Readable.from(edges.slice(1).map((end, i) => all.subarray(edges[i], end)))
}

interface Inspected {
  State: { Running: boolean; ExitCode: number; OOMKilled: boolean }
  NetworkSettings: {
    Ports?: Record<string, { HostIp: string; HostPort: string }[] | null>
    Networks?: Record<string, { IPAddress: string }>
  }
}

const exited = (exitCode: number, oomKilled = false): Inspected => ({
  State: { Running: false, ExitCode: exitCode, OOMKilled: oomKilled },
  NetworkSettings: {}
})

/** A fake engine with one container; `events` records the container calls in order. */
function fakeEngine(options: { output?: Readable; exitCode?: number; inspected?: Inspected } = {}) {
  const events: string[] = []
  const exitCode = options.exitCode ?? 0
  const container = {
    attach: vi.fn(async () => {
      events.push('attach')
      return options.output ?? Readable.from([])
    }),
    start: vi.fn(async () => void events.push('start')),
    wait: vi.fn(async (_options: { abortSignal: AbortSignal }) => {
      events.push('wait')
      return { StatusCode: exitCode }
    }),
    inspect: vi.fn(async () => options.inspected ?? exited(exitCode)),
    stop: vi.fn(async (_options: { t: number; abortSignal: AbortSignal }) => void events.push('stop')),
    remove: vi.fn(async () => void events.push('remove'))
  }
  const docker = {
    createContainer: vi.fn(async () => {
      events.push('create')
      return { id: ID }
    }),
    getContainer: vi.fn(() => container),
    modem: { demuxStream: realModem.demuxStream.bind(realModem) }
  }
  return { docker, container, events }
}

describe('ContainerClient.run', () => {
  it('creates the container with the spec as the Engine API body', async () => {
    const { docker } = fakeEngine()
    await fakeContainerClient(docker, recordingLog().log).run(SPEC, () => {})
    expect(docker.createContainer).toHaveBeenCalledTimes(1)
    expect(docker.createContainer).toHaveBeenCalledWith({
      name: 'kube-build-tree-run',
      Image: 'kube-cross:v1.31.0-go1.22.5-bullseye.0',
      Cmd: ['make', 'cross'],
      Labels: SPEC.labels,
      User: '1001:121',
      Env: ['KUBE_VERBOSE=1', 'GOFLAGS=-mod=vendor'],
      WorkingDir: '/go/src/k8s.io/kubernetes',
      Hostname: undefined,
      Tty: false,
      HostConfig: {
        Mounts: [
          { Type: 'volume', Source: 'kube-build-data-tree', Target: '/go/src/k8s.io/kubernetes' },
          { Type: 'bind', Source: '/home/runner/work/kubernetes', Target: '/tree', ReadOnly: true }
        ]
      },
      abortSignal: expect.any(AbortSignal)
    })
  })

  it('attaches before it starts, so no output is lost, and removes the container after', async () => {
    const { docker, events } = fakeEngine()
    await fakeContainerClient(docker, recordingLog().log).run(SPEC, () => {})
    expect(events).toEqual(['create', 'attach', 'start', 'wait', 'stop', 'remove'])
  })

  it('delivers stdout and stderr line by line from the multiplexed stream', async () => {
    const frames = [
      execFrame(1, '+++ [0101] Building go targets\n'),
      execFrame(2, 'warning: GOPATH set\n'),
      execFrame(1, 'k8s.io/kubernetes/cmd/kube'),
      execFrame(1, 'ctl\nsecond line\n'),
      execFrame(2, 'last words without newline')
    ]
    const output = attachStream(frames, [3, 20, 40, 41, 90])
    const { docker } = fakeEngine({ output })
    const lines: [string, string][] = []
    await fakeContainerClient(docker, recordingLog().log).run(SPEC, (line, stream) =>
      lines.push([stream, line])
    )
    const of = (stream: string): string[] => lines.filter(l => l[0] === stream).map(l => l[1])
    expect(of('stdout')).toEqual([
      '+++ [0101] Building go targets',
      'k8s.io/kubernetes/cmd/kubectl',
      'second line'
    ])
    expect(of('stderr')).toEqual(['warning: GOPATH set', 'last words without newline'])
  })

  it('returns the exit code and whether the OOM killer ended it', async () => {
    const { docker } = fakeEngine({ exitCode: 137, inspected: exited(137, true) })
    const status = await fakeContainerClient(docker, recordingLog().log).run(SPEC, () => {})
    expect(status).toEqual({ exitCode: 137, oomKilled: true })
  })

  it('removes the container when waiting for it fails', async () => {
    const { docker, container } = fakeEngine()
    container.wait.mockRejectedValueOnce(engineError(500, 'container is marked for removal'))
    const run = fakeContainerClient(docker, recordingLog().log).run(SPEC, () => {})
    await expect(run).rejects.toThrow(
      'running container kube-build-tree-run failed: container is marked for removal'
    )
    expect(docker.getContainer).toHaveBeenCalledWith(ID)
    expect(container.remove).toHaveBeenCalledWith({ force: true, abortSignal: expect.any(AbortSignal) })
  })

  it('removes the container when the run is cancelled while it runs', async () => {
    const cancel = new AbortController()
    const { docker, container } = fakeEngine()
    container.wait.mockImplementationOnce(({ abortSignal }) => {
      cancel.abort()
      return neverAnswers(abortSignal)
    })
    const run = fakeContainerClient(docker, recordingLog().log, cancel.signal).run(SPEC, () => {})
    await expect(run).rejects.toThrow(CancelledError)
    expect(container.remove).toHaveBeenCalledWith({ force: true, abortSignal: expect.any(AbortSignal) })
  })
})

describe('ContainerClient.remove', () => {
  it('stops the container with no grace time before removing it: Podman would wait out its stop timeout', async () => {
    const { docker, container, events } = fakeEngine()
    await fakeContainerClient(docker, recordingLog().log).remove(ID)
    expect(events).toEqual(['stop', 'remove'])
    expect(container.stop).toHaveBeenCalledWith({ t: 0, abortSignal: expect.any(AbortSignal) })
    expect(container.remove).toHaveBeenCalledWith({ force: true, abortSignal: expect.any(AbortSignal) })
  })

  it.each([
    [304, 'container already stopped', false],
    [404, 'No such container', false],
    [500, 'can only kill running containers', true]
  ])('removes the container when the stop answers %i (%s)', async (status, message, logged) => {
    const { docker, container } = fakeEngine()
    container.stop.mockRejectedValueOnce(engineError(status, message))
    const { log, at } = recordingLog()
    await expect(fakeContainerClient(docker, log).remove(ID)).resolves.toBeUndefined()
    expect(container.remove).toHaveBeenCalledTimes(1)
    expect(at('debug').some(line => line.includes(message))).toBe(logged)
  })

  it.each([
    [404, 'No such container'],
    [409, 'removal of container is already in progress']
  ])('takes %i (%s) for removed', async (status, message) => {
    const { docker, container } = fakeEngine()
    container.remove.mockRejectedValueOnce(engineError(status, message))
    await expect(fakeContainerClient(docker, recordingLog().log).remove(ID)).resolves.toBeUndefined()
    expect(container.remove).toHaveBeenCalledTimes(1)
  })

  it('fails on any other answer', async () => {
    const { docker, container } = fakeEngine()
    container.remove.mockRejectedValueOnce(engineError(500, 'driver failed to remove root filesystem'))
    await expect(fakeContainerClient(docker, recordingLog().log).remove(ID)).rejects.toThrow(ReleaseError)
  })
})

describe('ContainerClient.removeLabelled', () => {
  it('removes and counts only the containers carrying every label, whatever the engine listed', async () => {
    const labels = ['io.kube-release-action.managed=true', 'io.kube-release-action.run=run-1']
    const { docker, removed, filters } = leftContainers([
      {
        Id: 'first',
        Labels: { 'io.kube-release-action.managed': 'true', 'io.kube-release-action.run': 'run-1' }
      },
      {
        Id: 'second',
        Labels: { 'io.kube-release-action.managed': 'true', 'io.kube-release-action.run': 'run-1', x: 'y' }
      },
      {
        Id: 'other-run',
        Labels: { 'io.kube-release-action.managed': 'true', 'io.kube-release-action.run': 'run-2' }
      },
      { Id: 'unmanaged', Labels: { 'io.kube-release-action.run': 'run-1' } },
      {
        Id: 'prefix',
        Labels: { 'io.kube-release-action.managed': 'true', 'io.kube-release-action.run': 'run-10' }
      }
    ])
    const count = await fakeContainerClient(docker, recordingLog().log).removeLabelled(labels)
    expect(docker.listContainers).toHaveBeenCalledWith({
      all: true,
      filters: { label: expect.any(Array) },
      abortSignal: expect.any(AbortSignal)
    })
    // One label for the engine: two are ORed or match nothing on some engines.
    expect(filters()).toEqual([[labels[1]]])
    expect(removed.sort()).toEqual(['first', 'second'])
    expect(count).toBe(2)
  })
})

describe('ContainerClient.state', () => {
  it('reads whether the container runs, its exit code and whether it was OOM killed', async () => {
    const { docker } = fakeEngine({
      inspected: { State: { Running: false, ExitCode: 137, OOMKilled: true }, NetworkSettings: {} }
    })
    const state = await fakeContainerClient(docker, recordingLog().log).state(ID)
    expect(state).toEqual({ running: false, exitCode: 137, oomKilled: true })
  })
})

describe('ContainerClient.runPiped', () => {
  const STARTED = '\x06'
  const ENGINE_FAILURE =
    'OCI runtime exec failed: exec failed: unable to start container process: waiting for init preliminary setup: read init-p: connection reset by peer: unknown\r\n'

  /**
   * An exec session as the engine carries it: `first` comes at once; when the command started, the
   * rest comes once stdin is closed, cut at odd places (across headers and payloads). An exec the
   * engine could not start sends only `first` (its message) and ends.
   */
  interface FakeExec {
    readonly first: Buffer[]
    readonly afterStdin?: Buffer[]
    readonly exitCode?: number | null
  }

  function pipedEngine(execs: FakeExec[]) {
    const { docker, container, events } = fakeEngine()
    const received: Buffer[][] = []
    const sessions = execs.map((fake, index) => {
      const got: Buffer[] = []
      received.push(got)
      const session = new Duplex({
        read() {},
        write(chunk: Buffer, _encoding, done) {
          got.push(chunk)
          done()
        },
        final(done) {
          events.push(`stdin ${index} closed`)
          const all = Buffer.concat(fake.afterStdin ?? [])
          for (const [start, end] of [
            [0, 3],
            [3, 11],
            [11, 17],
            [17, all.length]
          ])
            if (start < all.length) this.push(all.subarray(start, end))
          this.push(null)
          done()
        }
      })
      for (const chunk of fake.first) session.push(chunk)
      if (!fake.afterStdin) session.push(null)
      return {
        start: vi.fn(async (_options: object) => {
          events.push(`exec ${index} start`)
          return session
        }),
        inspect: vi
          .fn()
          .mockResolvedValueOnce({ Running: true, ExitCode: null })
          .mockResolvedValue({ Running: false, ExitCode: fake.exitCode ?? 0 })
      }
    })
    let next = 0
    const withExec = Object.assign(container, {
      exec: vi.fn(async (_options: object) => {
        events.push(`exec ${next}`)
        return sessions[next++]
      })
    })
    return { docker, container: withExec, sessions, events, received }
  }

  function collect() {
    const chunks: Buffer[] = []
    let stderr = ''
    return {
      stdout: new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk)
          done()
        }
      }),
      onStderr: (chunk: Buffer) => (stderr += chunk.toString()),
      text: () => Buffer.concat(chunks).toString(),
      stderr: () => stderr
    }
  }

  it('execs the command behind its start marker in an idle container, feeds stdin, passes stdout on with stderr apart', async () => {
    const { docker, container, sessions, events, received } = pipedEngine([
      {
        // The command's stderr may overtake the marker on its own pipe.
        first: [execFrame(2, 'err-0 '), execFrame(1, `${STARTED}out-0 `)],
        afterStdin: [execFrame(1, 'out-1 '), execFrame(2, 'err-1'), execFrame(1, 'out-2')],
        exitCode: 3
      }
    ])
    const out = collect()
    const exitCode = await fakeContainerClient(docker, recordingLog().log).runPiped(SPEC, {
      stdin: Readable.from([Buffer.from('in-1 '), Buffer.from('in-2')]),
      ...out
    })
    expect(exitCode).toBe(3)
    expect(docker.createContainer).toHaveBeenCalledWith(
      expect.objectContaining({ Cmd: ['sleep', 'infinity'] })
    )
    expect(container.exec).toHaveBeenCalledWith(
      expect.objectContaining({
        Cmd: markedCommand(SPEC.cmd),
        User: SPEC.user,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true
      })
    )
    expect(sessions[0].start).toHaveBeenCalledWith(expect.objectContaining({ hijack: true, stdin: true }))
    expect(Buffer.concat(received[0]).toString()).toBe('in-1 in-2')
    expect(out.text()).toBe('out-0 out-1 out-2')
    expect(out.stderr()).toBe('err-0 err-1')
    expect(events).toEqual(['create', 'start', 'exec 0', 'exec 0 start', 'stdin 0 closed', 'stop', 'remove'])
  })

  it("closes the command's stdin when stdin breaks off instead of ending", async () => {
    const { docker, events } = pipedEngine([
      { first: [execFrame(1, STARTED)], afterStdin: [execFrame(1, 'done')] }
    ])
    const stdin = new Readable({ read() {} })
    const piped = fakeContainerClient(docker, recordingLog().log).runPiped(SPEC, { stdin, ...collect() })
    setTimeout(() => stdin.destroy(), 10)
    await expect(piped).resolves.toBe(0)
    expect(events).toContain('stdin 0 closed')
  })

  it('tries an exec the engine could not start again in the same container, and its message reaches no reader', async () => {
    const { docker, container, events, received } = pipedEngine([
      { first: [execFrame(1, ENGINE_FAILURE)], exitCode: null },
      { first: [execFrame(1, STARTED)], afterStdin: [execFrame(1, 'out')] }
    ])
    const out = collect()
    const { log, at } = recordingLog()
    const exitCode = await fakeContainerClient(docker, log).runPiped(SPEC, {
      stdin: Readable.from([Buffer.from('in-1 '), Buffer.from('in-2')]),
      ...out
    })
    expect(exitCode).toBe(0)
    expect(out.text()).toBe('out')
    // The failed exec read nothing: all of stdin went to the one that ran.
    expect(received[0]).toEqual([])
    expect(Buffer.concat(received[1]).toString()).toBe('in-1 in-2')
    expect(container.exec).toHaveBeenCalledTimes(2)
    expect(docker.createContainer).toHaveBeenCalledTimes(1)
    expect(at('warning')).toEqual([expect.stringContaining('read init-p: connection reset by peer')])
    expect(events).toEqual([
      'create',
      'start',
      'exec 0',
      'exec 0 start',
      'exec 1',
      'exec 1 start',
      'stdin 1 closed',
      'stop',
      'remove'
    ])
  })

  it("gives up after three execs the engine could not start, with the engine's message, and removes the container", async () => {
    const failed: FakeExec = { first: [execFrame(1, ENGINE_FAILURE)], exitCode: null }
    const { docker, container, events } = pipedEngine([failed, failed, failed, failed])
    const out = collect()
    const piped = fakeContainerClient(docker, recordingLog().log).runPiped(SPEC, {
      stdin: Readable.from([Buffer.from('in')]),
      ...out
    })
    await expect(piped).rejects.toThrow(
      /could not start make in container kube-build-tree-run: OCI runtime exec failed: .*read init-p/
    )
    expect(container.exec).toHaveBeenCalledTimes(3)
    expect(out.text()).toBe('')
    expect(events.slice(-2)).toEqual(['stop', 'remove'])
  })
})
