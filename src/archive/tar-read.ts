// Reading tar streams member by member (image exports, archives copied out of containers), with
// tar-stream: the parser's own failure reported, the source let go whatever happens.
import { writeFile } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import tar from 'tar-stream'
import { ReleaseError } from '../errors.js'
import type { Logger } from '../logger.js'
import { startProgress } from '../progress.js'

export type TarEntry = tar.ExtractEvents['entry'][1]

/** Reads a tar stream member by member; whatever `onEntry` leaves unread is skipped. */
export async function readTar(
  source: NodeJS.ReadableStream,
  onEntry: (entry: TarEntry) => Promise<void>
): Promise<void> {
  const extract = tar.extract()
  // The tar's own failure (a truncated stream) says more than the "destroyed" an entry reader gets.
  let tarFailure: Error | undefined
  extract.on('error', err => (tarFailure ??= err))
  source.on('error', err => extract.destroy(err))
  source.pipe(extract)
  try {
    for await (const entry of extract) {
      await onEntry(entry)
      entry.resume()
    }
  } catch (err) {
    throw tarFailure ?? err
  } finally {
    // Ended already unless the read failed; then the engine's response or the file is let go.
    ;(source as Readable).destroy()
  }
}

/**
 * Writes the content of the one file member of a tar stream to `destination`, streamed; with
 * `progress`, reports it in the log while it takes long.
 */
export async function writeOnlyFile(
  archive: NodeJS.ReadableStream,
  destination: string,
  operation: string,
  progress?: { readonly what: string; readonly log: Logger }
): Promise<void> {
  let written = false
  // readTar lets go of the engine's response even when writing fails (a full disk): the engine
  // keeps a copy that is still open, and will not remove the container.
  await readTar(archive, async entry => {
    if (entry.header.type !== 'file' || written) return
    const content = entry as AsyncIterable<Buffer>
    const meter = progress && startProgress(progress.what, progress.log, { total: entry.header.size })
    try {
      await writeFile(destination, meter ? meter.count(content) : content)
    } finally {
      meter?.stop()
    }
    written = true
  })
  if (!written) throw new ReleaseError(`${operation}: the engine's archive held no file`)
}
