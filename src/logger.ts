// What stages log through: the action maps it onto @actions/core, the CLI onto the terminal.

/** A problem at a place in the source tree (a compiler error). */
export interface Annotation {
  readonly message: string
  /** Relative to the workspace (or the tree, outside GitHub). */
  readonly file: string
  readonly line: number
  readonly column?: number
}

export interface Logger {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
  /** Marks the problem at its place in the source, where the host can show it (GitHub annotations). */
  annotate(annotation: Annotation): void
  /** A secret that must never appear in the log. */
  mask(secret: string): void
  /** Runs `fn` inside one collapsible log group. */
  group<T>(title: string, fn: () => Promise<T>): Promise<T>
}

/** Plain terminal logger for the CLI; debug lines only with verbose. */
export class ConsoleLogger implements Logger {
  constructor(private readonly verbose: boolean) {}
  info(message: string): void {
    process.stdout.write(`${message}\n`)
  }
  warning(message: string): void {
    process.stderr.write(`warning: ${message}\n`)
  }
  debug(message: string): void {
    if (this.verbose) process.stderr.write(`debug: ${message}\n`)
  }
  /** The terminal shows the compiler's own line already. */
  annotate(): void {}
  /** Nothing secret is printed on the CLI; there is no log service to mask it in. */
  mask(): void {}
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    process.stdout.write(`==> ${title}\n`)
    return fn()
  }
}
