// Reading tar streams member by member (image exports, archives copied out of containers), with
// tar-stream: the parser's own failure reported, the source let go whatever happens.
import type { Readable } from 'node:stream'
import tar from 'tar-stream'

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
