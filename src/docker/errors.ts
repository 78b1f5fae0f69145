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

export function operationFailed(operation: string, err: unknown): DockerOperationError {
  return new DockerOperationError(`${operation} failed: ${engineMessage(err)}`)
}
