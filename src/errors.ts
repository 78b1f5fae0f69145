// The few kinds of failure the code tells apart. Every one carries the user's message and, where one
// is known, what to do about it; everything else is a plain ReleaseError.

export interface ReleaseErrorOptions extends ErrorOptions {
  /** What the user can do about it, appended to the message. */
  readonly fix?: string
}

/** A failure of the run, told to the user as it is. */
export class ReleaseError extends Error {
  readonly fix: string | undefined

  constructor(problem: string, options: ReleaseErrorOptions = {}) {
    super(options.fix ? `${problem}. ${options.fix}` : problem, options)
    this.name = new.target.name
    this.fix = options.fix
  }
}

/**
 * Bad input or environment, found before any container starts (the CLI exits 2). Parsers that do not
 * know the input's name leave `input` unset; the config names it.
 */
export class InputError extends ReleaseError {
  readonly input: string | undefined

  constructor(problem: string, options: ReleaseErrorOptions & { readonly input?: string } = {}) {
    super(options.input ? `input '${options.input}': ${problem}` : problem, options)
    this.input = options.input
  }
}

/** The engine connection itself failed (dockerd stopped, restarted or unreachable), not one request. */
export class EngineLostError extends ReleaseError {}

/** The run was cancelled (SIGINT/SIGTERM): nothing new may start on the engine. */
export class CancelledError extends ReleaseError {}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err))
