// One exec session with its standard streams carried over the API connection, as `docker exec -i`
// does: stdin goes in, stdout comes out with back-pressure, stderr apart. Docker 20.10 carries an
// exec's streams several times faster than an attached container's (about 150 against 20 MB/s here).
import { Transform, type Duplex, type Readable, type TransformCallback, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout } from 'node:timers/promises'
import type Dockerode from 'dockerode'
import pRetry from 'p-retry'
import { ReleaseError } from '../errors.js'
import type { Logger } from '../logger.js'

/** A command's standard streams carried over the API connection. */
export interface PipedStreams {
  readonly stdin: Readable
  /** Receives the command's stdout with back-pressure; ended when the command's output ends. */
  readonly stdout: Writable
  readonly onStderr: (chunk: Buffer) => void
}

/** How an exec session ended: the command ran and exited, or the engine never started it. */
export type ExecOutcome =
  | { readonly started: true; readonly exitCode: number }
  | { readonly started: false; readonly message: string }

/**
 * The byte the exec's shell writes before it becomes the command: proof that the command started.
 * An engine that cannot start an exec (runc's "read init-p: connection reset by peer" under load)
 * says so as text in the stream itself, which must not reach the command's reader (rsync takes it
 * for a protocol version). Until this byte, nothing goes in or out.
 */
const STARTED = 0x06
const EXEC_POLL_MS = 20
/** An exec the engine could not start is a passing fault of its runtime: tried this many times more. */
const EXEC_START_RETRIES = 2
const EXEC_START_RETRY_MS = 500

/** The engine did not start an exec session (it said why in the session's stream). */
class ExecNotStartedError extends ReleaseError {}

/** `command` behind a shell that first writes STARTED. */
export function markedCommand(command: readonly string[]): string[] {
  const octal = STARTED.toString(8).padStart(3, '0')
  return ['sh', '-c', `printf '\\${octal}' && exec "$@"`, 'sh', ...command]
}

/**
 * The stdout frames of the engine's multiplexed stream (an 8-byte header per frame: stream, 3 zero
 * bytes, big-endian length) after the STARTED byte, with back-pressure; stderr frames go to
 * `onStderr`. What comes before STARTED is held back: the engine's message when it started nothing.
 */
class ExecFrames extends Transform {
  private pending: Buffer = Buffer.alloc(0)
  private readonly heldStdout: Buffer[] = []
  private readonly heldStderr: Buffer[] = []
  started = false

  constructor(
    private readonly onStderr: (chunk: Buffer) => void,
    private readonly onStarted: () => void
  ) {
    super()
  }

  /** What came instead of the command's output: the engine's reason for not starting it. */
  get heldText(): string {
    return Buffer.concat([...this.heldStdout, ...this.heldStderr])
      .toString()
      .trim()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk
    while (this.pending.length >= 8) {
      const end = 8 + this.pending.readUInt32BE(4)
      if (this.pending.length < end) break
      this.frame(this.pending[0] === 2 ? 'stderr' : 'stdout', this.pending.subarray(8, end))
      this.pending = this.pending.subarray(end)
    }
    done()
  }

  private frame(stream: 'stdout' | 'stderr', payload: Buffer): void {
    if (!this.started) {
      if (stream === 'stderr' || payload[0] !== STARTED) {
        // The command's stderr may come before the marker on its other pipe: kept for when it does.
        ;(stream === 'stderr' ? this.heldStderr : this.heldStdout).push(payload)
        return
      }
      this.started = true
      this.heldStderr.splice(0).forEach(held => this.onStderr(held))
      this.onStarted()
      payload = payload.subarray(1)
    }
    if (stream === 'stderr') this.onStderr(payload)
    else if (payload.length > 0) this.push(payload)
  }
}

/** An exec's exit code: its output can end a moment before the engine records that it exited. */
async function exitCodeOf(exec: Dockerode.Exec, abortSignal: AbortSignal): Promise<number> {
  for (;;) {
    const { Running, ExitCode } = await exec.inspect({ abortSignal })
    if (!Running) return ExitCode ?? -1
    await setTimeout(EXEC_POLL_MS, undefined, { signal: abortSignal })
  }
}

/**
 * Runs `command` as an exec session of the running `container`. stdin is read only once the command
 * has started, so an exec the engine could not start consumed nothing and may be tried again; stdout
 * is ended only when the command's output ends.
 */
export async function pipeExec(
  container: Dockerode.Container,
  command: readonly string[],
  user: string | undefined,
  streams: PipedStreams,
  abortSignal: AbortSignal
): Promise<ExecOutcome> {
  const exec = await container.exec({
    Cmd: markedCommand(command),
    User: user,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    abortSignal
  })
  const attached = (await exec.start({ hijack: true, stdin: true, abortSignal })) as Duplex
  const frames = new ExecFrames(streams.onStderr, () => {
    // Ending the session's writing half (when stdin ends, or breaks off) closes the command's stdin.
    streams.stdin.pipe(attached)
    if (streams.stdin.closed) attached.end()
    else streams.stdin.once('close', () => attached.end())
  })
  try {
    await pipeline(attached, frames, streams.stdout, { end: false })
  } finally {
    attached.destroy()
  }
  if (!frames.started) return { started: false, message: frames.heldText || 'no message from the engine' }
  streams.stdout.end()
  return { started: true, exitCode: await exitCodeOf(exec, abortSignal) }
}

/**
 * Runs `session` (a pipeExec) and, while the engine does not start it, runs it again (it has read no
 * stdin then), with a warning that quotes the engine; returns the command's exit code.
 */
export async function retriedExec(
  session: () => Promise<ExecOutcome>,
  what: string,
  log: Logger
): Promise<number> {
  return pRetry(
    async () => {
      const outcome = await session()
      if (!outcome.started)
        throw new ExecNotStartedError(`the engine could not start ${what}: ${outcome.message}`)
      return outcome.exitCode
    },
    {
      retries: EXEC_START_RETRIES,
      minTimeout: EXEC_START_RETRY_MS,
      shouldRetry: ({ error }) => error instanceof ExecNotStartedError,
      onFailedAttempt: ({ error, retriesLeft }) => {
        if (error instanceof ExecNotStartedError && retriesLeft > 0)
          log.warning(`${error.message}; trying again`)
      }
    }
  )
}
