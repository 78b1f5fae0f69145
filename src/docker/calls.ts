// Every Engine API call goes through here: one timeout for calls that should answer at once, the run's
// cancel for everything (dockerode's abortSignal really ends the request, so a pull or an image build
// stops on SIGINT), and one way of turning what the engine said into a message for the user.
import type Dockerode from 'dockerode'
import { CancelledError, EngineLostError, ReleaseError, errorMessage } from '../errors.js'

/** Engine calls that should answer at once get this long before the run gives up on the engine. */
const ENGINE_CALL_TIMEOUT_MS = 60_000

export interface CallOptions {
  /** How long the engine may take to answer; null: as long as it takes (streams). */
  readonly timeoutMs?: number | null
  /** false for the cleanup that cancelling starts: it must run after the cancel. */
  readonly cancellable?: boolean
}

export function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode
}

/** The engine's own message: dockerode puts the JSON body's `message` into `json`. */
function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } }).json
  return json?.message?.trim() || errorMessage(err)
}

const CONNECTION_ERRORS = ['ECONNRESET', 'ECONNREFUSED', 'ENOENT', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code
  return (code !== undefined && CONNECTION_ERRORS.includes(code)) || /socket hang up/.test(errorMessage(err))
}

/** Resolves to null when the engine answers 404 (no such object), else as the request does. */
export async function unlessMissing<T>(request: Promise<T>): Promise<T | null> {
  try {
    return await request
  } catch (err) {
    if (statusCode(err) === 404) return null
    throw err
  }
}

export class EngineCalls {
  constructor(
    readonly docker: Dockerode,
    /** The run's cancel. */
    private readonly cancel: AbortSignal
  ) {}

  /** Runs one request with the signal it must pass to dockerode as `abortSignal`. */
  async call<T>(
    operation: string,
    request: (abortSignal: AbortSignal) => Promise<T>,
    options: CallOptions = {}
  ): Promise<T> {
    const cancellable = options.cancellable ?? true
    if (cancellable && this.cancel.aborted) throw new CancelledError(`cancelled before ${operation}`)
    const timeoutMs = options.timeoutMs === undefined ? ENGINE_CALL_TIMEOUT_MS : options.timeoutMs
    const timeout = timeoutMs === null ? null : AbortSignal.timeout(timeoutMs)
    const signals = [...(cancellable ? [this.cancel] : []), ...(timeout ? [timeout] : [])]
    try {
      return await request(AbortSignal.any(signals))
    } catch (err) {
      if (timeout?.aborted) {
        throw new EngineLostError(
          `the Docker engine did not answer ${operation} within ${timeoutMs! / 1000} s`,
          {
            fix: 'Is dockerd overloaded or hung? Check its log'
          }
        )
      }
      throw this.failure(operation, err, cancellable)
    }
  }

  /** What a failed request (or a stream that failed later) tells the user. */
  failure(operation: string, err: unknown, cancellable = true): Error {
    if (err instanceof ReleaseError) return err
    if (cancellable && this.cancel.aborted) return new CancelledError(`cancelled while ${operation}`)
    if (isConnectionError(err)) {
      return new EngineLostError(`lost the Docker engine while ${operation}: ${errorMessage(err)}`, {
        fix: 'Was dockerd stopped or restarted?'
      })
    }
    return new ReleaseError(`${operation} failed: ${engineMessage(err)}`, { cause: err })
  }
}

/** A dockerode method whose typings lack the `abortSignal` option it takes (version, info, ping), bound and typed with it. */
export function withAbortSignal<R>(
  method: (...args: never[]) => unknown,
  owner: object
): (options: { abortSignal: AbortSignal }) => Promise<R> {
  return method.bind(owner) as unknown as (options: { abortSignal: AbortSignal }) => Promise<R>
}

/**
 * A GET the engine answers with JSON (or a stream), for the endpoints whose dockerode method takes no
 * abortSignal (image inspect and export, network inspect).
 */
export function get<T>(
  docker: Dockerode,
  path: string,
  abortSignal: AbortSignal,
  options: { readonly isStream?: boolean } = {}
): Promise<T> {
  return new Promise((resolve, reject) =>
    docker.modem.dial(
      {
        path,
        method: 'GET',
        isStream: options.isStream ?? false,
        statusCodes: { 200: true, 404: 'no such object', 500: 'server error' },
        abortSignal
      },
      (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as T))
    )
  )
}
