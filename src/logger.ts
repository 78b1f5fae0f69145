// What stages log through: the action maps it onto @actions/core, the CLI onto the terminal.

export interface Logger {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
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
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    process.stdout.write(`==> ${title}\n`)
    return fn()
  }
}
