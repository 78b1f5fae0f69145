// Progress of a long transfer in the log: `<what>: 412 MiB of 1.2 GiB, 38 MiB/s` at a steady
// interval while it runs. A step shorter than the interval logs nothing; the caller logs the outcome.
//
//   const progress = startProgress('build cache upload', log, { total: bytes })
//   try {
//     await pipeline(source, progress.counter(), destination)
//     // or: for await (const chunk of progress.count(source)) …; or progress.add(n) / set(n)
//   } finally {
//     progress.stop()
//   }
import { Transform } from 'node:stream'
import type { Logger } from './logger.js'

/** What a transfer moved (a cache entry's archive, restored or saved) and how long it took. */
export interface Transfer {
  readonly bytes: number
  readonly seconds: number
}

/** The seconds since `started`, a performance.now() reading. */
export const secondsSince = (started: number): number => (performance.now() - started) / 1000

/** How often a long step reports: often enough to show it moves, rarely enough to read the log. */
export const PROGRESS_INTERVAL_MS = 10_000

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 1536 → "1.5 KiB"; three significant digits at most, whole numbers from 100 up. */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2
  return `${Number(value.toFixed(digits))} ${UNITS[unit]}`
}

export interface Progress {
  /** Counts bytes that moved. */
  add(bytes: number): void
  /** Sets the bytes moved so far, and the total when it became known (an engine's pull reports both). */
  set(bytes: number, total?: number): void
  /** A pass-through stream that counts what flows through it. */
  counter(): Transform
  /**
   * The chunks of `source`, counted as they are read. A consumer that stops early (its write failed)
   * ends `source` as if it read it directly; Readable.from() makes it a stream where one is needed.
   */
  count(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer>
  /** Ends the reports; safe to call more than once. */
  stop(): void
  /** Bytes counted so far. */
  readonly bytes: number
}

/**
 * Starts reporting `what` to `log.info` every `intervalMs`: bytes so far, of the total when known,
 * and the rate over the last interval.
 */
export function startProgress(
  what: string,
  log: Pick<Logger, 'info'>,
  options: { readonly total?: number; readonly intervalMs?: number } = {}
): Progress {
  const intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS
  let total = options.total
  let bytes = 0
  let reported = 0
  const timer = setInterval(() => {
    const rate = ((bytes - reported) * 1000) / intervalMs
    reported = bytes
    const of = total === undefined ? '' : ` of ${formatBytes(total)}`
    log.info(`${what}: ${formatBytes(bytes)}${of}, ${formatBytes(rate)}/s`)
  }, intervalMs)
  // A report never keeps the process alive.
  timer.unref()
  const counter = (): Transform =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length
        done(null, chunk)
      }
    })
  return {
    add(n) {
      bytes += n
    },
    set(n, newTotal) {
      bytes = n
      if (newTotal !== undefined) total = newTotal
    },
    counter,
    async *count(source) {
      for await (const chunk of source) {
        bytes += chunk.length
        yield chunk
      }
    },
    stop() {
      clearInterval(timer)
    },
    get bytes() {
      return bytes
    }
  }
}
