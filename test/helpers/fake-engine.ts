// What the unit tests of the engine clients and the runner fake the engine with: the errors dockerode
// hands back, a logger that records, and clients built on a fake dockerode (an object with just the
// methods the code under test calls). Not a test file itself.
import type Dockerode from 'dockerode'
import DockerModem from 'docker-modem'
import { vi } from 'vitest'
import { EngineCalls } from '../../src/docker/calls.js'
import { ContainerClient } from '../../src/docker/containers.js'
import type { Logger } from '../../src/logger.js'

export interface LogLine {
  readonly level: 'info' | 'warning' | 'debug'
  readonly message: string
}

/** One frame of Docker's multiplexed attach stream: [stream, 0, 0, 0, size as big-endian uint32] + payload. */
export function execFrame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text)
  const header = Buffer.alloc(8)
  header.writeUInt8(stream, 0)
  header.writeUInt32BE(payload.length, 4)
  return Buffer.concat([header, payload])
}

/** A logger that keeps every line and every masked secret. */
export function recordingLog() {
  const lines: LogLine[] = []
  const masked: string[] = []
  const log: Logger = {
    info: message => void lines.push({ level: 'info', message }),
    warning: message => void lines.push({ level: 'warning', message }),
    debug: message => void lines.push({ level: 'debug', message }),
    annotate: () => {},
    mask: secret => void masked.push(secret),
    group: (_title, fn) => fn()
  }
  const at = (level: LogLine['level']): string[] => lines.filter(l => l.level === level).map(l => l.message)
  return { log, lines, masked, at }
}

/** An error as docker-modem makes it from an engine's answer: status code, and the JSON body in `json`. */
export function engineError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), {
    statusCode,
    json: { message }
  })
}

/** An error of the connection to the engine, as Node's socket reports it. */
export function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} /var/run/docker.sock`), { code })
}

/** docker-modem's own stream handling (demux, progress), which needs no connection. */
export const realModem = new DockerModem()

/** Engine calls over a fake dockerode, cancelled by `cancel`. */
export function fakeCalls(docker: object, cancel: AbortSignal = new AbortController().signal): EngineCalls {
  return new EngineCalls(docker as Dockerode, cancel)
}

/** A container client over a fake dockerode. */
export function fakeContainerClient(docker: object, log: Logger, cancel?: AbortSignal): ContainerClient {
  return new ContainerClient(fakeCalls(docker, cancel), log)
}

/** A request that answers only by failing when its signal aborts (or has), as dockerode's requests do. */
export function neverAnswers<T>(abortSignal: AbortSignal): Promise<T> {
  const aborted = (): Error => Object.assign(new Error('The operation was aborted'), { name: 'AbortError' })
  if (abortSignal.aborted) return Promise.reject(aborted())
  return new Promise((_, reject) => abortSignal.addEventListener('abort', () => reject(aborted())))
}

/** A container as the engine lists it: its id and its labels. */
export interface ListedContainer {
  readonly Id: string
  readonly Labels: Record<string, string>
}

/**
 * A fake engine that lists every container in `containers` whatever the label filter (as an engine
 * that ORs label filters may); `removed` lists those removed.
 */
export function leftContainers(containers: readonly ListedContainer[]) {
  const removed: string[] = []
  const docker = {
    listContainers: vi.fn(async (_options: { filters: { label: string[] } }) => [...containers]),
    getContainer: (id: string) => ({ stop: async () => undefined, remove: async () => void removed.push(id) })
  }
  /** The label filter of each listing. */
  const filters = (): string[][] => docker.listContainers.mock.calls.map(([options]) => options.filters.label)
  return { docker, removed, filters }
}
