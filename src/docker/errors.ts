// Engine failures rethrown with the operation and object named, carrying the engine's message.

export class DockerOperationError extends Error {}

export function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode
}

/** The engine's own message: dockerode puts the JSON body's `message` into `json`. */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } }).json
  return json?.message?.trim() || (err as Error).message
}

/** The engine connection itself failed (dockerd stopped, restarted or unreachable), not a request. */
export class EngineLostError extends Error {}

const CONNECTION_ERRORS = ['ECONNRESET', 'ECONNREFUSED', 'ENOENT', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']

export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code
  return (
    (code !== undefined && CONNECTION_ERRORS.includes(code)) || /socket hang up/.test((err as Error).message)
  )
}

export function operationFailed(operation: string, err: unknown): Error {
  if (err instanceof EngineLostError || err instanceof CancelledError) return err
  if (isConnectionError(err)) {
    return new EngineLostError(
      `lost the Docker engine while ${operation}: ${(err as Error).message}. Was dockerd stopped or restarted?`
    )
  }
  return new DockerOperationError(`${operation} failed: ${engineMessage(err)}`)
}

/** The run was cancelled (SIGINT/SIGTERM): nothing new may start on the engine. */
export class CancelledError extends Error {}

/** Engine calls that should answer at once get this long before the run gives up on the engine. */
export const ENGINE_CALL_TIMEOUT_MS = 60_000

/** Fails `call` when the engine does not answer within the timeout, naming the operation. */
export async function withTimeout<T>(
  operation: string,
  call: Promise<T>,
  ms = ENGINE_CALL_TIMEOUT_MS
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new EngineLostError(`the Docker engine did not answer ${operation} within ${ms / 1000} s`)),
      ms
    )
  })
  try {
    return await Promise.race([call, timeout])
  } finally {
    clearTimeout(timer)
  }
}
