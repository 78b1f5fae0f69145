// SHA256SUMS / SHA512SUMS and per-file .sha256 / .sha512, as krel publishes them, in the format
// `sha256sum -c` reads: "<hex>  <name>".
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface FileDigests {
  readonly name: string
  readonly sha256: string
  readonly sha512: string
}

/** Both digests from one read of the file. */
async function digests(dir: string, name: string): Promise<FileDigests> {
  const sha256 = createHash('sha256')
  const sha512 = createHash('sha512')
  for await (const chunk of createReadStream(join(dir, name))) {
    sha256.update(chunk as Buffer)
    sha512.update(chunk as Buffer)
  }
  return { name, sha256: sha256.digest('hex'), sha512: sha512.digest('hex') }
}

export async function writeChecksums(dir: string, names: readonly string[]): Promise<FileDigests[]> {
  const all = await Promise.all([...names].sort().map(name => digests(dir, name)))
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
