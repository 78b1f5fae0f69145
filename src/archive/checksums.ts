// SHA256SUMS / SHA512SUMS and per-file .sha256 / .sha512, as krel publishes them, in the format
// `sha256sum -c` reads: "<hex>  <name>".
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface Digests {
  readonly sha256: string
  readonly sha512: string
}

export interface FileDigests extends Digests {
  readonly name: string
}

/** Both digests from one read of the file. */
export async function fileDigests(path: string): Promise<Digests> {
  const sha256 = createHash('sha256')
  const sha512 = createHash('sha512')
  for await (const chunk of createReadStream(path)) {
    sha256.update(chunk as Buffer)
    sha512.update(chunk as Buffer)
  }
  return { sha256: sha256.digest('hex'), sha512: sha512.digest('hex') }
}

/**
 * Writes the lists and per-file checksums of the files `names` in `dir`, with the digests `digestsOf`
 * gives (by default read from the file; the release writer knows those of tarballs it wrote before).
 */
export async function writeChecksums(
  dir: string,
  names: readonly string[],
  digestsOf: (name: string) => Promise<Digests> = name => fileDigests(join(dir, name))
): Promise<FileDigests[]> {
  const all = await Promise.all([...names].sort().map(async name => ({ name, ...(await digestsOf(name)) })))
  const line = (hex: string, name: string): string => `${hex}  ${name}\n`
  await Promise.all([
    writeFile(join(dir, 'SHA256SUMS'), all.map(d => line(d.sha256, d.name)).join('')),
    writeFile(join(dir, 'SHA512SUMS'), all.map(d => line(d.sha512, d.name)).join('')),
    ...all.flatMap(d => [
      writeFile(join(dir, `${d.name}.sha256`), line(d.sha256, d.name)),
      writeFile(join(dir, `${d.name}.sha512`), line(d.sha512, d.name))
    ])
  ])
  return all
}
